// Package e2e runs the example projects end to end over HTTP: a real HTTP
// client → a proxy playing Envoy (the Envoy-faithful client from flowproc
// dev, or a real Envoy when ENVOY_BIN is set) → flowproc's ext_proc gRPC
// server → an httptest upstream that records what it receives.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstreamRecorder is the test's upstream: it records every request and
// answers with a fixed response (per path prefix when configured).
type upstreamRecorder struct {
	mu   sync.Mutex
	reqs []recorded
	srv  *httptest.Server
}

type recorded struct {
	Method  string
	Path    string // path and query as received
	Headers http.Header
	Host    string
	Body    string
}

func newUpstream(t *testing.T) *upstreamRecorder {
	u := &upstreamRecorder{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, recorded{Method: r.Method, Path: r.URL.RequestURI(), Headers: r.Header.Clone(), Host: r.Host, Body: string(body)})
		u.mu.Unlock()
		status := http.StatusOK
		if strings.Contains(r.URL.Path, "/boom") {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("content-type", "application/json")
		w.Header().Set("x-upstream", "yes")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"upstream":true,"path":%q}`, r.URL.Path)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstreamRecorder) take() []recorded {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := u.reqs
	u.reqs = nil
	return out
}

// e2eCase is one HTTP request and everything the client and the upstream
// must see.
type e2eCase struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    string

	status     int
	respHeader map[string]string // exact values; "" = must be absent
	respJSON   string            // compared as JSON; empty = not checked
	respBody   string            // compared exactly when respJSON is empty

	// upstream: nil = the upstream must not be called.
	upstream *wantUpstream
}

type wantUpstream struct {
	method  string
	path    string
	headers map[string]string // exact; "" = absent
	body    string
}

// cases covers every route of examples/hello and deploy/projects/example.
var cases = []e2eCase{
	{
		name: "hello: answered from a template", method: "GET", path: "/api/hello/world?lang=de",
		headers:    map[string]string{"user-agent": "e2e/1"},
		status:     200,
		respHeader: map[string]string{"content-type": "application/json", "x-service": "hello", "x-request-id": "e2e-rid"},
		respJSON:   `{"greeting":"Hello, World!","lang":"de","method":"GET","agent":"e2e/1","stage":"dev"}`,
	},
	{
		name: "hello: error flow for the teapot", method: "GET", path: "/api/hello/teapot",
		status:     418,
		respHeader: map[string]string{"content-type": "application/json", "error-code": "4180"},
		respJSON:   `{"error":{"message":"I'm a teapot","code":4180,"requestID":"e2e-rid"}}`,
	},
	{
		name: "echo: JSON body read lazily", method: "POST", path: "/api/echo",
		headers:  map[string]string{"content-type": "application/json"},
		body:     `{"items":[{"name":"tea","price":3},{"name":"cake","price":4.5}]}`,
		status:   201,
		respJSON: `{"count":2,"names":["TEA","CAKE"],"total":7.5}`,
	},
	{
		name: "echo: body without items", method: "POST", path: "/api/echo",
		headers:  map[string]string{"content-type": "application/json"},
		body:     `{"other":1}`,
		status:   400,
		respJSON: `{"error":{"message":"body needs an items array","code":4001,"requestID":"e2e-rid"}}`,
	},
	{
		name: "upstream: proxied with path rewrite and headers", method: "GET", path: "/api/upstream/things?x=1",
		headers:    map[string]string{"authorization": "Bearer secret", "cookie": "s=1", "x-keep": "k"},
		status:     200,
		respHeader: map[string]string{"x-upstream-status": "200", "x-upstream": "yes", "x-service": "hello"},
		respJSON:   `{"upstream":true,"path":"/v2/things"}`,
		upstream: &wantUpstream{method: "GET", path: "/v2/things?x=1",
			headers: map[string]string{"x-flowproc": "1", "x-request-id": "e2e-rid", "x-keep": "k", "authorization": "", "cookie": ""}},
	},
	{
		name: "upstream: POST body passes through untouched", method: "POST", path: "/api/upstream/orders",
		headers: map[string]string{"content-type": "text/plain"},
		body:    "raw body bytes",
		status:  200,
		upstream: &wantUpstream{method: "POST", path: "/v2/orders", body: "raw body bytes",
			headers: map[string]string{"content-type": "text/plain", "x-flowproc": "1"}},
		respJSON: `{"upstream":true,"path":"/v2/orders"}`,
	},
	{
		name: "upstream: 5xx post-processed into 502", method: "GET", path: "/api/upstream/boom",
		status:     502,
		respHeader: map[string]string{"error-code": "5020", "content-type": "application/json"},
		respJSON:   `{"error":{"message":"Upstream failed","code":5020,"requestID":"e2e-rid"}}`,
		upstream:   &wantUpstream{method: "GET", path: "/v2/boom"},
	},
	{
		name: "status: x-flat-proxy route", method: "GET", path: "/api/status/ready",
		status:     200,
		respHeader: map[string]string{"x-request-id": "e2e-rid", "x-upstream": "yes"},
		respJSON:   `{"upstream":true,"path":"/status/ready"}`,
		upstream:   &wantUpstream{method: "GET", path: "/status/ready", headers: map[string]string{"x-proxied-by": "flowproc"}},
	},
	{
		name: "unknown path under the base path", method: "GET", path: "/api/nope",
		status:   400,
		respJSON: `{"error":{"message":"Input Validation Failed","code":3204,"requestID":"e2e-rid"}}`,
	},
	{
		name: "outside every base path: the default project finds no flow", method: "GET", path: "/index.html",
		status:   404,
		respBody: "e2e-rid: No flow found for GET /index.html\n",
	},
	{
		name: "route with ext_proc disabled goes straight upstream", method: "GET", path: "/healthz",
		status:     200,
		respHeader: map[string]string{"x-service": ""},
		upstream:   &wantUpstream{method: "GET", path: "/healthz"},
		respJSON:   `{"upstream":true,"path":"/healthz"}`,
	},
	{
		name: "example project by per-route metadata: answered", method: "GET", path: "/orders/hello",
		status:     200,
		respHeader: map[string]string{"content-type": "application/json"},
		respJSON:   `{"hello": "from flowproc", "project": "example"}`,
	},
	{
		name: "example project by per-route metadata: forwarded", method: "GET", path: "/orders/42",
		status:     200,
		respHeader: map[string]string{"x-flowproc-project": "example"},
		respJSON:   `{"upstream":true,"path":"/orders/42"}`,
		upstream:   &wantUpstream{method: "GET", path: "/orders/42"},
	},
}

// runCases sends every case to base and checks client and upstream views.
func runCases(t *testing.T, base string, up *upstreamRecorder) {
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up.take()
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, base+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("x-request-id", "e2e-rid")
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			rb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, c.status, rb)
			}
			for k, v := range c.respHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("response header %s = %q, want %q", k, got, v)
				}
			}
			switch {
			case c.respJSON != "":
				assertJSON(t, rb, c.respJSON)
			case c.respBody != "":
				if string(rb) != c.respBody {
					t.Errorf("body %q, want %q", rb, c.respBody)
				}
			}
			got := up.take()
			if c.upstream == nil {
				if len(got) != 0 {
					t.Errorf("upstream called %d times, want never: %+v", len(got), got[0])
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("upstream called %d times, want once", len(got))
			}
			g, w := got[0], c.upstream
			if g.Method != w.method || g.Path != w.path {
				t.Errorf("upstream got %s %s, want %s %s", g.Method, g.Path, w.method, w.path)
			}
			for k, v := range w.headers {
				if gv := g.Headers.Get(k); gv != v {
					t.Errorf("upstream header %s = %q, want %q", k, gv, v)
				}
			}
			if g.Body != w.body {
				t.Errorf("upstream body %q, want %q", g.Body, w.body)
			}
		})
	}
}

func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("body %s, want %s", gb, wb)
	}
}
