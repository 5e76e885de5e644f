package engine

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// testOp is a test-only policy type: <TestOp name="x"><Set name="v">value</Set>
// <Header name="h">value</Header><Fail status="400">FaultName</Fail><Raise status="418">body</Raise></TestOp>.
// Values are message templates.
type testOp struct {
	sets    [][2]string
	headers [][2]string
	fail    string
	status  int
	raise   string
}

func init() {
	Register(Kind{Type: "TestOp", Prefix: "testop", New: func(c *Compiler, p *bundle.Policy) Policy {
		op := &testOp{}
		c.Unknown(p.Root, "Set", "Header", "Fail", "Raise")
		for _, ch := range p.Root.Children {
			name, _ := ch.Attr("name")
			switch ch.Name {
			case "Set":
				op.sets = append(op.sets, [2]string{name, ch.Text})
			case "Header":
				op.headers = append(op.headers, [2]string{name, ch.Text})
			case "Fail", "Raise":
				op.status = 500
				if s, ok := ch.Attr("status"); ok {
					op.status = atoi(s)
				}
				if ch.Name == "Fail" {
					op.fail = ch.Text
				} else {
					op.raise = ch.Text
				}
			}
		}
		return op
	}})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func (op *testOp) Execute(r *Run) error {
	for _, s := range op.sets {
		v := s[1]
		if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
			v, _ = r.Get(v[1 : len(v)-1])
		}
		if err := r.Set(s[0], v); err != nil {
			return err
		}
	}
	for _, h := range op.headers {
		r.Current().SetHeader(h[0], h[1])
	}
	if op.fail != "" {
		return NewFault("testop", op.fail, op.status, "test fault %s", op.fail)
	}
	if op.raise != "" {
		m := NewResponse()
		m.SetStatus(op.status)
		m.SetContent([]byte(op.raise))
		return &Fault{Name: "RaiseFault", Code: "steps.raisefault.RaiseFault", Status: op.status, Message: "Raising fault", Response: m}
	}
	return nil
}

// fakeHost answers the forward with resp (or err) and records the mutation.
type fakeHost struct {
	body     []byte
	resp     *flowengine.Response
	respBody []byte
	err      error
	fwd      *flowengine.Mutation
}

func (h *fakeHost) RequestBody(context.Context) ([]byte, error) { return h.body, nil }
func (h *fakeHost) Forward(_ context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	c := *m
	h.fwd = &c
	if h.err != nil {
		return nil, h.err
	}
	if h.resp == nil {
		return &flowengine.Response{Status: 200, CodeDetails: "via_upstream"}, nil
	}
	return h.resp, nil
}
func (h *fakeHost) ResponseBody(context.Context) ([]byte, error) { return h.respBody, nil }

// project writes files (path → content) into a temp project and loads it.
func project(t *testing.T, files map[string]string) *Project {
	t.Helper()
	p, errs := loadFiles(t, files)
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	return p
}

func loadFiles(t *testing.T, files map[string]string) (*Project, diag.List) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return Load(dir, Options{})
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeAndLoad(t testing.TB, dir string, files map[string]string) *Project {
	writeFiles(t, dir, files)
	p, errs := Load(dir, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return p
}

func pol(name, body string) string {
	return `<TestOp name="` + name + `">` + body + `</TestOp>`
}

func run(p *Project, h *fakeHost, method, path string, headers ...string) *flowengine.Outcome {
	req := &flowengine.Request{Method: method, Scheme: "https", Authority: "api.example.com", Path: path, ID: "rid", BodyKnownEmpty: len(h.body) == 0}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Headers = append(req.Headers, flowengine.Header{Name: headers[i], Value: headers[i+1]})
	}
	return p.Run(context.Background(), req, h)
}

func header(o *flowengine.Outcome, name string) string {
	for _, h := range append(append([]flowengine.Header{}, o.SetHeaders...), o.AddHeaders...) {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

const noTargetProxy = `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>Pre</Name></Step></Request><Response><Step><Name>RespHdr</Name></Step></Response></PreFlow>
  <Flows>
    <Flow name="cats"><Condition>proxy.pathsuffix MatchesPath "/cats/*" and request.verb = "GET"</Condition>
      <Request><Step><Name>Cats</Name></Step></Request></Flow>
    <Flow name="any"><Request><Step><Name>Any</Name></Step></Request></Flow>
  </Flows>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`

func TestNoTargetFlowsAndEcho(t *testing.T) {
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml": noTargetProxy,
		"apiproxy/policies/Pre.xml":    pol("Pre", `<Header name="x-pre">yes</Header>`),
		"apiproxy/policies/Cats.xml":   pol("Cats", `<Set name="flow.which">cats</Set>`),
		"apiproxy/policies/Any.xml":    pol("Any", `<Set name="flow.which">any</Set>`),
		"apiproxy/policies/RespHdr.xml": pol("RespHdr", `<Set name="response.header.x-which">{flow.which}</Set>
			<Set name="response.header.x-suffix">{proxy.pathsuffix}</Set>`),
	})
	for _, tc := range []struct{ method, path, which, suffix string }{
		{"GET", "/v1/cats/tom", "cats", "/cats/tom"},
		{"POST", "/v1/cats/tom", "any", "/cats/tom"},
		{"GET", "/v1/dogs", "any", "/dogs"},
	} {
		o := run(p, &fakeHost{}, tc.method, tc.path, "Accept", "text/plain", "X-Client", "c1")
		if o.Kind != flowengine.Answered || o.Status != 200 {
			t.Fatalf("%s %s: outcome %v %d", tc.method, tc.path, o.Kind, o.Status)
		}
		// The request's headers come back (Apigee's no-target echo), with
		// the one the request flow set on the request.
		if header(o, "x-which") != tc.which || header(o, "x-suffix") != tc.suffix || header(o, "x-client") != "c1" || header(o, "x-pre") != "yes" {
			t.Errorf("%s %s: headers set=%v add=%v", tc.method, tc.path, o.SetHeaders, o.AddHeaders)
		}
	}
	if o := run(p, &fakeHost{}, "GET", "/other"); o.Status != 404 || !strings.Contains(string(o.Body), "messaging.adaptors.http.flow.ApplicationNotFound") {
		t.Errorf("unknown base path: %d %s", o.Status, o.Body)
	}
}

const targetProxy = `<ProxyEndpoint name="default">
  <FaultRules>
    <FaultRule name="catchall"><Step><Name>ProxyRule1</Name></Step></FaultRule>
    <FaultRule name="specific"><Condition>fault.name = "Boom"</Condition><Step><Name>ProxyRule2</Name></Step></FaultRule>
  </FaultRules>
  <DefaultFaultRule name="def"><AlwaysEnforce>true</AlwaysEnforce><Step><Name>ProxyDefault</Name></Step></DefaultFaultRule>
  <PreFlow><Request>
    <Step><Name>FailBoom</Name><Condition>request.header.fail = "boom"</Condition></Step>
    <Step><Name>FailOther</Name><Condition>request.header.fail = "other"</Condition></Step>
    <Step><Name>SoftFail</Name></Step>
  </Request></PreFlow>
  <HTTPProxyConnection><BasePath>/api</BasePath></HTTPProxyConnection>
  <RouteRule name="b"><Condition>request.header.route = "b"</Condition><TargetEndpoint>b</TargetEndpoint></RouteRule>
  <RouteRule name="default"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`

const targetDefault = `<TargetEndpoint name="default">
  <FaultRules>
    <FaultRule name="t404"><Condition>response.status.code = 404</Condition><Step><Name>TargetRule404</Name></Step></FaultRule>
    <FaultRule name="tany"><Step><Name>TargetRuleAny</Name></Step></FaultRule>
  </FaultRules>
  <PreFlow><Request><Step><Name>TargetHdr</Name></Step></Request></PreFlow>
  <HTTPTargetConnection><URL>https://backend.example.com/base?fixed=1</URL>
    <Properties><Property name="success.codes">1xx,2xx,3xx,409</Property></Properties></HTTPTargetConnection>
</TargetEndpoint>`

func targetFiles() map[string]string {
	return map[string]string{
		"apiproxy/proxies/default.xml":        targetProxy,
		"apiproxy/targets/default.xml":        targetDefault,
		"apiproxy/targets/b.xml":              `<TargetEndpoint name="b"><PreFlow><Request><Step><Name>NoSuffix</Name></Step></Request></PreFlow><HTTPTargetConnection><URL>http://b.internal:8080</URL></HTTPTargetConnection></TargetEndpoint>`,
		"apiproxy/policies/FailBoom.xml":      pol("FailBoom", `<Fail status="400">Boom</Fail>`),
		"apiproxy/policies/FailOther.xml":     pol("FailOther", `<Fail status="401">Other</Fail>`),
		"apiproxy/policies/SoftFail.xml":      `<TestOp name="SoftFail" continueOnError="true"><Fail>Soft</Fail></TestOp>`,
		"apiproxy/policies/ProxyRule1.xml":    pol("ProxyRule1", `<Set name="response.header.x-rule">catchall</Set>`),
		"apiproxy/policies/ProxyRule2.xml":    pol("ProxyRule2", `<Set name="response.header.x-rule">specific</Set>`),
		"apiproxy/policies/ProxyDefault.xml":  pol("ProxyDefault", `<Set name="response.header.x-default">{fault.name}</Set>`),
		"apiproxy/policies/TargetRule404.xml": pol("TargetRule404", `<Set name="response.header.x-target-rule">404</Set>`),
		"apiproxy/policies/TargetRuleAny.xml": pol("TargetRuleAny", `<Set name="response.header.x-target-rule">any</Set>`),
		"apiproxy/policies/TargetHdr.xml":     pol("TargetHdr", `<Set name="request.header.x-target">{target.name}</Set><Set name="request.header.x-soft">{testop.SoftFail.failed}</Set>`),
		"apiproxy/policies/NoSuffix.xml":      pol("NoSuffix", `<Set name="target.copy.pathsuffix">false</Set>`),
	}
}

func TestTargetForward(t *testing.T) {
	p := project(t, targetFiles())
	h := &fakeHost{resp: &flowengine.Response{Status: 200, Headers: []flowengine.Header{{Name: "content-type", Value: "text/plain"}}, CodeDetails: "via_upstream"}}
	o := run(p, h, "GET", "/api/things/1?q=a%20b", "Accept", "text/plain")
	if o.Kind != flowengine.Forwarded {
		t.Fatalf("kind = %v (%d %s)", o.Kind, o.Status, o.Body)
	}
	f := h.fwd
	if f.Scheme != "https" || f.Authority != "backend.example.com" || f.Path != "/base/things/1?fixed=1&q=a%20b" {
		t.Errorf("forward to %s://%s%s", f.Scheme, f.Authority, f.Path)
	}
	if !hasHeader(f.SetHeaders, "x-target", "default") || !hasHeader(f.SetHeaders, "x-soft", "true") {
		t.Errorf("forward headers = %v", f.SetHeaders)
	}
	h = &fakeHost{}
	run(p, h, "GET", "/api/things/1?q=1", "route", "b")
	if f := h.fwd; f.Scheme != "http" || f.Authority != "b.internal:8080" || f.Path != "/?q=1" {
		t.Errorf("route b: forward to %s://%s%s", f.Scheme, f.Authority, f.Path)
	}
}

func hasHeader(hs []flowengine.Header, name, value string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) && h.Value == value {
			return true
		}
	}
	return false
}

func TestFaultRuleOrder(t *testing.T) {
	p := project(t, targetFiles())
	cases := []struct {
		name            string
		headers         []string
		resp            *flowengine.Response
		status          int
		rule, def, trgt string
		body            string
	}{
		// Proxy side: rules are evaluated bottom to top; the specific rule
		// (last) matches first and is the only one to run; AlwaysEnforce
		// runs the DefaultFaultRule after it.
		{name: "proxy specific", headers: []string{"fail", "boom"}, status: 400, rule: "specific", def: "Boom", body: `"errorcode":"steps.testop.Boom"`},
		// Only the unconditioned rule matches.
		{name: "proxy catchall", headers: []string{"fail", "other"}, status: 401, rule: "catchall", def: "Other"},
		// Target side: target rules top to bottom (first match), then the
		// proxy's DefaultFaultRule; the proxy's FaultRules do not run;
		// the target's error response passes through.
		{name: "target 404", resp: &flowengine.Response{Status: 404, CodeDetails: "via_upstream"}, status: 0, trgt: "404", def: "ErrorResponseCode"},
		{name: "target 500", resp: &flowengine.Response{Status: 500, CodeDetails: "via_upstream"}, status: 0, trgt: "any", def: "ErrorResponseCode"},
		// success.codes lists 409: no fault.
		{name: "target 409 success", resp: &flowengine.Response{Status: 409, CodeDetails: "via_upstream"}, status: 0},
		// Envoy's local reply for an unreachable upstream is a target
		// fault with Apigee's ServiceUnavailable answer (status 0: the
		// 503 Envoy already has).
		{name: "upstream down", resp: &flowengine.Response{Status: 503, CodeDetails: "upstream_reset_before_response_started{connection_failure}"}, status: 0, trgt: "any", def: "ServiceUnavailable",
			body: `{"fault":{"faultstring":"The Service is temporarily unavailable","detail":{"errorcode":"messaging.adaptors.http.flow.ServiceUnavailable"}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := run(p, &fakeHost{resp: tc.resp}, "GET", "/api/x", tc.headers...)
			if o.Status != tc.status || header(o, "x-rule") != tc.rule || header(o, "x-default") != tc.def || header(o, "x-target-rule") != tc.trgt {
				t.Errorf("status %d rule %q default %q target rule %q; headers %v %v", o.Status, header(o, "x-rule"), header(o, "x-default"), header(o, "x-target-rule"), o.SetHeaders, o.AddHeaders)
			}
			if tc.body != "" && header(o, "content-type") != "application/json" {
				t.Errorf("content-type %q", header(o, "content-type"))
			}
			if !strings.Contains(string(o.Body), tc.body) {
				t.Errorf("body %s, want it to contain %s", o.Body, tc.body)
			}
		})
	}
}

func TestRaiseFaultInFaultRuleStopsDefault(t *testing.T) {
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <FaultRules><FaultRule name="r"><Step><Name>Raise</Name></Step><Step><Name>After</Name></Step></FaultRule></FaultRules>
  <DefaultFaultRule><AlwaysEnforce>true</AlwaysEnforce><Step><Name>Def</Name></Step></DefaultFaultRule>
  <PreFlow><Request><Step><Name>Fail</Name></Step></Request></PreFlow>
  <HTTPProxyConnection><BasePath>/</BasePath></HTTPProxyConnection><RouteRule name="n"/></ProxyEndpoint>`,
		"apiproxy/policies/Fail.xml":  pol("Fail", `<Fail>Boom</Fail>`),
		"apiproxy/policies/Raise.xml": pol("Raise", `<Raise status="418">teapot</Raise>`),
		"apiproxy/policies/After.xml": pol("After", `<Set name="response.header.x-after">ran</Set>`),
		"apiproxy/policies/Def.xml":   pol("Def", `<Set name="response.header.x-def">ran</Set>`),
	})
	o := run(p, &fakeHost{}, "GET", "/x")
	if o.Status != 418 || string(o.Body) != "teapot" || header(o, "x-after") != "ran" || header(o, "x-def") != "" {
		t.Errorf("status %d body %q after %q def %q", o.Status, o.Body, header(o, "x-after"), header(o, "x-def"))
	}
}

func TestPostClientFlowRunsAfterFault(t *testing.T) {
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>Fail</Name></Step></Request></PreFlow>
  <PostClientFlow><Response><Step><Name>Log</Name></Step></Response></PostClientFlow>
  <HTTPProxyConnection><BasePath>/</BasePath></HTTPProxyConnection><RouteRule name="n"/></ProxyEndpoint>`,
		"apiproxy/policies/Fail.xml": pol("Fail", `<Fail status="403">Denied</Fail>`),
		"apiproxy/policies/Log.xml":  pol("Log", `<Set name="logged">{fault.name}</Set>`),
	})
	req := &flowengine.Request{Method: "GET", Path: "/x", BodyKnownEmpty: true}
	o := p.Run(context.Background(), req, &fakeHost{})
	if o.Status != 403 || o.After == nil {
		t.Fatalf("status %d, after %v", o.Status, o.After != nil)
	}
	o.After(context.Background())
}

func TestLoadErrors(t *testing.T) {
	base := map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><PreFlow><Request><Step><Name>P</Name><Condition>request.verb = "GET</Condition></Step></Request></PreFlow>
<HTTPProxyConnection><BasePath>/</BasePath></HTTPProxyConnection><RouteRule name="n"/></ProxyEndpoint>`,
		"apiproxy/policies/P.xml": pol("P", ``),
		"apiproxy/policies/Q.xml": `<Quotaa name="Q"/>`,
	}
	_, errs := loadFiles(t, base)
	got := errs.Error()
	for _, want := range []string{"apiproxy/proxies/default.xml:1:", "AP300", "apiproxy/policies/Q.xml:1:1: AP400: unsupported policy type Quotaa"} {
		if !strings.Contains(got, want) {
			t.Errorf("errors %q lack %q", got, want)
		}
	}
	if _, errs := loadFiles(t, map[string]string{"README": "x"}); len(errs) != 1 || errs[0].Code != diag.APNoBundle {
		t.Errorf("empty project: %v", errs)
	}
	bad := map[string]string{"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/</BasePath></HTTPProxyConnection><RouteRule name="n"/></ProxyEndpoint>`,
		"deployment.yaml": "organisation: typo\n"}
	if _, errs := loadFiles(t, bad); len(errs) != 1 || errs[0].Code != diag.APBadDeployment {
		t.Errorf("bad deployment: %v", errs)
	}
}

func TestCancelledRunStops(t *testing.T) {
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><PreFlow><Request><Step><Name>P</Name></Step></Request></PreFlow>
<HTTPProxyConnection><BasePath>/</BasePath></HTTPProxyConnection><RouteRule name="n"/></ProxyEndpoint>`,
		"apiproxy/policies/P.xml": pol("P", `<Set name="x">1</Set>`),
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := p.Run(ctx, &flowengine.Request{Method: "GET", Path: "/", BodyKnownEmpty: true}, &fakeHost{})
	if o.Error != "ClientDisconnected" {
		t.Errorf("outcome error %q", o.Error)
	}
	_ = errors.New
}

// TestBundleForms loads the same bundle as a project folder, as the
// apiproxy folder itself, and as a zip (file path and folder holding it).
func TestBundleForms(t *testing.T) {
	files := map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/z</BasePath></HTTPProxyConnection><RouteRule name="n"/></ProxyEndpoint>`,
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("apiproxy/proxies/default.xml")
	w.Write([]byte(files["apiproxy/proxies/default.xml"]))
	zw.Close()
	zdir := t.TempDir()
	zpath := filepath.Join(zdir, "bundle.zip")
	os.WriteFile(zpath, zbuf.Bytes(), 0o644)
	for _, d := range []string{dir, filepath.Join(dir, "apiproxy"), zpath, zdir} {
		p, errs := Load(d, Options{})
		if len(errs) > 0 {
			t.Errorf("%s: %v", d, errs)
			continue
		}
		if bp := p.BasePaths(); len(bp) != 1 || bp[0] != "/z" {
			t.Errorf("%s: base paths %v", d, bp)
		}
	}
	// A zip whose entry escapes is refused.
	zbuf.Reset()
	zw = zip.NewWriter(&zbuf)
	w, _ = zw.Create("apiproxy/../../evil.xml")
	w.Write([]byte("<x/>"))
	zw.Close()
	bad := filepath.Join(t.TempDir(), "evil.zip")
	os.WriteFile(bad, zbuf.Bytes(), 0o644)
	if _, errs := Load(bad, Options{}); len(errs) != 1 || errs[0].Code != diag.APBadZip {
		t.Errorf("evil zip: %v", errs)
	}
}

// TestLoadBalancer spreads requests over the deployment's TargetServers:
// RoundRobin alternates between the primary servers, never the fallback;
// Path is appended to the server's URL; disabled servers are skipped.
func TestLoadBalancer(t *testing.T) {
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/lb</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection><LoadBalancer>
  <Server name="a"/><Server name="b"/><Server name="down"/><Server name="fb"><IsFallback>true</IsFallback></Server>
</LoadBalancer><Path>/v2</Path></HTTPTargetConnection></TargetEndpoint>`,
		"deployment.yaml": `targetServers:
  a: {host: a.internal, port: 8080}
  b: {host: b.internal, port: 443, ssl: true}
  down: {host: down.internal, enabled: false}
  fb: {host: fallback.internal}
`,
	})
	seen := map[string]int{}
	for i := 0; i < 6; i++ {
		h := &fakeHost{}
		run(p, h, "GET", "/lb/x")
		seen[h.fwd.Scheme+"://"+h.fwd.Authority+h.fwd.Path]++
	}
	if seen["http://a.internal:8080/v2/x"] != 3 || seen["https://b.internal/v2/x"] != 3 {
		t.Errorf("spread = %v", seen)
	}
	_, errs := loadFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/lb</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection><LoadBalancer><Server name="nope"/></LoadBalancer></HTTPTargetConnection></TargetEndpoint>`,
	})
	if len(errs) != 1 || errs[0].Code != diag.APBadDeployment {
		t.Errorf("unknown TargetServer: %v", errs)
	}
}

// TestTargetPropertiesAndSSLInfo: io.timeout.millis becomes Envoy's
// per-request timeout header; properties and SSLInfo settings flowproc
// cannot honour are load errors.
func TestTargetPropertiesAndSSLInfo(t *testing.T) {
	proxy := `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/p</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml": proxy,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection><URL>https://b.example</URL>
  <SSLInfo><Enabled>true</Enabled></SSLInfo>
  <Properties><Property name="io.timeout.millis">2500</Property><Property name="connect.timeout.millis">1000</Property></Properties>
</HTTPTargetConnection></TargetEndpoint>`,
	})
	h := &fakeHost{}
	run(p, h, "GET", "/p/x")
	if !hasHeader(h.fwd.SetHeaders, "x-envoy-upstream-rq-timeout-ms", "2500") {
		t.Errorf("forward headers %v", h.fwd.SetHeaders)
	}
	for _, bad := range []string{
		`<Properties><Property name="retain.magic">true</Property></Properties>`,
		`<Properties><Property name="io.timeout.millis">soon</Property></Properties>`,
		`<SSLInfo><Enabled>true</Enabled><IgnoreValidationErrors>true</IgnoreValidationErrors></SSLInfo>`,
		`<SSLInfo><Enabled>true</Enabled><KeyStore>ks</KeyStore></SSLInfo>`,
	} {
		_, errs := loadFiles(t, map[string]string{
			"apiproxy/proxies/default.xml": proxy,
			"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection><URL>https://b.example</URL>` + bad + `</HTTPTargetConnection></TargetEndpoint>`,
		})
		if len(errs) != 1 {
			t.Errorf("%s: errors %v", bad, errs)
		}
	}
}
