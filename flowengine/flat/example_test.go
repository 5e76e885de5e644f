package flat

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// The embedded example project (examples/hello), route by route, through
// the engine alone. e2e/ runs the same routes through ext_proc.

func loadExample(t testing.TB) *Project {
	t.Helper()
	p, errs := Load("../../examples/hello", Options{Env: []string{"FLAT_STAGE=test"}, Logger: quietLogger})
	if p == nil {
		t.Fatalf("example does not load:\n%v", errs)
	}
	return p
}

func TestExampleRoutes(t *testing.T) {
	p := loadExample(t)
	tests := []struct {
		name       string
		method     string
		path       string
		headers    []flowengine.Header
		body       string
		upstream   *flowengine.Response
		wantKind   flowengine.OutcomeKind
		wantStatus int
		wantJSON   string
		wantHeader map[string]string
		wantFwd    *flowengine.Mutation
	}{
		{
			name: "hello template", method: "GET", path: "/api/hello/world?lang=de",
			headers:  []flowengine.Header{{Name: "user-agent", Value: "curl/8"}},
			wantKind: flowengine.Answered, wantStatus: 200,
			wantJSON:   `{"greeting":"Hello, World!","lang":"de","method":"GET","agent":"curl/8","stage":"test"}`,
			wantHeader: map[string]string{"x-request-id": "rid-1", "x-service": "hello", "content-type": "application/json"},
		},
		{
			name: "hello teapot goes through the error flow", method: "GET", path: "/api/hello/teapot",
			wantKind: flowengine.Answered, wantStatus: 418,
			wantJSON:   `{"error":{"message":"I'm a teapot","code":4180,"requestID":"rid-1"}}`,
			wantHeader: map[string]string{"error-code": "4180", "x-request-id": "rid-1"},
		},
		{
			name: "echo reads the JSON body", method: "POST", path: "/api/echo",
			headers:  []flowengine.Header{{Name: "content-type", Value: "application/json"}},
			body:     `{"items":[{"name":"tea","price":3},{"name":"cake","price":4.5}]}`,
			wantKind: flowengine.Answered, wantStatus: 201,
			wantJSON: `{"count":2,"names":["TEA","CAKE"],"total":7.5}`,
		},
		{
			name: "echo without items", method: "POST", path: "/api/echo",
			headers:  []flowengine.Header{{Name: "content-type", Value: "application/json"}},
			body:     `{}`,
			wantKind: flowengine.Answered, wantStatus: 400,
			wantJSON: `{"error":{"message":"body needs an items array","code":4001,"requestID":"rid-1"}}`,
		},
		{
			name: "upstream proxied and post-processed", method: "GET", path: "/api/upstream/things?x=1",
			headers:    []flowengine.Header{{Name: "authorization", Value: "Bearer t"}},
			upstream:   &flowengine.Response{Status: 200, Headers: []flowengine.Header{{Name: "content-type", Value: "text/plain"}}},
			wantKind:   flowengine.Forwarded,
			wantHeader: map[string]string{"x-upstream-status": "200", "x-request-id": "rid-1"},
			wantFwd: &flowengine.Mutation{Path: "/v2/things?x=1", Authority: "upstream",
				SetHeaders:    []flowengine.Header{{Name: "x-flowproc", Value: "1"}, {Name: "x-request-id", Value: "rid-1"}},
				RemoveHeaders: []string{"authorization"}},
		},
		{
			name: "upstream 5xx becomes 502", method: "GET", path: "/api/upstream/boom",
			upstream: &flowengine.Response{Status: 503},
			wantKind: flowengine.Forwarded, wantStatus: 502,
			wantJSON:   `{"error":{"message":"Upstream failed","code":5020,"requestID":"rid-1"}}`,
			wantHeader: map[string]string{"error-code": "5020"},
		},
		{
			name: "x-flat-proxy route", method: "GET", path: "/api/status/health",
			upstream: &flowengine.Response{Status: 204},
			wantKind: flowengine.Forwarded,
			wantFwd: &flowengine.Mutation{Path: "/status/health", Authority: "upstream",
				SetHeaders: []flowengine.Header{{Name: "x-proxied-by", Value: "flowproc"}}},
		},
		{
			name: "unknown path", method: "GET", path: "/api/nope",
			wantKind: flowengine.Answered, wantStatus: 400,
			wantJSON: `{"error":{"message":"Input Validation Failed","code":3204,"requestID":"rid-1"}}`,
		},
		{
			name: "outside the base path finds no flow", method: "GET", path: "/index.html",
			wantKind: flowengine.Answered, wantStatus: 404,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &flowengine.Request{Method: tt.method, Scheme: "http", Authority: "localhost:10000", Path: tt.path, Headers: tt.headers, ID: "rid-1", BodyKnownEmpty: tt.body == ""}
			h := &fakeHost{body: []byte(tt.body), resp: tt.upstream}
			out := p.Run(context.Background(), req, h)
			if out.Kind != tt.wantKind {
				t.Fatalf("kind %s, want %s (status %d body %s)", out.Kind, tt.wantKind, out.Status, out.Body)
			}
			if tt.wantStatus != 0 && out.Status != tt.wantStatus {
				t.Errorf("status %d, want %d (body %s)", out.Status, tt.wantStatus, out.Body)
			}
			if tt.wantJSON != "" {
				assertJSONEqual(t, out.Body, tt.wantJSON)
			}
			for k, v := range tt.wantHeader {
				if got, _ := headerValue(out.SetHeaders, k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.wantFwd != nil {
				if len(h.forwards) != 1 {
					t.Fatalf("forwards %d, want 1", len(h.forwards))
				}
				g := h.forwards[0]
				if g.Path != tt.wantFwd.Path || g.Authority != tt.wantFwd.Authority ||
					fmtHeaders(g.SetHeaders) != fmtHeaders(tt.wantFwd.SetHeaders) ||
					strings.Join(g.RemoveHeaders, ",") != strings.Join(tt.wantFwd.RemoveHeaders, ",") {
					t.Errorf("forward = %s, want %s", fmtForwards([]*flowengine.Mutation{g}), fmtForwards([]*flowengine.Mutation{tt.wantFwd}))
				}
			}
		})
	}
}

func fmtHeaders(hs []flowengine.Header) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.Name + "=" + h.Value + ";")
	}
	return b.String()
}

func assertJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("body = %s, want %s", gb, wb)
	}
}
