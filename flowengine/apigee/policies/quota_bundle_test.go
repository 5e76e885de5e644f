package policies

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// TestQuotaInABundle runs Quota and SpikeArrest through the engine: the
// third request in a minute gets Apigee's QuotaViolation answer (429 and
// the fault JSON) after a FaultRule read the quota variables, and the
// SpikeArrest fault reaches the client as 429 too.
func TestQuotaInABundle(t *testing.T) {
	st, clk := quotaStores(t)
	dir := t.TempDir()
	files := map[string]string{
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow">
    <Request>
      <Step><Name>SA</Name><Condition>request.header.spike = "yes"</Condition></Step>
      <Step><Name>Q</Name></Step>
    </Request>
  </PreFlow>
  <FaultRules>
    <FaultRule name="quota">
      <Step><Name>AM-Fault</Name></Step>
      <Condition>fault.name = "QuotaViolation"</Condition>
    </FaultRule>
  </FaultRules>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
		"policies/Q.xml":  `<Quota name="Q"><Allow count="2"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`,
		"policies/SA.xml": `<SpikeArrest name="SA"><Rate>1pm</Rate></SpikeArrest>`,
		"policies/AM-Fault.xml": `<AssignMessage name="AM-Fault"><Set><Headers>
  <Header name="X-Used">{ratelimit.Q.used.count}</Header><Header name="X-Failed">{ratelimit.Q.failed}</Header>
</Headers></Set></AssignMessage>`,
	}
	for name, data := range files {
		p := filepath.Join(dir, "apiproxy", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, errs := engine.Load(dir, engine.Options{Name: "t", Logger: slog.New(slog.DiscardHandler), State: st})
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	run := func(headers ...flowengine.Header) string {
		return answer(p.Run(context.Background(), &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com",
			Path: "/v1/x", ID: "r", BodyKnownEmpty: true, Headers: headers}, noTargetHost{}))
	}
	for i := 0; i < 2; i++ {
		if got := run(); got != "|200\n\n" {
			t.Fatalf("request %d: %q", i+1, got)
		}
	}
	want := "QuotaViolation|429\ncontent-type: application/json\nx-used: 2\nx-failed: true\n\n" +
		`{"fault":{"faultstring":"Rate limit quota violation. Quota limit  exceeded. Identifier : _default","detail":{"errorcode":"policies.ratelimit.QuotaViolation"}}}`
	if got := run(); got != want {
		t.Errorf("over quota:\n got %q\nwant %q", got, want)
	}
	clk.Add(60e9)
	spike := flowengine.Header{Name: "spike", Value: "yes"}
	if got := run(spike); got != "|200\n\n" {
		t.Fatalf("first spike request: %q", got)
	}
	want = "SpikeArrestViolation|429\ncontent-type: application/json\n\n" +
		`{"fault":{"faultstring":"Spike arrest violation. Allowed rate : MessageRate{capacity=1, period=Minutes}","detail":{"errorcode":"policies.ratelimit.SpikeArrestViolation"}}}`
	if got := run(spike); got != want {
		t.Errorf("spike:\n got %q\nwant %q", got, want)
	}
}
