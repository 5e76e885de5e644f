package engine

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// BenchmarkEngineCore measures the engine itself (flow choice, conditions,
// variable writes, RouteRule, forward, response) with the test-only policy
// type; BenchmarkMediation in package policies measures real policies.
func BenchmarkEngineCore(b *testing.B) {
	dir := b.TempDir()
	files := map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>Pre</Name></Step></Request></PreFlow>
  <Flows>
    <Flow name="get"><Condition>proxy.pathsuffix MatchesPath "/things/*" and request.verb = "GET"</Condition>
      <Request><Step><Name>Get</Name></Step></Request><Response><Step><Name>Resp</Name></Step></Response></Flow>
  </Flows>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="default"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection><URL>https://backend.example.com/base</URL></HTTPTargetConnection></TargetEndpoint>`,
		"apiproxy/policies/Pre.xml":    pol("Pre", `<Header name="x-pre">yes</Header>`),
		"apiproxy/policies/Get.xml":    pol("Get", `<Set name="flow.id">{request.queryparam.id}</Set>`),
		"apiproxy/policies/Resp.xml":   pol("Resp", `<Header name="x-resp">done</Header>`),
	}
	p := writeAndLoad(b, dir, files)
	req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/v1/things/7?id=42", ID: "rid", BodyKnownEmpty: true,
		Headers: []flowengine.Header{{Name: "accept", Value: "application/json"}, {Name: "user-agent", Value: "bench"}}}
	resp := &flowengine.Response{Status: 200, Headers: []flowengine.Header{{Name: "content-type", Value: "application/json"}}, BodyKnownEmpty: true, CodeDetails: "via_upstream"}
	h := &fakeHost{resp: resp}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		o := p.Run(ctx, req, h)
		if o.Kind != flowengine.Forwarded {
			b.Fatal(o.Kind, o.Status, string(o.Body))
		}
	}
}
