package engine

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// BenchmarkLoadBalancedExchange is one exchange through a TargetEndpoint
// with a three-server LoadBalancer (RoundRobin, MaxFailures set) whose
// servers all answer: the happy path of pick and success counting.
func BenchmarkLoadBalancedExchange(b *testing.B) {
	p := writeAndLoad(b, b.TempDir(), map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection><LoadBalancer>
  <Server name="a"/><Server name="b"/><Server name="c"/><MaxFailures>3</MaxFailures></LoadBalancer><Path>/base</Path></HTTPTargetConnection></TargetEndpoint>`,
		"deployment.yaml": "targetServers:\n  a: {host: a.internal}\n  b: {host: b.internal}\n  c: {host: c.internal}\n",
	})
	req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/v1/things/7", ID: "rid", BodyKnownEmpty: true}
	h := &fakeHost{resp: &flowengine.Response{Status: 200, BodyKnownEmpty: true, CodeDetails: "via_upstream"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if o := p.Run(ctx, req, h); o.Kind != flowengine.Forwarded {
			b.Fatal(o.Kind, o.Status, string(o.Body))
		}
	}
}
