package engine

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// TestLocalTargetConnection chains two proxies in process: the front
// proxy's target request runs the back proxy's flows, the back proxy's
// forward is the exchange's forward, and its response flows and answer
// come back as the front proxy's target response.
func TestLocalTargetConnection(t *testing.T) {
	files := map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><PreFlow><Request><Step><Name>Front</Name></Step></Request>
  <Response><Step><Name>FrontResp</Name></Step></Response></PreFlow>
  <HTTPProxyConnection><BasePath>/front</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>local</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"apiproxy/targets/local.xml":                          `<TargetEndpoint name="local"><LocalTargetConnection><APIProxy>back</APIProxy></LocalTargetConnection></TargetEndpoint>`,
		"apiproxy/policies/Front.xml":                         pol("Front", `<Set name="request.header.x-front">1</Set>`),
		"apiproxy/policies/FrontResp.xml":                     pol("FrontResp", `<Set name="response.header.x-seen">{response.header.x-back}</Set>`),
		"chained-proxies/back/apiproxy/back.xml":              `<APIProxy name="back"/>`,
		"chained-proxies/back/apiproxy/proxies/default.xml":   `<ProxyEndpoint name="default"><PreFlow><Request><Step><Name>Back</Name></Step></Request><Response><Step><Name>BackResp</Name></Step></Response></PreFlow><HTTPProxyConnection><BasePath>/back</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"chained-proxies/back/apiproxy/targets/default.xml":   `<TargetEndpoint name="default"><HTTPTargetConnection><URL>http://origin.internal/api</URL></HTTPTargetConnection></TargetEndpoint>`,
		"chained-proxies/back/apiproxy/policies/Back.xml":     pol("Back", `<Set name="request.header.x-back-saw">{request.header.x-front}</Set>`),
		"chained-proxies/back/apiproxy/policies/BackResp.xml": pol("BackResp", `<Set name="response.header.x-back">yes</Set>`),
	}
	p := project(t, files)
	h := &fakeHost{resp: &flowengine.Response{Status: 200, CodeDetails: "via_upstream", BodyKnownEmpty: true}}
	o := run(p, h, "GET", "/front/items?x=1")
	if h.fwd == nil {
		t.Fatalf("no forward: %d %s", o.Status, o.Body)
	}
	if f := h.fwd; f.Authority != "origin.internal" || f.Path != "/api/items?x=1" || !hasHeader(f.SetHeaders, "x-front", "1") || !hasHeader(f.SetHeaders, "x-back-saw", "1") {
		t.Errorf("forward %s%s %v", f.Authority, f.Path, f.SetHeaders)
	}
	if header(o, "x-seen") != "yes" || header(o, "x-back") != "yes" {
		t.Errorf("response headers %v %v", o.SetHeaders, o.AddHeaders)
	}
	files["apiproxy/targets/local.xml"] = `<TargetEndpoint name="local"><LocalTargetConnection><APIProxy>nope</APIProxy></LocalTargetConnection></TargetEndpoint>`
	if _, errs := loadFiles(t, files); len(errs) != 1 || errs[0].Code != "AP201" {
		t.Errorf("missing chained proxy: %v", errs)
	}
}
