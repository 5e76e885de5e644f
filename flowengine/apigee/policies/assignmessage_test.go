package policies

import (
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// msgCase is one table row shared by the AssignMessage, RaiseFault and
// ServiceCallout tests: a policy body, the run it executes on, and the
// expected fault and state. want keys: "request", "response" (dumped
// messages), "msg:<name>" (a message variable), "var:<name>" (a
// variable's string form), "faultresponse" (the fault's Response).
type msgCase struct {
	name    string
	policy  string
	seg     engine.Segment
	method  string
	path    string
	body    string
	headers []string
	resp    *engine.Message
	setup   func(r *engine.Run)
	fault   string
	want    map[string]string
}

func (tc msgCase) run(t *testing.T, root string) *engine.Run {
	t.Helper()
	p := compile(t, `<`+root+` name="P-1">`+tc.policy+`</`+root+`>`)
	seg, method, path := tc.seg, tc.method, tc.path
	if seg == "" {
		seg = engine.ProxyRequest
	}
	if method == "" {
		method = "GET"
	}
	if path == "" {
		path = "/v1/things?a=1"
	}
	r := newRun(seg, method, path, tc.body, tc.resp, tc.headers...)
	if tc.setup != nil {
		tc.setup(r)
	}
	err := p.Execute(r)
	if got := faultOf(err); got != tc.fault {
		t.Fatalf("fault:\n got %q\nwant %q", got, tc.fault)
	}
	for k, want := range tc.want {
		var got string
		switch {
		case k == "request":
			got = dump(r.Request)
		case k == "response":
			got = dump(r.Response)
		case k == "faultresponse":
			var f *engine.Fault
			if !errors.As(err, &f) {
				t.Fatalf("no fault to read the response of")
			}
			got = dump(f.Response)
		case strings.HasPrefix(k, "msg:"):
			m, ok := r.Message(k[4:])
			if !ok {
				got = "<none>"
			} else {
				got = dump(m)
			}
		case strings.HasPrefix(k, "var:"):
			got = get(r, k[4:])
		default:
			t.Fatalf("bad want key %q", k)
		}
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", k, got, want)
		}
	}
	return r
}

func TestAssignMessage(t *testing.T) {
	resp := func() *engine.Message {
		m := engine.NewResponse()
		m.SetHeader("Content-Type", "text/plain")
		m.SetContent([]byte("backend"))
		return m
	}
	cases := []msgCase{{
		name: "set headers, query, verb, path in document order",
		policy: `<Set><Headers><Header name="X-Id">{request.queryparam.a}-{request.verb}</Header></Headers>
			<QueryParams><QueryParam name="b">two</QueryParam></QueryParams><Verb>post</Verb><Path>/v2/x</Path></Set>
			<IgnoreUnresolvedVariables>false</IgnoreUnresolvedVariables>`,
		headers: []string{"Accept", "*/*"},
		want:    map[string]string{"request": "POST /v2/x?a=1&b=two\nAccept: */*\nX-Id: 1-GET\n\n"},
	}, {
		name:    "remove then set keeps the set header",
		policy:  `<Remove><Headers/></Remove><Set><Headers><Header name="h">v</Header></Headers></Set>`,
		headers: []string{"A", "1", "B", "2"},
		want:    map[string]string{"request": "GET /v1/things?a=1\nh: v\n\n"},
	}, {
		name:    "set then remove removes it",
		policy:  `<Set><Headers><Header name="h">v</Header></Headers></Set><Remove><Headers><Header name="H"/><Header name="a"/></Headers></Remove>`,
		headers: []string{"A", "1", "B", "2"},
		want:    map[string]string{"request": "GET /v1/things?a=1\nB: 2\n\n"},
	}, {
		name:    "add header and query param keeps existing values",
		policy:  `<Add><Headers><Header name="A">3</Header></Headers><QueryParams><QueryParam name="a">{request.header.B}</QueryParam></QueryParams></Add>`,
		headers: []string{"A", "1", "B", "2"},
		want:    map[string]string{"request": "GET /v1/things?a=1&a=2\nA: 1\nB: 2\nA: 3\n\n"},
	}, {
		name:   "remove payload and all query params",
		policy: `<Remove><Payload>true</Payload><QueryParams/></Remove>`,
		method: "POST", body: "data",
		want: map[string]string{"request": "POST /v1/things\n\n", "var:request.content": ""},
	}, {
		name:   "JSON payload keeps its braces and sets the content type",
		policy: `<Set><Payload contentType="application/json">{"id":"{request.queryparam.a}","n":{ "x": [] }}</Payload></Set>`,
		want:   map[string]string{"request": "GET /v1/things?a=1\nContent-Type: application/json\n\n{\"id\":\"1\",\"n\":{ \"x\": [] }}"},
	}, {
		name:   "CDATA payload",
		policy: `<Set><Payload contentType="application/json"><![CDATA[{"v":"{request.verb}","lt":"<"}]]></Payload></Set>`,
		want:   map[string]string{"request": "GET /v1/things?a=1\nContent-Type: application/json\n\n{\"v\":\"GET\",\"lt\":\"<\"}"},
	}, {
		name:   "XML payload is the element's markup",
		policy: `<Set><Payload contentType="text/xml"><root a="1"><v>{request.queryparam.a}</v></root></Payload></Set>`,
		want:   map[string]string{"request": "GET /v1/things?a=1\nContent-Type: text/xml\n\n<root a=\"1\"><v>1</v></root>"},
	}, {
		name:   "variablePrefix and variableSuffix",
		policy: `<Set><Payload contentType="application/json" variablePrefix="@" variableSuffix="#">{"a":"@request.queryparam.a#","b":"{x}"}</Payload></Set>`,
		want:   map[string]string{"request": "GET /v1/things?a=1\nContent-Type: application/json\n\n{\"a\":\"1\",\"b\":\"{x}\"}"},
	}, {
		name:   "unresolved variable faults by default",
		policy: `<Set><Headers><Header name="h">{nope.missing}</Header></Headers></Set>`,
		fault:  "UnresolvedVariable|steps.assignmessage.UnresolvedVariable|500|AssignMessage[P-1]: unable to resolve variable nope.missing",
		want:   map[string]string{"request": "GET /v1/things?a=1\n\n"},
	}, {
		name:   "unresolved variable is empty when ignored",
		policy: `<IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables><Set><Headers><Header name="h">[{nope.missing}]</Header></Headers></Set>`,
		want:   map[string]string{"request": "GET /v1/things?a=1\nh: []\n\n"},
	}, {
		name: "AssignVariable Value, Ref, Ref fallback, Template, Template fallback",
		policy: `<AssignVariable><Name>v1</Name><Value>lit {x}</Value></AssignVariable>
			<AssignVariable><Name>v2</Name><Ref>request.queryparam.a</Ref><Value>dflt</Value></AssignVariable>
			<AssignVariable><Name>v3</Name><Ref>nope</Ref><Value>dflt</Value></AssignVariable>
			<AssignVariable><Name>v4</Name><Template>{request.verb}:{v2}</Template></AssignVariable>
			<AssignVariable><Name>v5</Name><Template>{nope}</Template><Value>fb</Value></AssignVariable>
			<AssignVariable><Name>v6</Name><Ref>nope</Ref></AssignVariable>
			<AssignVariable><Name>request.header.X-V</Name><Ref>v2</Ref></AssignVariable>`,
		want: map[string]string{"var:v1": "lit {x}", "var:v2": "1", "var:v3": "dflt", "var:v4": "GET:1", "var:v5": "fb", "var:v6": "<null>",
			"request": "GET /v1/things?a=1\nX-V: 1\n\n"},
	}, {
		name: "AssignVariable PropertySetRef, literal and from a template",
		policy: `<AssignVariable><Name>p1</Name><PropertySetRef>limits.rate</PropertySetRef></AssignVariable>
			<AssignVariable><Name>p2</Name><PropertySetRef>limits.{request.queryparam.k}</PropertySetRef></AssignVariable>
			<AssignVariable><Name>p3</Name><PropertySetRef>limits.none</PropertySetRef><Value>fb</Value></AssignVariable>`,
		path: "/x?k=burst",
		setup: func(r *engine.Run) {
			r.Deployment().Properties = map[string]map[string]string{"limits": {"rate": "10ps", "burst": "5"}}
		},
		want: map[string]string{"var:p1": "10ps", "var:p2": "5", "var:p3": "fb"},
	}, {
		name:   "AssignVariable Template unresolved without Value faults",
		policy: `<AssignVariable><Name>v</Name><Template>{nope}</Template></AssignVariable>`,
		fault:  "UnresolvedVariable|steps.assignmessage.UnresolvedVariable|500|AssignMessage[P-1]: unable to resolve variable nope",
	}, {
		name:   "AssignVariable to a read-only variable",
		policy: `<AssignVariable><Name>proxy.basepath</Name><Value>x</Value></AssignVariable>`,
		fault:  "SetVariableFailed|steps.assignmessage.SetVariableFailed|500|AssignMessage[P-1]: unable to set variable proxy.basepath",
	}, {
		name: "createNew request copies from the current request and leaves it alone",
		policy: `<AssignTo createNew="true" type="request" transport="http">myReq</AssignTo>
			<Copy><Headers><Header name="user-agent"/></Headers></Copy>
			<Set><QueryParams><QueryParam name="address">{request.queryparam.a}</QueryParam></QueryParams><Verb>POST</Verb></Set>`,
		headers: []string{"User-Agent", "ua/1", "Other", "o"},
		want: map[string]string{"msg:myReq": "POST /?address=1\nUser-Agent: ua/1\n\n", "request": "GET /v1/things?a=1\nUser-Agent: ua/1\nOther: o\n\n",
			"var:myReq.header.user-agent": "ua/1", "var:myReq.queryparam.address": "1"},
	}, {
		name:   "AssignTo an existing message variable changes it",
		policy: `<AssignTo createNew="false">myReq</AssignTo><Set><Headers><Header name="h">2</Header></Headers></Set>`,
		setup: func(r *engine.Run) {
			m := engine.NewRequest()
			m.SetHeader("h", "1")
			m.SetHeader("k", "keep")
			r.SetMessage("myReq", m)
		},
		want: map[string]string{"msg:myReq": "GET /\nk: keep\nh: 2\n\n"},
	}, {
		name:   "AssignTo a variable that is not a message",
		policy: `<AssignTo createNew="false">str</AssignTo><Set><Verb>PUT</Verb></Set>`,
		setup:  func(r *engine.Run) { _ = r.Set("str", "text") },
		fault:  "VariableOfNonMsgType|steps.assignmessage.VariableOfNonMsgType|500|AssignMessage[P-1]: value of variable str is not of type Message",
	}, {
		name:   "response flow: copy from the request, set status and reason",
		seg:    engine.ProxyResponse,
		resp:   resp(),
		method: "POST", body: `{"k":1}`,
		headers: []string{"Content-Type", "application/json; charset=utf-8", "X-A", "a1", "X-A", "a2", "X-B", "b"},
		policy: `<Copy source="request"><Headers><Header name="x-a"/></Headers><Payload>true</Payload></Copy>
			<Set><StatusCode>201</StatusCode><ReasonPhrase>Made</ReasonPhrase></Set>`,
		want: map[string]string{"response": "201 Made\nX-A: a1\nX-A: a2\nContent-Type: application/json; charset=utf-8\n\n{\"k\":1}",
			"var:response.status.code": "201", "var:message.reason.phrase": "Made"},
	}, {
		name:    "copy all headers and the path into a new request",
		headers: []string{"A", "1"},
		policy:  `<AssignTo createNew="true" type="request">out</AssignTo><Copy source="request"><Headers/><Path>true</Path><Verb>true</Verb><QueryParams/></Copy>`,
		method:  "DELETE",
		want:    map[string]string{"msg:out": "DELETE /v1/things?a=1\nA: 1\n\n"},
	}, {
		name:   "copy from a missing source faults",
		policy: `<Copy source="nosuch"><Headers/></Copy>`,
		fault:  "UnresolvedVariable|steps.assignmessage.UnresolvedVariable|500|AssignMessage[P-1]: unable to resolve variable nosuch",
	}, {
		name:   "copy from a missing source is skipped when ignored",
		policy: `<Copy source="nosuch"><Headers/></Copy><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>`,
		want:   map[string]string{"request": "GET /v1/things?a=1\n\n"},
	}, {
		name:   "form params: set, add, remove",
		method: "POST", body: "a=1&b=2",
		headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
		policy: `<Set><FormParams><FormParam name="a">9</FormParam></FormParams></Set><Add><FormParams><FormParam name="c">x y</FormParam></FormParams></Add>
			<Remove><FormParams><FormParam name="b"/></FormParams></Remove>`,
		want: map[string]string{"request": "POST /v1/things?a=1\nContent-Type: application/x-www-form-urlencoded\n\na=9&c=x+y"},
	}, {
		name:   "createNew without a name replaces the response",
		seg:    engine.ProxyResponse,
		resp:   resp(),
		policy: `<AssignTo createNew="true" type="response"/><Set><Payload>fresh</Payload></Set>`,
		want:   map[string]string{"response": "200 \n\nfresh"},
	}, {
		name:   "createNew named response in the request flow is a response",
		policy: `<AssignTo createNew="true">response</AssignTo><Set><StatusCode>202</StatusCode><Payload>early</Payload></Set>`,
		want:   map[string]string{"response": "202 \n\nearly", "request": "GET /v1/things?a=1\n\n"},
	}, {
		name: "empty Verb, Path, QueryParams and FormParams change nothing (corpus aps-pagination)",
		seg:  engine.ProxyResponse,
		resp: resp(),
		policy: `<Remove><Headers><Header name='Content-Type'></Header><Header name='Content-Length'></Header></Headers></Remove>
			<Set><Headers><Header name='content-type'>text/xml</Header></Headers><QueryParams/><FormParams/><Verb/><Path/>
			<Payload contentType='text/xml'>{paginatedResponse}</Payload></Set>
			<IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables><AssignTo createNew="false" transport="http" type="response"/>`,
		setup: func(r *engine.Run) { _ = r.Set("paginatedResponse", "<page/>") },
		want:  map[string]string{"response": "200 \nContent-Type: text/xml\n\n<page/>", "request": "GET /v1/things?a=1\n\n"},
	}, {
		name:   "status from a template that is no status",
		seg:    engine.ProxyResponse,
		resp:   resp(),
		policy: `<Set><StatusCode>{request.verb}</StatusCode></Set>`,
		fault:  `error: <Set><StatusCode>: "GET" is not an HTTP status code`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, "AssignMessage") })
	}
}

func TestAssignMessageLoadErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{{
		"unknown element",
		"<AssignMessage name=\"A\">\n  <Set>\n    <Bogus/>\n  </Set>\n</AssignMessage>",
		"policies/p.xml:3:5: AP103: unknown element <Bogus> in <Set>",
	}, {
		"unknown top-level element",
		"<AssignMessage name=\"A\"><Frobnicate/></AssignMessage>",
		"policies/p.xml:1:25: AP103: unknown element <Frobnicate> in <AssignMessage>",
	}, {
		"Verb not allowed in Add",
		"<AssignMessage name=\"A\"><Add><Verb>GET</Verb></Add></AssignMessage>",
		"policies/p.xml:1:30: AP103: unknown element <Verb> in <Add>",
	}, {
		"bad template",
		"<AssignMessage name=\"A\">\n<Set><Headers><Header name=\"h\">{nosuchfn(a)}</Header></Headers></Set></AssignMessage>",
		`policies/p.xml:2:15: AP402: message template "{nosuchfn(a)}": col 2: MT003 unknown template function "nosuchfn"`,
	}, {
		"header without name",
		"<AssignMessage name=\"A\"><Set><Headers><Header>v</Header></Headers></Set></AssignMessage>",
		"policies/p.xml:1:39: AP104: <Header> needs a name attribute",
	}, {
		"AssignTo type",
		"<AssignMessage name=\"A\"><AssignTo type=\"reply\">x</AssignTo></AssignMessage>",
		`policies/p.xml:1:25: AP401: <AssignTo type="reply">: want request or response`,
	}, {
		"ResourceURL unsupported",
		"<AssignMessage name=\"A\"><AssignVariable><Name>v</Name><ResourceURL>jsc://a.js</ResourceURL></AssignVariable></AssignMessage>",
		"policies/p.xml:1:55: AP401: <ResourceURL> (assigning a resource file to a variable) is not supported",
	}, {
		"AssignVariable without Name",
		"<AssignMessage name=\"A\"><AssignVariable><Value>v</Value></AssignVariable></AssignMessage>",
		"policies/p.xml:1:25: AP104: <AssignVariable> needs a <Name>",
	}, {
		"bad StatusCode",
		"<AssignMessage name=\"A\"><Set><StatusCode>abc</StatusCode></Set></AssignMessage>",
		`policies/p.xml:1:30: AP401: <StatusCode>: "abc" is not an HTTP status code`,
	}, {
		"bad IgnoreUnresolvedVariables",
		"<AssignMessage name=\"A\"><IgnoreUnresolvedVariables>maybe</IgnoreUnresolvedVariables></AssignMessage>",
		`policies/p.xml:1:25: AP401: "maybe" is not true or false`,
	}, {
		"payload delimiters",
		"<AssignMessage name=\"A\"><Set><Payload variablePrefix=\"@@\" variableSuffix=\"#\">x</Payload></Set></AssignMessage>",
		`policies/p.xml:1:30: AP401: <Payload> variablePrefix "@@" and variableSuffix "#" must both be one character`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := loadErrors(tc.src); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// BenchmarkAssignMessage runs a typical policy: two templated headers, a
// query parameter and a JSON payload on the request.
func BenchmarkAssignMessage(b *testing.B) {
	p, errs := engine.TestPolicy(`<AssignMessage name="AM"><Set><Headers><Header name="X-Id">{request.queryparam.a}</Header>
		<Header name="X-Verb">{request.verb}</Header></Headers><QueryParams><QueryParam name="b">2</QueryParam></QueryParams>
		<Payload contentType="application/json">{"id":"{request.queryparam.a}","ok":true}</Payload></Set>
		<IgnoreUnresolvedVariables>false</IgnoreUnresolvedVariables></AssignMessage>`, nil, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	// Set replaces what it set the time before, so one run serves every
	// iteration and only the policy is measured.
	r := newRun(engine.ProxyRequest, "GET", "/v1/x?a=1", "", nil, "Accept", "*/*")
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Execute(r); err != nil {
			b.Fatal(err)
		}
	}
}
