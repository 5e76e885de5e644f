package policies

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	corpusdir "github.com/flowproc/flowproc/internal/corpus"
)

// secClient sets client.ip of a test run.
func secClient(ip string) func(r *engine.Run) { return func(r *engine.Run) { r.SetTestClient(ip) } }

func TestAccessControl(t *testing.T) {
	const denyOne = `<AccessControl name="ACL">
  <IPRules noRuleMatchAction = "ALLOW">
    <MatchRule action = "DENY"><SourceAddress mask="32">198.51.100.1</SourceAddress></MatchRule>
  </IPRules>
</AccessControl>`
	const allowNet = `<AccessControl name="ACL">
  <IPRules noRuleMatchAction="DENY">
    <MatchRule action="ALLOW"><SourceAddress mask="24">198.51.100.0</SourceAddress><SourceAddress mask="64">2001:db8:1::</SourceAddress></MatchRule>
  </IPRules>
  <ValidateBasedOn>%s</ValidateBasedOn>
</AccessControl>`
	allow := func(mode string) string { return secSprintf(allowNet, mode) }
	const denied = "steps.accesscontrol.IPDeniedAccess"
	runCases(t, []pcase{
		{name: "deny listed client", policy: denyOne, setup: secClient("198.51.100.1"), fault: denied,
			faultMsg: "Access Denied for client ip : 198.51.100.1"},
		{name: "allow other client", policy: denyOne, setup: secClient("198.51.100.2")},
		{name: "no address at all is denied", policy: denyOne, fault: denied, faultMsg: "Access Denied for client ip : "},
		{name: "net allowed", policy: allow("X_FORWARDED_FOR_ALL_IP"), setup: secClient("198.51.100.77")},
		{name: "outside net denied", policy: allow("X_FORWARDED_FOR_ALL_IP"), setup: secClient("198.51.101.1"), fault: denied},
		{name: "ipv6 in net", policy: allow("X_FORWARDED_FOR_ALL_IP"), setup: secClient("2001:db8:1::42")},
		{name: "ipv6 outside", policy: allow("X_FORWARDED_FOR_ALL_IP"), setup: secClient("2001:db8:2::1"), fault: denied,
			faultMsg: "Access Denied for client ip : 2001:db8:2::1"},
		{name: "ipv4-mapped ipv6 compares as ipv4", policy: allow("X_FORWARDED_FOR_ALL_IP"), setup: secClient("::ffff:198.51.100.9")},
		// X-Forwarded-For: the client claims 198.51.100.5, connects from 203.0.113.9.
		{name: "all: any denied address denies", policy: allow("X_FORWARDED_FOR_ALL_IP"),
			headers: []string{"X-Forwarded-For", "198.51.100.5"}, setup: secClient("203.0.113.9"), fault: denied,
			faultMsg: "Access Denied for client ip : 203.0.113.9"},
		{name: "first: the claimed address", policy: allow("X_FORWARDED_FOR_FIRST_IP"),
			headers: []string{"X-Forwarded-For", "198.51.100.5"}, setup: secClient("203.0.113.9")},
		{name: "last: the connecting address", policy: allow("X_FORWARDED_FOR_LAST_IP"),
			headers: []string{"X-Forwarded-For", "198.51.100.5"}, setup: secClient("203.0.113.9"), fault: denied},
		{name: "client.ip not appended twice", policy: allow("X_FORWARDED_FOR_ALL_IP"),
			headers: []string{"X-Forwarded-For", "198.51.100.5, 198.51.100.6", "X-Forwarded-For", "198.51.100.7"}, setup: secClient("198.51.100.7")},
		{name: "xff entries with ports", policy: allow("X_FORWARDED_FOR_ALL_IP"),
			headers: []string{"X-Forwarded-For", "198.51.100.5:1234, [2001:db8:1::1]:443"}},
		{name: "xff garbage goes to noRuleMatchAction", policy: allow("X_FORWARDED_FOR_FIRST_IP"),
			headers: []string{"X-Forwarded-For", "unknown"}, fault: denied, faultMsg: "Access Denied for client ip : unknown"},
		{name: "true-client-ip wins", policy: denyOne, headers: []string{"True-Client-IP", "198.51.100.1"}, setup: secClient("10.0.0.1"), fault: denied},
		{name: "true-client-ip ignored", policy: `<AccessControl name="A"><IgnoreTrueClientIPHeader>true</IgnoreTrueClientIPHeader>
  <IPRules noRuleMatchAction="ALLOW"><MatchRule action="DENY"><SourceAddress>198.51.100.1</SourceAddress></MatchRule></IPRules></AccessControl>`,
			headers: []string{"True-Client-IP", "198.51.100.1"}, setup: secClient("10.0.0.1")},
		{name: "client ip variable", policy: `<AccessControl name="A"><ClientIPVariable>my.ip</ClientIPVariable>
  <IPRules noRuleMatchAction="ALLOW"><MatchRule action="DENY"><SourceAddress mask="16">10.1.0.0</SourceAddress></MatchRule></IPRules></AccessControl>`,
			setup: func(r *engine.Run) { r.SetTestClient("192.0.2.1"); _ = r.Set("my.ip", "10.1.2.3") }, fault: denied,
			faultMsg: "Access Denied for client ip : 10.1.2.3"},
		{name: "client ip variable unset", policy: `<AccessControl name="A"><ClientIPVariable>my.ip</ClientIPVariable>
  <IPRules noRuleMatchAction="ALLOW"/></AccessControl>`, setup: secClient("192.0.2.1"), fault: "steps.accesscontrol.InvalidIPAddressInVariable"},
		{name: "client ip variable not an address", policy: `<AccessControl name="A"><ClientIPVariable>my.ip</ClientIPVariable>
  <IPRules noRuleMatchAction="ALLOW"/></AccessControl>`, setup: func(r *engine.Run) { _ = r.Set("my.ip", "pwned") },
			fault: "steps.accesscontrol.InvalidIPAddressInVariable"},
		{name: "first matching rule decides", policy: `<AccessControl name="A"><IPRules noRuleMatchAction="DENY">
  <MatchRule action="ALLOW"><SourceAddress mask="32">10.0.0.5</SourceAddress></MatchRule>
  <MatchRule action="DENY"><SourceAddress mask="8">10.0.0.0</SourceAddress></MatchRule>
  <MatchRule action="ALLOW"><SourceAddress mask="0">0.0.0.0</SourceAddress></MatchRule></IPRules></AccessControl>`,
			setup: secClient("10.0.0.5")},
		{name: "first matching rule denies", policy: `<AccessControl name="A"><IPRules noRuleMatchAction="DENY">
  <MatchRule action="ALLOW"><SourceAddress mask="32">10.0.0.5</SourceAddress></MatchRule>
  <MatchRule action="DENY"><SourceAddress mask="8">10.0.0.0</SourceAddress></MatchRule>
  <MatchRule action="ALLOW"><SourceAddress mask="0">0.0.0.0</SourceAddress></MatchRule></IPRules></AccessControl>`,
			setup: secClient("10.9.0.5"), fault: denied},
		{name: "template address and mask", policy: `<AccessControl name="A"><IPRules noRuleMatchAction="ALLOW">
  <MatchRule action="DENY"><SourceAddress mask="{kvm.mask.value}">{kvm.ip.value}</SourceAddress></MatchRule></IPRules></AccessControl>`,
			setup: func(r *engine.Run) {
				r.SetTestClient("198.51.100.200")
				_ = r.Set("kvm.mask.value", "24")
				_ = r.Set("kvm.ip.value", "198.51.100.1")
			}, fault: denied},
		{name: "no IPRules", policy: `<AccessControl name="A"/>`, loadErr: "no <IPRules>"},
		{name: "bad action", policy: `<AccessControl name="A"><IPRules noRuleMatchAction="MAYBE"/></AccessControl>`, loadErr: "want ALLOW or DENY"},
		{name: "bad address", policy: `<AccessControl name="A"><IPRules><MatchRule action="DENY"><SourceAddress>10.0.0.300</SourceAddress></MatchRule></IPRules></AccessControl>`, loadErr: "is not an IP address"},
		{name: "bad mask", policy: `<AccessControl name="A"><IPRules><MatchRule action="DENY"><SourceAddress mask="33">10.0.0.1</SourceAddress></MatchRule></IPRules></AccessControl>`, loadErr: "want 0 to 32"},
		{name: "empty rule", policy: `<AccessControl name="A"><IPRules><MatchRule action="DENY"/></IPRules></AccessControl>`, loadErr: "no <SourceAddress>"},
		{name: "bad ValidateBasedOn", policy: `<AccessControl name="A"><IPRules/><ValidateBasedOn>MIDDLE</ValidateBasedOn></AccessControl>`, loadErr: "want X_FORWARDED_FOR_ALL_IP"},
	})
}

// TestAccessControlTemplateUnresolved checks the fail-closed error of an
// unresolvable SourceAddress template: an ExecutionFailed error, not an
// allow.
func TestAccessControlTemplateUnresolved(t *testing.T) {
	pol := compile(t, `<AccessControl name="A"><IPRules noRuleMatchAction="ALLOW">
  <MatchRule action="DENY"><SourceAddress mask="24">{kvm.ip.value}</SourceAddress></MatchRule></IPRules></AccessControl>`)
	r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
	r.SetTestClient("198.51.100.200")
	err := pol.Execute(r)
	if err == nil || faultOf(err) != "error: "+err.Error() {
		t.Fatalf("got %v (%s), want a plain error (ExecutionFailed)", err, faultOf(err))
	}
}

// TestSecCorpusAccessControl compiles the apigeelint AccessControl example.
func TestSecCorpusAccessControl(t *testing.T) {
	dir, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present")
	}
	src, err := os.ReadFile(filepath.Join(dir, "_supplements/apigeelint-policy-types/policies/AC-Basic.xml"))
	if err != nil {
		t.Skip("AC-Basic.xml not in the corpus: ", err)
	}
	pol := compile(t, string(src))
	r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
	if err := r.Set("VARIABLE_NAME", "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	if got := faultOf(pol.Execute(r)); got != "IPDeniedAccess|steps.accesscontrol.IPDeniedAccess|403|Access Denied for client ip : 198.51.100.1" {
		t.Fatalf("got %q", got)
	}
}

// FuzzSecAccessControlAddress checks that address parsing never panics
// and that a parsed address lies in its own host network.
func FuzzSecAccessControlAddress(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "[2001:db8::1]:443", "::ffff:10.0.0.1", "10.0.0.1:80", "unknown", "fe80::1%eth0", ""} {
		f.Add(s, "24")
	}
	f.Fuzz(func(t *testing.T, s, mask string) {
		a, ok := acParse(s)
		if !ok {
			return
		}
		host, err := acPrefix(a.String(), "")
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if !host.Contains(a) {
			t.Fatalf("%q not in %v", s, host)
		}
		if p, err := acPrefix(a.String(), mask); err == nil && !p.Contains(a) {
			t.Fatalf("%q not in %v (mask %q)", s, p, mask)
		}
	})
}

// TestAccessControlFailedVariable: a denial sets acl.<policy>.failed, the
// name Apigee documents (not accesscontrol.<policy>.failed).
func TestAccessControlFailedVariable(t *testing.T) {
	p := loadBundle(t, nil, map[string]string{
		"p.xml": `<APIProxy name="p"/>`,
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Request><Step><Name>AC</Name></Step></Request></PreFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
		"policies/AC.xml": `<AccessControl name="AC" continueOnError="true"><IPRules noRuleMatchAction="DENY"/></AccessControl>`,
	})
	req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/v1", ID: "r", BodyKnownEmpty: true,
		Client: flowengine.Client{Address: "192.0.2.7"}}
	o, get := p.RunForTest(context.Background(), req, noTargetHost{})
	if o.Status != 200 {
		t.Fatalf("continueOnError: %s", answer(o))
	}
	if v, _ := get("acl.AC.failed"); v != "true" {
		t.Errorf("acl.AC.failed = %q", v)
	}
	if v, ok := get("accesscontrol.AC.failed"); ok {
		t.Errorf("accesscontrol.AC.failed = %q, want unset", v)
	}
}
