package policies

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	corpusdir "github.com/flowproc/flowproc/internal/corpus"
)

const secCORSPolicy = `<CORS continueOnError="false" enabled="true" name="CORS-CheckCORS">
  <DisplayName>CORS-CheckCORS</DisplayName>
  <AllowOrigins>{request.header.origin}</AllowOrigins>
  <AllowMethods>GET, PUT, POST, DELETE</AllowMethods>
  <AllowHeaders>origin, x-requested-with, accept, content-type</AllowHeaders>
  <ExposeHeaders>*</ExposeHeaders>
  <MaxAge>3628800</MaxAge>
  <AllowCredentials>false</AllowCredentials>
  <GeneratePreflightResponse>true</GeneratePreflightResponse>
  <IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>
</CORS>`

// secCORSHeaders renders the Access-Control-* headers of m, one a line.
func secCORSHeaders(m *engine.Message) string {
	var b strings.Builder
	for _, h := range m.Headers {
		if strings.HasPrefix(strings.ToLower(h.Name), "access-control-") {
			b.WriteString(h.Name + ": " + h.Value + "\n")
		}
	}
	return b.String()
}

func TestCORS(t *testing.T) {
	const preflightUA = "https://app.example.com"
	cases := []struct {
		name, policy, method string
		headers              []string
		setup                func(r *engine.Run)
		answered             bool   // a preflight answer
		status               int    // of the answer (0: 200)
		body                 string // of the answer
		want                 string // CORS headers of the final response
		vars                 map[string]string
		fault                string
		loadErr              string
	}{
		{name: "preflight answered", policy: secCORSPolicy, method: "OPTIONS", answered: true,
			headers: []string{"Origin", preflightUA, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "Content-Type"},
			want: "Access-Control-Allow-Methods: GET, PUT, POST, DELETE\n" +
				"Access-Control-Allow-Headers: origin, x-requested-with, accept, content-type\n" +
				"Access-Control-Max-Age: 3628800\n" +
				"Access-Control-Allow-Origin: https://app.example.com\n" +
				"Access-Control-Allow-Credentials: false\n" +
				"Access-Control-Expose-Headers: *\n",
			vars: map[string]string{"cross_origin_resource_sharing.request.type": "PRE_FLIGHT", "cross_origin_resource_sharing.preflight.accepted": "true",
				"cross_origin_resource_sharing.request.method": "PUT", "cross_origin_resource_sharing.max.age": "3628800",
				"cross_origin_resource_sharing.allow.origins.list": preflightUA, "cross_origin_resource_sharing.allow.credentials": "false"}},
		{name: "preflight with a header not allowed is not accepted", policy: secCORSPolicy, method: "OPTIONS", answered: true,
			headers: []string{"Origin", preflightUA, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-secret"},
			want:    "Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Credentials: false\nAccess-Control-Expose-Headers: *\n",
			vars:    map[string]string{"cross_origin_resource_sharing.preflight.accepted": "false", "cross_origin_resource_sharing.request.headers": "x-secret"}},
		{name: "preflight with a method not allowed is not accepted", policy: secCORSPolicy, method: "OPTIONS", answered: true,
			headers: []string{"Origin", preflightUA, "Access-Control-Request-Method", "PATCH"},
			want:    "Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Credentials: false\nAccess-Control-Expose-Headers: *\n",
			vars:    map[string]string{"cross_origin_resource_sharing.preflight.accepted": "false"}},
		{name: "simple request gets headers on the response", policy: secCORSPolicy, method: "GET",
			headers: []string{"Origin", preflightUA},
			want:    "Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Credentials: false\nAccess-Control-Expose-Headers: *\n",
			vars:    map[string]string{"cross_origin_resource_sharing.request.type": "ACTUAL", "cross_origin_resource_sharing.preflight.accepted": "false"}},
		{name: "OPTIONS without request method is no preflight", policy: secCORSPolicy, method: "OPTIONS",
			headers: []string{"Origin", preflightUA},
			want:    "Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Credentials: false\nAccess-Control-Expose-Headers: *\n"},
		{name: "no origin, no headers", policy: secCORSPolicy, method: "GET", want: "",
			vars: map[string]string{"cross_origin_resource_sharing.allow.origin": "", "cross_origin_resource_sharing.request.origin": ""}},
		{name: "origin list, defaults", policy: `<CORS name="C"><AllowOrigins>https://a.example, https://b.example</AllowOrigins></CORS>`,
			method: "OPTIONS", headers: []string{"Origin", "https://b.example", "Access-Control-Request-Method", "HEAD"}, answered: true,
			want: "Access-Control-Allow-Methods: GET, POST, HEAD, OPTIONS\n" +
				"Access-Control-Allow-Headers: Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers\n" +
				"Access-Control-Max-Age: 1800\nAccess-Control-Allow-Origin: https://b.example\n",
			vars: map[string]string{"cross_origin_resource_sharing.allow.origin": "https://b.example", "cross_origin_resource_sharing.allow.credentials": unset}},
		{name: "origin not listed", policy: `<CORS name="C"><AllowOrigins>https://a.example</AllowOrigins></CORS>`,
			method: "GET", headers: []string{"Origin", "https://evil.example"}, want: "",
			vars: map[string]string{"cross_origin_resource_sharing.allow.origin": ""}},
		{name: "preflight from a disallowed origin answered bare", policy: `<CORS name="C"><AllowOrigins>https://a.example</AllowOrigins></CORS>`,
			method: "OPTIONS", headers: []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "GET"},
			answered: true, want: ""},
		{name: "star echoes the origin, MaxAge -1 sent", policy: `<CORS name="C"><AllowOrigins>*</AllowOrigins><AllowMethods>*</AllowMethods><MaxAge>-1</MaxAge><AllowCredentials>true</AllowCredentials></CORS>`,
			method: "OPTIONS", headers: []string{"Origin", "https://x.example", "Access-Control-Request-Method", "PATCH"}, answered: true,
			want: "Access-Control-Allow-Methods: *\n" +
				"Access-Control-Allow-Headers: Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers\n" +
				"Access-Control-Max-Age: -1\nAccess-Control-Allow-Origin: https://x.example\nAccess-Control-Allow-Credentials: true\n"},
		{name: "preflight passed on when not generated", policy: `<CORS name="C"><AllowOrigins>{request.header.origin}</AllowOrigins><GeneratePreflightResponse>false</GeneratePreflightResponse></CORS>`,
			method: "OPTIONS", headers: []string{"Origin", "https://x.example", "Access-Control-Request-Method", "GET"},
			want: "Access-Control-Allow-Origin: https://x.example\n",
			vars: map[string]string{"cross_origin_resource_sharing.preflight.accepted": "true", "cross_origin_resource_sharing.allow.methods": "GET, POST, HEAD, OPTIONS"}},
		{name: "origins from a variable", policy: `<CORS name="C"><AllowOrigins>{allowed.origins}</AllowOrigins></CORS>`,
			method: "GET", headers: []string{"Origin", "https://b.example"},
			setup: func(r *engine.Run) { _ = r.Set("allowed.origins", "https://a.example,https://b.example") },
			want:  "Access-Control-Allow-Origin: https://b.example\n"},
		{name: "flow changes the variables", policy: `<CORS name="C"><AllowOrigins>*</AllowOrigins></CORS>`,
			method: "GET", headers: []string{"Origin", "https://b.example"},
			setup: nil, want: "Access-Control-Allow-Origin: https://changed.example\nAccess-Control-Expose-Headers: x-a\n"},
		{name: "unresolved ignored", policy: `<CORS name="C"><AllowOrigins>{allowed.origins}</AllowOrigins></CORS>`,
			method: "GET", headers: []string{"Origin", "https://b.example"}, want: ""},
		{name: "unresolved fault", policy: `<CORS name="AddCORS"><AllowOrigins>{allowed.origins}</AllowOrigins><IgnoreUnresolvedVariables>false</IgnoreUnresolvedVariables></CORS>`,
			method: "GET", headers: []string{"Origin", "https://b.example"}, fault: "UnresolvedVariable|steps.cors.UnresolvedVariable|500|CORS[AddCORS]: unable to resolve variable allowed.origins"},
		{name: "unresolved on a generated preflight answers the fault", policy: `<CORS name="AddCORS"><AllowOrigins>{allowed.origins}</AllowOrigins><IgnoreUnresolvedVariables>false</IgnoreUnresolvedVariables></CORS>`,
			method: "OPTIONS", headers: []string{"Origin", "https://b.example", "Access-Control-Request-Method", "GET"}, answered: true, status: 500,
			body: `{"fault":{"faultstring":"CORS[AddCORS]: unable to resolve variable allowed.origins","detail":{"errorcode":"steps.cors.UnresolvedVariable"}}}`},
		{name: "no AllowOrigins", policy: `<CORS name="C"/>`, loadErr: "MissingAllowOrigins"},
		{name: "bad MaxAge", policy: `<CORS name="C"><AllowOrigins>*</AllowOrigins><MaxAge>soon</MaxAge></CORS>`, loadErr: "InvalidMaxAge"},
		{name: "bad method", policy: `<CORS name="C"><AllowOrigins>*</AllowOrigins><AllowMethods>GET, PO ST</AllowMethods></CORS>`, loadErr: "InvalidHTTPMethods"},
		{name: "bad bool", policy: `<CORS name="C"><AllowOrigins>*</AllowOrigins><AllowCredentials>yes</AllowCredentials></CORS>`, loadErr: "is not true or false"},
		{name: "unknown element", policy: `<CORS name="C"><AllowOrigins>*</AllowOrigins><AllowPrivateNetwork/></CORS>`, loadErr: "AP103"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, errs := engine.TestPolicy(c.policy, nil, nil)
			if c.loadErr != "" {
				if len(errs) == 0 || !strings.Contains(errs.Error(), c.loadErr) {
					t.Fatalf("load errors %v, want %q", errs, c.loadErr)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("load: %v", errs)
			}
			r := engine.TestRun(context.Background(), engine.ProxyRequest, c.method, "/v1/x", nil, nil, c.headers...)
			if c.setup != nil {
				c.setup(r)
			}
			err := pol.Execute(r)
			if c.name == "flow changes the variables" {
				_ = r.Set("cross_origin_resource_sharing.allow.origin", "https://changed.example")
				_ = r.Set("cross_origin_resource_sharing.expose.headers", "x-a")
			}
			if c.fault != "" {
				if got := faultOf(err); got != c.fault {
					t.Fatalf("fault %q, want %q", got, c.fault)
				}
				return
			}
			var a *engine.Answered
			answered := errors.As(err, &a)
			if answered != c.answered || err != nil && !answered {
				t.Fatalf("Execute = %v, want answered %v", err, c.answered)
			}
			if answered {
				want := c.status
				if want == 0 {
					want = 200
				}
				if a.Response.Status != want {
					t.Errorf("status %d, want %d", a.Response.Status, want)
				}
				if b, _ := a.Response.Content(); string(b) != c.body {
					t.Errorf("body %s, want %s", b, c.body)
				}
				r.SetMessage("response", a.Response)
			}
			r.ApplyResponseHooksForTest()
			m, _ := r.Message("response")
			if m == nil {
				m = engine.NewResponse() // no hook ran: no response yet
			}
			for name, want := range c.vars {
				got, ok := r.Get(name)
				if want == unset && ok || want != unset && got != want {
					t.Errorf("%s = %q (set %v), want %q", name, got, ok, want)
				}
			}
			if got := secCORSHeaders(m); got != c.want {
				t.Errorf("headers:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// TestCORSInABundle runs the CORS policy in a proxy: the preflight is
// answered before the later request steps and goes through the proxy
// response flow; an actual request gets the headers on its response and
// on an error response.
func TestCORSInABundle(t *testing.T) {
	p := loadBundle(t, nil, map[string]string{
		"p.xml": `<APIProxy name="p"/>`,
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Request><Step><Name>CORS-CheckCORS</Name></Step><Step><Name>RF</Name>
    <Condition>request.header.fail = "yes"</Condition></Step></Request>
  <Response><Step><Name>AM-Resp</Name></Step></Response></PreFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
		"policies/CORS-CheckCORS.xml": secCORSPolicy,
		"policies/RF.xml":             `<RaiseFault name="RF"><FaultResponse><Set><StatusCode>418</StatusCode></Set></FaultResponse></RaiseFault>`,
		"policies/AM-Resp.xml":        `<AssignMessage name="AM-Resp"><Set><Headers><Header name="x-resp">ran</Header></Headers></Set></AssignMessage>`,
	})
	run := func(method string, headers ...string) *flowengine.Outcome {
		req := &flowengine.Request{Method: method, Scheme: "https", Authority: "api.example.com", Path: "/v1/x", ID: "r", BodyKnownEmpty: true}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Headers = append(req.Headers, flowengine.Header{Name: headers[i], Value: headers[i+1]})
		}
		return p.Run(context.Background(), req, noTargetHost{})
	}
	o := run("OPTIONS", "Origin", "https://app.example", "Access-Control-Request-Method", "POST", "fail", "yes")
	if o.Status != 200 || o.Error != "" || calloutHeader(o, "access-control-allow-origin") != "https://app.example" ||
		calloutHeader(o, "access-control-max-age") != "3628800" || calloutHeader(o, "x-resp") != "ran" {
		t.Errorf("preflight: %s", answer(o))
	}
	o = run("GET", "Origin", "https://app.example")
	if o.Status != 200 || calloutHeader(o, "access-control-allow-origin") != "https://app.example" ||
		calloutHeader(o, "access-control-expose-headers") != "*" || calloutHeader(o, "x-resp") != "ran" ||
		calloutHeader(o, "access-control-max-age") != "" {
		t.Errorf("simple request: %s", answer(o))
	}
	o = run("GET", "Origin", "https://app.example", "fail", "yes")
	if o.Status != 418 || calloutHeader(o, "access-control-allow-origin") != "https://app.example" {
		t.Errorf("error response: %d %s", o.Status, answer(o))
	}
}

// TestSecCorpusCORS compiles the corpus CORS policies.
func TestSecCorpusCORS(t *testing.T) {
	dir, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present")
	}
	n := 0
	for _, rel := range []string{
		"gcs-monolith-to-microservices-based-on-paths/apiproxy/policies/CORS-CheckCORS.xml",
		"devrel-data-api/apiproxy/policies/CO-cors-headers.xml",
		"_supplements/apigeelint-policy-types/policies/CORS.xml",
		"_supplements/apigeelint-policy-types/policies/BA-Decode.xml",
		"_supplements/apigeelint-policy-types/policies/Assert-1.xml",
	} {
		src, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			continue
		}
		n++
		if _, errs := engine.TestPolicy(string(src), nil, nil); len(errs) > 0 {
			t.Errorf("%s: %v", rel, errs)
		}
	}
	if n == 0 {
		t.Skip("no CORS policy in the corpus")
	}
}

// secFailHost fails the test when the target is called.
type secFailHost struct{ t *testing.T }

func (h secFailHost) RequestBody(context.Context) ([]byte, error) { return nil, nil }
func (h secFailHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	h.t.Error("the target was called")
	return nil, flowengine.ErrBodyUnavailable
}
func (h secFailHost) ResponseBody(context.Context) ([]byte, error) {
	return nil, flowengine.ErrBodyUnavailable
}

// TestCORSPreflightSkipsTarget: a preflight answered by the policy never
// reaches the TargetEndpoint, while the PostClientFlow still runs.
func TestCORSPreflightSkipsTarget(t *testing.T) {
	p := loadBundle(t, nil, map[string]string{
		"p.xml": `<APIProxy name="p"/>`,
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Request><Step><Name>CORS-CheckCORS</Name></Step></Request></PreFlow>
  <PostClientFlow><Response><Step><Name>AM-Post</Name></Step></Response></PostClientFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="t"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`,
		"targets/default.xml": `<TargetEndpoint name="default">
  <PreFlow name="PreFlow"><Request><Step><Name>AM-Post</Name></Step></Request></PreFlow>
  <HTTPTargetConnection><URL>http://backend.internal</URL></HTTPTargetConnection></TargetEndpoint>`,
		"policies/CORS-CheckCORS.xml": secCORSPolicy,
		"policies/AM-Post.xml":        `<AssignMessage name="AM-Post"><AssignVariable><Name>post.ran</Name><Value>yes</Value></AssignVariable></AssignMessage>`,
	})
	req := &flowengine.Request{Method: "OPTIONS", Scheme: "https", Authority: "api.example.com", Path: "/v1/x", ID: "r", BodyKnownEmpty: true,
		Headers: []flowengine.Header{{Name: "Origin", Value: "https://app.example"}, {Name: "Access-Control-Request-Method", Value: "DELETE"}}}
	o, get := p.RunForTest(context.Background(), req, secFailHost{t})
	if o.Status != 200 || o.Error != "" || calloutHeader(o, "access-control-allow-methods") != "GET, PUT, POST, DELETE" {
		t.Fatalf("preflight: %s", answer(o))
	}
	if v, _ := get("post.ran"); v != "" {
		t.Fatalf("a request step after the answer ran (post.ran=%q)", v)
	}
	if o.After == nil {
		t.Fatal("no PostClientFlow after the answer")
	}
	o.After(context.Background())
	if v, _ := get("post.ran"); v != "yes" {
		t.Fatalf("PostClientFlow did not run (post.ran=%q)", v)
	}
}
