package bundle

import (
	"strings"
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
	checkSteps(pe.File, pe.AllFlows(), pe.AllFaultRules(), map[string]*Policy{"AM-1": {}}, &errs)
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

func TestParseFaultRulesAndTarget(t *testing.T) {
	src := `<TargetEndpoint name="t">
  <FaultRules><FaultRule name="a"><Condition>fault.name = "X"</Condition><Step><Name>RF</Name></Step></FaultRule></FaultRules>
  <DefaultFaultRule name="d"><AlwaysEnforce>true</AlwaysEnforce><Step><Name>AM</Name></Step></DefaultFaultRule>
  <HTTPTargetConnection><LoadBalancer><Server name="s1"><Weight>2</Weight></Server><Server name="s2"><IsFallback>true</IsFallback></Server></LoadBalancer>
    <Path>/base</Path><Properties><Property name="success.codes">2xx</Property></Properties></HTTPTargetConnection>
</TargetEndpoint>`
	root, err := ParseXML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var errs diag.List
	te := parseTargetEndpoint("targets/t.xml", root, &errs)
	if len(errs) != 0 {
		t.Fatalf("errs = %v", errs)
	}
	if len(te.FaultRules) != 1 || te.FaultRules[0].Condition != `fault.name = "X"` || te.FaultRules[0].Steps[0].Policy != "RF" {
		t.Fatalf("fault rules = %+v", te.FaultRules)
	}
	if d := te.DefaultFaultRule; d == nil || !d.AlwaysEnforce || d.Steps[0].Policy != "AM" {
		t.Fatalf("default = %+v", d)
	}
	if len(te.Servers) != 2 || te.Servers[0].Weight != 2 || !te.Servers[1].IsFallback || te.Path != "/base" || te.Properties["success.codes"] != "2xx" {
		t.Fatalf("target = %+v", te)
	}
	for _, bad := range []struct{ src, want string }{
		{`<TargetEndpoint name="t"/>`, "exactly one of"},
		{`<TargetEndpoint name="t"><HTTPTargetConnection/></TargetEndpoint>`, "exactly one of <URL>"},
		{`<TargetEndpoint name="t"><HostedTarget/></TargetEndpoint>`, "unsupported element <HostedTarget>"},
	} {
		root, _ := ParseXML([]byte(bad.src))
		var errs diag.List
		parseTargetEndpoint("targets/t.xml", root, &errs)
		if len(errs) == 0 || !strings.Contains(errs.Error(), bad.want) {
			t.Errorf("%s: errs = %v, want %q", bad.src, errs, bad.want)
		}
	}
}
