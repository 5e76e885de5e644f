package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// FuzzMessagePolicies compiles arbitrary AssignMessage, RaiseFault and
// ServiceCallout bodies and runs those that load: nothing may panic, and
// a policy that loads either runs or fails with an error.
func FuzzMessagePolicies(f *testing.F) {
	for _, s := range []string{
		`<Set><Headers><Header name="h">{request.verb}</Header></Headers><Payload contentType="a/b">{"x":1}</Payload></Set>`,
		`<AssignTo createNew="true" type="request">m</AssignTo><Copy source="request"><Headers/><Payload>true</Payload><Path>true</Path></Copy>`,
		`<Remove><Headers/><QueryParams/><FormParams/><Payload>true</Payload></Remove><Add><FormParams><FormParam name="a">{x:1}</FormParam></FormParams></Add>`,
		`<AssignVariable><Name>v</Name><Ref>request.header.a</Ref><Template>{v}</Template><Value>d</Value></AssignVariable>`,
		`<FaultResponse><Set><StatusCode>404</StatusCode><Payload variablePrefix="@" variableSuffix="#">@message.status.code#</Payload></Set></FaultResponse>`,
		`<Request variable="r"><Set><Path>/{request.path}</Path></Set></Request><Response>o</Response><HTTPTargetConnection><URL>http://x/{a}</URL></HTTPTargetConnection>`,
		`<Set><StatusCode>{request.queryparam.a}</StatusCode><Verb>{request.header.v}</Verb></Set><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>`,
	} {
		for _, root := range []string{"AssignMessage", "RaiseFault", "ServiceCallout"} {
			f.Add(root, s)
		}
	}
	f.Fuzz(func(t *testing.T, root, body string) {
		switch root {
		case "AssignMessage", "RaiseFault", "ServiceCallout":
		default:
			return
		}
		m := upstream.NewMock()
		m.AnswerStatus("P", 200, nil, []byte("ok"))
		p, errs := engine.TestPolicy(`<`+root+` name="P">`+body+`</`+root+`>`, nil, m)
		if p == nil {
			if len(errs) == 0 {
				t.Fatal("no policy and no error")
			}
			return
		}
		for _, seg := range []engine.Segment{engine.ProxyRequest, engine.ProxyResponse} {
			r := newRun(seg, "POST", "/a/b?a=1&b=2", "a=1&b=2", engine.NewResponse(),
				"Content-Type", "application/x-www-form-urlencoded", "V", "PUT")
			r.SetTestUpstream(m)
			_ = p.Execute(r)
		}
	})
}
