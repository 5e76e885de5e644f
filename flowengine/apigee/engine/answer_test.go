package engine

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
)

// testAnswer answers the request with 204 and registers a response hook.
type testAnswer struct{}

func init() {
	Register(Kind{Type: "TestAnswer", Prefix: "testanswer", New: func(c *Compiler, p *bundle.Policy) Policy { return testAnswer{} }})
}

func (testAnswer) Execute(r *Run) error {
	r.OnResponse(func(m *Message) { m.SetHeader("x-hook", "ran") })
	m := NewResponse()
	m.SetStatus(204)
	m.SetHeader("x-answer", "yes")
	return r.Answer(m)
}

// TestAnswerSkipsToProxyResponse: an Answer in the proxy request flow
// skips the rest of the request flow and the target, then runs the proxy
// response flow and the response hooks on the answer.
func TestAnswerSkipsToProxyResponse(t *testing.T) {
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>Ans</Name><Condition>request.header.ans = "req"</Condition></Step><Step><Name>After</Name></Step></Request>
    <Response><Step><Name>RespHdr</Name></Step><Step><Name>Ans</Name><Condition>request.header.ans = "resp"</Condition></Step></Response></PreFlow>
  <HTTPProxyConnection><BasePath>/api</BasePath></HTTPProxyConnection>
  <RouteRule name="default"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`,
		"apiproxy/targets/default.xml":  `<TargetEndpoint name="default"><HTTPTargetConnection><URL>https://backend.example.com</URL></HTTPTargetConnection></TargetEndpoint>`,
		"apiproxy/policies/Ans.xml":     `<TestAnswer name="Ans"/>`,
		"apiproxy/policies/After.xml":   pol("After", `<Set name="flow.after">ran</Set>`),
		"apiproxy/policies/RespHdr.xml": pol("RespHdr", `<Set name="response.header.x-resp">ran</Set><Set name="response.header.x-after">{flow.after}</Set>`),
	})
	h := &fakeHost{}
	o := run(p, h, "GET", "/api/x", "ans", "req")
	if h.fwd != nil {
		t.Errorf("the target was called after the answer")
	}
	if o.Status != 204 || o.Error != "" || header(o, "x-answer") != "yes" || header(o, "x-hook") != "ran" ||
		header(o, "x-resp") != "ran" || header(o, "x-after") != "" {
		t.Errorf("request-side answer: %d %q set=%v add=%v", o.Status, o.Error, o.SetHeaders, o.AddHeaders)
	}
	// An answer from the response flow replaces the target's response.
	h = &fakeHost{}
	o = run(p, h, "GET", "/api/x", "ans", "resp")
	if h.fwd == nil || o.Status != 204 || header(o, "x-answer") != "yes" || header(o, "x-hook") != "ran" {
		t.Errorf("response-side answer: %d %q set=%v add=%v", o.Status, o.Error, o.SetHeaders, o.AddHeaders)
	}
	h = &fakeHost{}
	o = run(p, h, "GET", "/api/x")
	if h.fwd == nil || o.Error != "" || header(o, "x-hook") != "" || header(o, "x-resp") != "ran" || header(o, "x-after") != "ran" {
		t.Errorf("no answer: %d %q set=%v add=%v", o.Status, o.Error, o.SetHeaders, o.AddHeaders)
	}
}
