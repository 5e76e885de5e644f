package bundle

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestParseProxyEndpoint(t *testing.T) {
	src := `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>AM-1</Name></Step></Request></PreFlow>
  <Flows><Flow name="get"><Condition>request.verb = "GET"</Condition>
    <Response><Step><Name>Missing</Name><Condition>x</Condition></Step></Response></Flow></Flows>
  <HTTPProxyConnection><BasePath>/v1/x</BasePath><VirtualHost>secure</VirtualHost></HTTPProxyConnection>
  <RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>
  <Bogus/>
</ProxyEndpoint>`
	root, err := ParseXML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var errs diag.List
	pe := parseProxyEndpoint("proxies/default.xml", root, &errs)
	checkSteps(pe, map[string]*Policy{"AM-1": {}}, &errs)
	if pe.Name != "default" || pe.BasePath != "/v1/x" || len(pe.VirtualHosts) != 1 {
		t.Fatalf("pe = %+v", pe)
	}
	if len(pe.Flows) != 1 || pe.Flows[0].Condition != `request.verb = "GET"` || pe.Flows[0].Response[0].Condition != "x" {
		t.Fatalf("flows = %+v", pe.Flows)
	}
	if len(pe.RouteRules) != 1 || pe.RouteRules[0].TargetEndpoint != "default" {
		t.Fatalf("routes = %+v", pe.RouteRules)
	}
	if len(errs) != 2 {
		t.Fatalf("errs = %v", errs)
	}
	if e := errs[0]; e.Code != diag.APUnknownElement || e.Line != 7 {
		t.Errorf("first error = %v", e)
	}
	if e := errs[1]; e.Code != diag.APMissingPolicy || e.Line != 4 || e.Col != 15 {
		t.Errorf("second error = %v", e)
	}
}
