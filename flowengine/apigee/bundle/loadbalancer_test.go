package bundle

import (
	"reflect"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
)

func parseTarget(t *testing.T, conn string) (*TargetEndpoint, diag.List) {
	t.Helper()
	root, err := ParseXML([]byte(`<TargetEndpoint name="t"><HTTPTargetConnection>` + conn + `</HTTPTargetConnection></TargetEndpoint>`))
	if err != nil {
		t.Fatal(err)
	}
	var errs diag.List
	te := parseTargetEndpoint("targets/t.xml", root, &errs)
	return te, errs
}

func TestParseFailover(t *testing.T) {
	tests := []struct {
		name string
		lb   string
		want Failover
	}{
		{"defaults", ``, Failover{RetryEnabled: true, TargetDisableSecs: -1}},
		{"all", `<MaxFailures>3</MaxFailures><RetryEnabled>false</RetryEnabled><TargetDisableSecs>0</TargetDisableSecs>
			<ServerUnhealthyResponse><ResponseCode>500</ResponseCode><ResponseCode>502</ResponseCode></ServerUnhealthyResponse>`,
			Failover{MaxFailures: 3, RetryEnabled: false, TargetDisableSecs: 0, UnhealthyCodes: []int{500, 502}}},
		{"zero max", `<MaxFailures>0</MaxFailures>`, Failover{RetryEnabled: true, TargetDisableSecs: -1}},
	}
	for _, tt := range tests {
		te, errs := parseTarget(t, `<LoadBalancer><Server name="a"/>`+tt.lb+`</LoadBalancer>`)
		if len(errs) > 0 {
			t.Errorf("%s: %v", tt.name, errs)
			continue
		}
		if !reflect.DeepEqual(te.Failover, tt.want) {
			t.Errorf("%s: failover %+v, want %+v", tt.name, te.Failover, tt.want)
		}
	}
}

func TestParseHealthMonitor(t *testing.T) {
	lb := `<LoadBalancer><Server name="a"/><MaxFailures>2</MaxFailures></LoadBalancer>`
	te, errs := parseTarget(t, lb+`<HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>5</IntervalInSec>
  <HTTPMonitor><Request><ConnectTimeoutInSec>2</ConnectTimeoutInSec><SocketReadTimeoutInSec>3</SocketReadTimeoutInSec><Port>8081</Port>
    <IsSSL>false</IsSSL><Verb>head</Verb><Payload contentType="text/plain">ping</Payload><Path>/health</Path><Header name="Authorization">Basic x</Header><IncludeHealthCheckIdHeader>true</IncludeHealthCheckIdHeader></Request>
  <SuccessResponse><ResponseCode>200</ResponseCode><ResponseCode>204</ResponseCode><Header name="ImOK">yes</Header></SuccessResponse></HTTPMonitor>
</HealthMonitor>`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	f := false
	want := &HealthMonitor{Enabled: true, IntervalSec: 5, Line: 1, Col: 123, HTTP: &HTTPMonitor{ConnectTimeoutSec: 2, ReadTimeoutSec: 3, Port: 8081, IsSSL: &f,
		Verb: "HEAD", Path: "/health", Payload: "ping", PayloadType: "text/plain", Headers: [][2]string{{"Authorization", "Basic x"}}, IncludeHealthCheckID: true,
		SuccessCodes: []int{200, 204}, SuccessHeaders: [][2]string{{"ImOK", "yes"}}}}
	if !reflect.DeepEqual(te.HealthMonitor, want) {
		t.Errorf("health monitor\n got %+v %+v\nwant %+v %+v", te.HealthMonitor, te.HealthMonitor.HTTP, want, want.HTTP)
	}
	te, errs = parseTarget(t, lb+`<HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>1</IntervalInSec><TCPMonitor><ConnectTimeoutInSec>1</ConnectTimeoutInSec><Port>80</Port></TCPMonitor></HealthMonitor>`)
	if len(errs) > 0 || te.HealthMonitor.TCP == nil || *te.HealthMonitor.TCP != (TCPMonitor{ConnectTimeoutSec: 1, Port: 80}) {
		t.Errorf("tcp monitor %+v, %v", te.HealthMonitor, errs)
	}
}

// TestParseLoadBalancerErrors: bad values and unknown children are load
// errors at their element, never ignored.
func TestParseLoadBalancerErrors(t *testing.T) {
	lb := func(s string) string { return `<LoadBalancer><Server name="a"/>` + s + `</LoadBalancer>` }
	hm := func(s string) string {
		return lb("") + `<HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>5</IntervalInSec>` + s + `</HealthMonitor>`
	}
	tests := []struct {
		conn string
		code diag.Code
		want string
	}{
		{lb(`<MaxFailures>many</MaxFailures>`), diag.APBadPolicy, "MaxFailures"},
		{lb(`<MaxFailures>-1</MaxFailures>`), diag.APBadPolicy, "MaxFailures"},
		{lb(`<RetryEnabled>yes</RetryEnabled>`), diag.APBadPolicy, "RetryEnabled"},
		{lb(`<TargetDisableSecs>1.5</TargetDisableSecs>`), diag.APBadPolicy, "TargetDisableSecs"},
		{lb(`<ServerUnhealthyResponse><ResponseCode>50x</ResponseCode></ServerUnhealthyResponse>`), diag.APBadPolicy, "ResponseCode"},
		{lb(`<ServerUnhealthyResponse><Code>500</Code></ServerUnhealthyResponse>`), diag.APUnknownElement, "<Code>"},
		{lb(`<ServerUnhealthyResponse/>`), diag.APMissingElement, "without <ResponseCode>"},
		{lb(`<Retries>2</Retries>`), diag.APUnknownElement, "<Retries>"},
		{hm(`<TCPMonitor><Port>x</Port></TCPMonitor>`), diag.APBadPolicy, "Port"},
		{hm(`<TCPMonitor><Timeout>1</Timeout></TCPMonitor>`), diag.APUnknownElement, "<Timeout>"},
		{hm(``), diag.APMissingElement, "exactly one of <TCPMonitor>"},
		{hm(`<TCPMonitor/><HTTPMonitor><Request><Path>/</Path></Request></HTTPMonitor>`), diag.APMissingElement, "exactly one of <TCPMonitor>"},
		{hm(`<HTTPMonitor><Request><Verb>GET</Verb></Request></HTTPMonitor>`), diag.APMissingElement, "<Path>"},
		{hm(`<HTTPMonitor><Request><Path>health</Path></Request></HTTPMonitor>`), diag.APBadPolicy, "must start with /"},
		{hm(`<HTTPMonitor><Request><Path>/</Path><Verb>FETCH</Verb></Request></HTTPMonitor>`), diag.APBadPolicy, "Verb"},
		{hm(`<HTTPMonitor><Request><Path>/</Path><Body>x</Body></Request></HTTPMonitor>`), diag.APUnknownElement, "<Body>"},
		{hm(`<TCPMonitor/>`) + `<HealthMonitor><TCPMonitor/></HealthMonitor>`, diag.APBadPolicy, "more than one <HealthMonitor>"},
		{hm(`<HTTPMonitor><Request><Path>/</Path></Request><SuccessResponse><Body>x</Body></SuccessResponse></HTTPMonitor>`), diag.APUnknownElement, "<Body>"},
		{hm(`<HTTPMonitor><Request><Path>/</Path></Request><SuccessResponse><ResponseCode>999</ResponseCode></SuccessResponse></HTTPMonitor>`), diag.APBadPolicy, "ResponseCode"},
		{hm(`<HTTPMonitor><Request><Path>/</Path></Request></HTTPMonitor><Bogus/>`), diag.APUnknownElement, "<Bogus>"},
		{lb("") + `<HealthMonitor><IsEnabled>true</IsEnabled><TCPMonitor/></HealthMonitor>`, diag.APMissingElement, "IntervalInSec"},
		{lb("") + `<HealthMonitor><IntervalInSec>0</IntervalInSec><TCPMonitor/></HealthMonitor>`, diag.APBadPolicy, "IntervalInSec"},
		{`<URL>http://x</URL><HealthMonitor><TCPMonitor/></HealthMonitor>`, diag.APBadPolicy, "needs a <LoadBalancer>"},
	}
	for _, tt := range tests {
		_, errs := parseTarget(t, tt.conn)
		if len(errs) != 1 || errs[0].Code != tt.code || !strings.Contains(errs[0].Msg, tt.want) || errs[0].Line == 0 {
			t.Errorf("%s:\n errors %v, want one %s with %q", tt.conn, errs, tt.code, tt.want)
		}
	}
}
