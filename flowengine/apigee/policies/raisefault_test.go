package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func TestRaiseFault(t *testing.T) {
	const defaultFault = "RaiseFault|steps.raisefault.RaiseFault|500|Raising fault. Fault name : P-1"
	cases := []msgCase{{
		name:   "no FaultResponse: the default fault JSON",
		policy: `<DisplayName>x</DisplayName>`,
		fault:  defaultFault,
		want:   map[string]string{"faultresponse": "<nil>", "request": "GET /v1/things?a=1\n\n"},
	}, {
		name:   "status and reason without a payload keep Apigee's fault body",
		policy: `<FaultResponse><Set><StatusCode>403</StatusCode><ReasonPhrase>Forbidden</ReasonPhrase></Set></FaultResponse>`,
		fault:  "RaiseFault|steps.raisefault.RaiseFault|403|Raising fault. Fault name : P-1",
		want: map[string]string{"faultresponse": "403 Forbidden\nContent-Type: application/json\n\n" +
			`{"fault":{"faultstring":"Raising fault. Fault name : P-1","detail":{"errorcode":"steps.raisefault.RaiseFault"}}}`},
	}, {
		name: "payload sees the fault response as message",
		policy: `<FaultResponse><AssignVariable><Name>custom.detail</Name><Value>not yours</Value></AssignVariable>
			<Set><StatusCode>403</StatusCode><ReasonPhrase>Forbidden</ReasonPhrase>
			<Payload contentType="application/problem+json" variablePrefix="@" variableSuffix="#">
			{"title":"@message.reason.phrase#","status":"@message.status.code#","detail":"@custom.detail#","instance":"@request.path#"}
			</Payload></Set></FaultResponse>`,
		fault: "RaiseFault|steps.raisefault.RaiseFault|403|Raising fault. Fault name : P-1",
		want: map[string]string{"faultresponse": "403 Forbidden\nContent-Type: application/problem+json\n\n" +
			`{"title":"Forbidden","status":"403","detail":"not yours","instance":"/v1/things"}`,
			"var:custom.detail": "not yours"},
	}, {
		name:    "headers, copy from the request, payload; status defaults to 500",
		headers: []string{"X-Corr", "c-1"},
		policy: `<FaultResponse><Copy source="request"><Headers><Header name="x-corr"/></Headers></Copy>
			<Add><Headers><Header name="X-Err">{request.verb}</Header></Headers></Add>
			<Set><Payload contentType="text/plain">bad</Payload></Set></FaultResponse>`,
		fault: defaultFault,
		want:  map[string]string{"faultresponse": "500 \nX-Corr: c-1\nX-Err: GET\nContent-Type: text/plain\n\nbad"},
	}, {
		name:   "unresolved variable faults by default",
		policy: `<FaultResponse><Set><Payload>{nope}</Payload></Set></FaultResponse>`,
		fault:  "UnresolvedVariable|steps.raisefault.UnresolvedVariable|500|RaiseFault[P-1]: unable to resolve variable nope",
	}, {
		name:   "unresolved variable is empty when ignored",
		policy: `<FaultResponse><Set><Payload>[{nope}]</Payload><StatusCode>404</StatusCode></Set></FaultResponse><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>`,
		fault:  "RaiseFault|steps.raisefault.RaiseFault|404|Raising fault. Fault name : P-1",
		want:   map[string]string{"faultresponse": "404 \n\n[]"},
	}, {
		name:   "ShortFaultReason",
		policy: `<ShortFaultReason>true</ShortFaultReason>`,
		fault:  "RaiseFault|steps.raisefault.RaiseFault|500|P-1",
	}, {
		name:   "response flow: the target response is left alone",
		seg:    engine.ProxyResponse,
		resp:   engine.NewResponse(),
		policy: `<FaultResponse><Set><StatusCode>502</StatusCode><Payload>x</Payload></Set></FaultResponse>`,
		fault:  "RaiseFault|steps.raisefault.RaiseFault|502|Raising fault. Fault name : P-1",
		want:   map[string]string{"response": "200 \n\n", "faultresponse": "502 \n\nx"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, "RaiseFault") })
	}
}

func TestRaiseFaultLoadErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{{
		"AssignTo is not a FaultResponse element",
		"<RaiseFault name=\"R\">\n <FaultResponse>\n  <AssignTo>x</AssignTo>\n </FaultResponse>\n</RaiseFault>",
		"policies/p.xml:3:3: AP103: unknown element <AssignTo> in <FaultResponse>",
	}, {
		"unknown top-level element",
		"<RaiseFault name=\"R\"><Set/></RaiseFault>",
		"policies/p.xml:1:22: AP103: unknown element <Set> in <RaiseFault>",
	}, {
		"an unclosed reference is literal text, no error",
		"<RaiseFault name=\"R\"><FaultResponse><Set><Payload>{a:b:c:{</Payload></Set></FaultResponse></RaiseFault>",
		"",
	}, {
		"bad function call",
		"<RaiseFault name=\"R\"><FaultResponse><Set><Payload>{escapeJSON(a,b,c)}</Payload></Set></FaultResponse></RaiseFault>",
		`policies/p.xml:1:42: AP402: message template "{escapeJSON(a,b,c)}": col 2: MT004 escapeJSON takes 1 arguments, got 3`,
	}, {
		"bad ShortFaultReason",
		"<RaiseFault name=\"R\"><ShortFaultReason>yes</ShortFaultReason></RaiseFault>",
		`policies/p.xml:1:22: AP401: "yes" is not true or false`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := loadErrors(tc.src); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
