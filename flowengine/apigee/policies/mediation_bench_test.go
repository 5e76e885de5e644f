package policies

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// mediationBundle is the typical mediation bundle of the issue: PreFlow
// AssignMessage, a conditional Flow with MatchesPath and verb,
// ExtractVariables from the query, a RouteRule to a target, and a response
// AssignMessage.
var mediationBundle = map[string]string{
	"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>AM-Tag</Name></Step></Request></PreFlow>
  <Flows>
    <Flow name="getThing"><Condition>(proxy.pathsuffix MatchesPath "/things/*") and (request.verb = "GET")</Condition>
      <Request><Step><Name>EV-Query</Name></Step></Request>
      <Response><Step><Name>AM-Resp</Name></Step></Response></Flow>
  </Flows>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="default"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`,
	"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection><URL>https://backend.example.com/base</URL></HTTPTargetConnection></TargetEndpoint>`,
	"apiproxy/policies/AM-Tag.xml": `<AssignMessage name="AM-Tag"><Set><Headers><Header name="x-gateway">flowproc</Header></Headers></Set>
  <IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables><AssignTo createNew="false" transport="http" type="request"/></AssignMessage>`,
	"apiproxy/policies/EV-Query.xml": `<ExtractVariables name="EV-Query"><Source>request</Source><VariablePrefix>q</VariablePrefix>
  <QueryParam name="id"><Pattern>{id}</Pattern></QueryParam><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></ExtractVariables>`,
	"apiproxy/policies/AM-Resp.xml": `<AssignMessage name="AM-Resp"><Set><Headers><Header name="x-thing">{q.id}</Header></Headers></Set>
  <IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></AssignMessage>`,
}

type benchHost struct{ resp *flowengine.Response }

func (h benchHost) RequestBody(context.Context) ([]byte, error) { return nil, nil }
func (h benchHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	return h.resp, nil
}
func (h benchHost) ResponseBody(context.Context) ([]byte, error) { return nil, nil }

// BenchmarkMediation runs one exchange through the typical mediation
// bundle (goal: < 15 µs and < 60 allocations).
func BenchmarkMediation(b *testing.B) {
	dir := b.TempDir()
	for name, data := range mediationBundle {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(data), 0o644)
	}
	p, errs := engine.Load(dir, engine.Options{})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/v1/things/7?id=42&x=1", ID: "rid", BodyKnownEmpty: true,
		Headers: []flowengine.Header{{Name: "accept", Value: "application/json"}, {Name: "user-agent", Value: "bench"}}}
	h := benchHost{resp: &flowengine.Response{Status: 200, Headers: []flowengine.Header{{Name: "content-type", Value: "application/json"}}, BodyKnownEmpty: true, CodeDetails: "via_upstream"}}
	ctx := context.Background()
	o := p.Run(ctx, req, h)
	if o.Kind != flowengine.Forwarded || len(o.SetHeaders)+len(o.AddHeaders) == 0 {
		b.Fatalf("outcome %v %d %v %v", o.Kind, o.Status, o.SetHeaders, o.AddHeaders)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Run(ctx, req, h)
	}
}
