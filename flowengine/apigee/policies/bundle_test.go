package policies

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// noTargetHost is a Host for proxies that never call their target.
type noTargetHost struct{ body []byte }

func (h noTargetHost) RequestBody(context.Context) ([]byte, error) { return h.body, nil }
func (h noTargetHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	return nil, flowengine.ErrBodyUnavailable
}
func (h noTargetHost) ResponseBody(context.Context) ([]byte, error) {
	return nil, flowengine.ErrBodyUnavailable
}

// loadBundle writes files (path → content) under apiproxy/ in a temp
// directory and loads the project with side-call client up.
func loadBundle(t *testing.T, up upstream.Client, files map[string]string) *engine.Project {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, "apiproxy", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, errs := engine.Load(dir, engine.Options{Name: "t", Upstream: up, Logger: slog.New(slog.DiscardHandler)})
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	return p
}

// answer renders an outcome: error, status, the content type and x-
// headers it sets or adds, and the body.
func answer(o *flowengine.Outcome) string {
	var b strings.Builder
	b.WriteString(o.Error + "|" + strconv.Itoa(o.Status) + "\n")
	for _, h := range append(append([]flowengine.Header(nil), o.SetHeaders...), o.AddHeaders...) {
		if ln := strings.ToLower(h.Name); ln == "content-type" || strings.HasPrefix(ln, "x-") {
			b.WriteString(ln + ": " + h.Value + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(o.Body)
	return b.String()
}

// TestPoliciesInABundle runs the three policies through the engine: a
// no-target proxy answers from AssignMessage, a RaiseFault's response
// reaches the client after a FaultRule changed it, and a fire-and-forget
// ServiceCallout goes out after the answer.
func TestPoliciesInABundle(t *testing.T) {
	m := upstream.NewMock()
	m.AnswerStatus("SC-Lookup", 200, nil, []byte(`{"user":"ann"}`))
	m.AnswerStatus("SC-Log", 202, nil, nil)
	p := loadBundle(t, m, map[string]string{
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow">
    <Request>
      <Step><Name>SC-Lookup</Name></Step>
      <Step><Name>RF-Deny</Name><Condition>request.queryparam.deny = "yes"</Condition></Step>
      <Step><Name>SC-Log</Name></Step>
    </Request>
    <Response><Step><Name>AM-Answer</Name></Step></Response>
  </PreFlow>
  <FaultRules>
    <FaultRule name="deny">
      <Step><Name>AM-Fault</Name></Step>
      <Condition>fault.name = "RaiseFault"</Condition>
    </FaultRule>
  </FaultRules>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
		"policies/SC-Lookup.xml": `<ServiceCallout name="SC-Lookup"><Request variable="lookupReq"><Set><Verb>GET</Verb></Set></Request>
  <Response>lookup</Response><HTTPTargetConnection><URL>https://users.example.com/u</URL></HTTPTargetConnection></ServiceCallout>`,
		"policies/SC-Log.xml": `<ServiceCallout name="SC-Log"><Request><Set><Verb>POST</Verb><Payload>{request.uri}</Payload></Set></Request>
  <HTTPTargetConnection><URL>https://log.example.com/</URL></HTTPTargetConnection></ServiceCallout>`,
		"policies/RF-Deny.xml":  `<RaiseFault name="RF-Deny"><FaultResponse><Set><StatusCode>403</StatusCode><ReasonPhrase>Forbidden</ReasonPhrase></Set></FaultResponse></RaiseFault>`,
		"policies/AM-Fault.xml": `<AssignMessage name="AM-Fault"><Set><Headers><Header name="X-Fault">{fault.name}</Header></Headers></Set></AssignMessage>`,
		"policies/AM-Answer.xml": `<AssignMessage name="AM-Answer"><Remove><Headers/></Remove>
  <Set><Payload contentType="application/json">{"who":{lookup.content}}</Payload><StatusCode>201</StatusCode></Set></AssignMessage>`,
	})
	run := func(path string) *flowengine.Outcome {
		return p.Run(context.Background(), &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: path, ID: "r1", BodyKnownEmpty: true}, noTargetHost{})
	}

	o := run("/v1/me")
	if got, want := answer(o), "|201\ncontent-type: application/json\n\n{\"who\":{\"user\":\"ann\"}}"; got != want {
		t.Errorf("answer:\n got %q\nwant %q", got, want)
	}
	if n := len(m.Calls()); n != 1 {
		t.Fatalf("%d calls before the answer, want the lookup only", n)
	}
	if o.After == nil {
		t.Fatal("no After hook for the fire-and-forget callout")
	}
	o.After(context.Background())
	calls := m.Calls()
	if len(calls) != 2 || calls[1].ID != "SC-Log" || string(calls[1].Body) != "/v1/me" || calls[1].Method != "POST" {
		t.Errorf("calls after the answer = %+v", calls)
	}

	o = run("/v1/me?deny=yes")
	want := "RaiseFault|403\ncontent-type: application/json\nx-fault: RaiseFault\n\n" +
		`{"fault":{"faultstring":"Raising fault. Fault name : RF-Deny","detail":{"errorcode":"steps.raisefault.RaiseFault"}}}`
	if got := answer(o); got != want {
		t.Errorf("denied:\n got %q\nwant %q", got, want)
	}
}
