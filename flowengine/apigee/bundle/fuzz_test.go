package bundle

import (
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary proxy, target and policy files to the loader:
// it must report problems, never panic, and never accept a bundle without
// a ProxyEndpoint.
func FuzzLoad(f *testing.F) {
	f.Add(`<ProxyEndpoint name="default"><PreFlow><Request><Step><Name>P</Name></Step></Request></PreFlow><HTTPProxyConnection><BasePath>/</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>t</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		`<TargetEndpoint name="t"><HTTPTargetConnection><URL>http://x</URL></HTTPTargetConnection></TargetEndpoint>`,
		`<AssignMessage name="P"/>`)
	f.Add(`<ProxyEndpoint name="a"><FaultRules><FaultRule><Step><Name>x</Name></Step></FaultRule></FaultRules><DefaultFaultRule><AlwaysEnforce>maybe</AlwaysEnforce></DefaultFaultRule></ProxyEndpoint>`,
		`<TargetEndpoint name="t"><HTTPTargetConnection><LoadBalancer><Server name="a"><Weight>x</Weight></Server></LoadBalancer></HTTPTargetConnection></TargetEndpoint>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><RaiseFault name="P">&a;</RaiseFault>`)
	f.Add(`<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>t</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		`<TargetEndpoint name="t"><HTTPTargetConnection><LoadBalancer><Server name="a"/><MaxFailures>2</MaxFailures><RetryEnabled>false</RetryEnabled><TargetDisableSecs>9</TargetDisableSecs><ServerUnhealthyResponse><ResponseCode>500</ResponseCode></ServerUnhealthyResponse></LoadBalancer>
<HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>5</IntervalInSec><HTTPMonitor><Request><Verb>GET</Verb><Path>/h</Path><Port>81</Port><Header name="a">b</Header></Request><SuccessResponse><ResponseCode>200</ResponseCode><Header name="x">y</Header></SuccessResponse></HTTPMonitor></HealthMonitor></HTTPTargetConnection></TargetEndpoint>`,
		`<AssignMessage name="P"/>`)
	f.Add(`<ProxyEndpoint name="default"/>`,
		`<TargetEndpoint name="t"><HTTPTargetConnection><LoadBalancer><Server name="a"/><MaxFailures>-1</MaxFailures></LoadBalancer><HealthMonitor><TCPMonitor><ConnectTimeoutInSec>0</ConnectTimeoutInSec><Port>70000</Port></TCPMonitor></HealthMonitor></HTTPTargetConnection></TargetEndpoint>`,
		`<AssignMessage name="P"/>`)
	f.Fuzz(func(t *testing.T, proxy, target, policy string) {
		fsys := fstest.MapFS{
			"proxies/default.xml": {Data: []byte(proxy)},
			"targets/t.xml":       {Data: []byte(target)},
			"policies/P.xml":      {Data: []byte(policy)},
		}
		b, errs := Load(fsys)
		if len(errs) == 0 && len(b.Proxies) == 0 {
			t.Fatal("bundle without ProxyEndpoint accepted")
		}
		LoadShared(fstest.MapFS{"sharedflows/default.xml": {Data: []byte(proxy)}, "policies/P.xml": {Data: []byte(policy)}})
	})
}
