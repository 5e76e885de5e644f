package envoy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// perRouteYAML is a bootstrap exercising per-route ext_proc configs
// (Envoy's ext_proc: per-route ExtProcPerRoute settings merge from less to more specific; a minimal Envoy config).
const perRouteYAML = `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 0.0.0.0, port_value: 10000 } }
    per_connection_buffer_limit_bytes: 4096
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          max_request_headers_kb: 30
          common_http_protocol_options: { max_headers_count: 50 }
          access_log:
          - name: custom
            typed_config:
              "@type": type.googleapis.com/example.unknown.v1.Logger
              whatever: { nested: true }
          route_config:
            name: local
            virtual_hosts:
            - name: other
              domains: ["other.example"]
              routes:
              - name: other-all
                match: { prefix: "/" }
                route: { cluster: up }
                typed_per_filter_config:
                  ext:
                    "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig
                    disabled: true
            - name: main
              domains: ["*"]
              typed_per_filter_config:
                ext:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                  overrides:
                    grpc_initial_metadata:
                    - { key: x-vhost, value: main }
                    - { key: x-route, value: from-vhost }
              routes:
              - name: health
                match: { prefix: "/healthz" }
                route: { cluster: up }
                typed_per_filter_config:
                  ext:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                    disabled: true
              - name: upload
                match: { prefix: "/upload" }
                route: { cluster: up }
                typed_per_filter_config:
                  ext:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                    overrides:
                      processing_mode: { request_header_mode: SEND, response_header_mode: SKIP, request_body_mode: BUFFERED }
                      grpc_initial_metadata:
                      - { key: x-route, value: upload }
              - name: failopen
                match: { path: "/failopen" }
                route: { cluster: up }
                typed_per_filter_config:
                  ext:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                    overrides: { failure_mode_allow: true }
              - name: regex
                match: { safe_regex: { regex: "/items/[0-9]+" } }
                route: { cluster: up }
              - name: tenant
                match:
                  prefix: "/t"
                  headers: [ { name: x-tenant, string_match: { exact: acme } } ]
                route: { cluster: up }
              - name: api
                match: { prefix: "/api" }
                route: { cluster: up }
          http_filters:
          - name: ext
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
              grpc_service:
                envoy_grpc: { cluster_name: proc }
                initial_metadata:
                - { key: x-extproc-client, value: envoy }
                - { key: x-route, value: filter }
              message_timeout: 2s
              processing_mode: { request_header_mode: SEND, response_header_mode: SEND }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: proc
    type: STATIC
    load_assignment:
      cluster_name: proc
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 10.0.0.7, port_value: 50051 } } }
`

func writeYAML(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func metadataOf(eff *EffectiveConfig) []string {
	var out []string
	for _, h := range eff.InitialMetadata {
		out = append(out, h.GetKey()+"="+h.GetValue())
	}
	return out
}

// TestLoadFilterConfig checks what the loader extracts from a bootstrap
// and how ForRequest merges per-route configs (Envoy's ext_proc: per-route ExtProcPerRoute settings merge from less to more specific).
func TestLoadFilterConfig(t *testing.T) {
	fc, err := LoadFilterConfig(writeYAML(t, perRouteYAML))
	if err != nil {
		t.Fatalf("LoadFilterConfig: %v", err)
	}
	if fc.Name != "ext" || fc.BufferLimit != 4096 || fc.MaxHeadersCount != 50 || fc.MaxRequestHeadersKB != 30 ||
		fc.ProcessorAddress != "10.0.0.7:50051" || len(fc.Routes) != 7 {
		t.Fatalf("config = name %q limit %d headers %d/%d addr %q routes %d",
			fc.Name, fc.BufferLimit, fc.MaxHeadersCount, fc.MaxRequestHeadersKB, fc.ProcessorAddress, len(fc.Routes))
	}
	if fc.Filter.GetMessageTimeout().AsDuration().Seconds() != 2 {
		t.Errorf("filter not parsed: %v", fc.Filter)
	}
	tests := []struct {
		authority, path string
		headers         []Header
		wantRoute       string
		wantDisabled    bool
		wantNoRoute     bool
		wantBody        extprocfilterv3.ProcessingMode_BodySendMode
		wantMD          []string
		wantFMA         bool
	}{
		{path: "/healthz", wantRoute: "health", wantDisabled: true},
		{path: "/upload/x", wantRoute: "upload", wantBody: BUFFERED,
			wantMD: []string{"x-extproc-client=envoy", "x-route=upload", "x-vhost=main"}},
		{path: "/failopen?x=1", wantRoute: "failopen", wantFMA: true,
			wantMD: []string{"x-extproc-client=envoy", "x-route=from-vhost", "x-vhost=main"}},
		{path: "/failopen/more", wantNoRoute: true, wantMD: []string{"x-extproc-client=envoy", "x-route=filter"}},
		{path: "/items/42", wantRoute: "regex", wantMD: []string{"x-extproc-client=envoy", "x-route=from-vhost", "x-vhost=main"}},
		{path: "/items/abc", wantNoRoute: true, wantMD: []string{"x-extproc-client=envoy", "x-route=filter"}},
		{path: "/t/1", headers: []Header{{"X-Tenant", "acme"}}, wantRoute: "tenant",
			wantMD: []string{"x-extproc-client=envoy", "x-route=from-vhost", "x-vhost=main"}},
		{path: "/t/1", headers: []Header{{"x-tenant", "other"}}, wantNoRoute: true, wantMD: []string{"x-extproc-client=envoy", "x-route=filter"}},
		{authority: "other.example", path: "/api", wantRoute: "other-all", wantDisabled: true},
		{authority: "api.example:8080", path: "/api/v1", wantRoute: "api",
			wantMD: []string{"x-extproc-client=envoy", "x-route=from-vhost", "x-vhost=main"}},
	}
	for _, tc := range tests {
		t.Run(tc.authority+tc.path, func(t *testing.T) {
			eff := fc.ForRequest(tc.authority, tc.path, tc.headers)
			name := ""
			if eff.Route != nil {
				name = eff.Route.Name
			}
			if name != tc.wantRoute || eff.NoRoute != tc.wantNoRoute || eff.Disabled != tc.wantDisabled {
				t.Fatalf("route %q noRoute=%v disabled=%v", name, eff.NoRoute, eff.Disabled)
			}
			if eff.Disabled {
				pm := eff.ProcessingMode
				if pm.GetRequestHeaderMode() != SKIP || pm.GetResponseHeaderMode() != SKIP || pm.GetRequestBodyMode() != NONE {
					t.Errorf("disabled mode = %v", pm)
				}
				return
			}
			if eff.ProcessingMode.GetRequestBodyMode() != tc.wantBody {
				t.Errorf("request body mode = %v", eff.ProcessingMode.GetRequestBodyMode())
			}
			got := metadataOf(eff)
			slices.Sort(got)
			if !slices.Equal(got, tc.wantMD) {
				t.Errorf("initial metadata = %v, want %v", got, tc.wantMD)
			}
			if (eff.FailureModeAllow != nil && *eff.FailureModeAllow) != tc.wantFMA {
				t.Errorf("failure_mode_allow override = %v", eff.FailureModeAllow)
			}
		})
	}
}

// TestPerRouteEndToEnd drives a client built from YAML: disabled routes
// open no stream, overrides change the mode and the gRPC metadata, the
// per-route failure_mode_allow applies from 1.35 (Envoy's ext_proc: failure_mode_allow; per-route ExtProcPerRoute settings merge from less to more specific).
func TestPerRouteEndToEnd(t *testing.T) {
	fc, err := ParseFilterConfig([]byte(perRouteYAML))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		version     Version
		path        string
		handler     func(*fakeStream) error
		wantStreams int
		wantStatus  int
		wantSeq     []string
		wantMD      map[string]string
	}{
		{name: "disabled route opens no stream", path: "/healthz", handler: passThrough, wantStatus: 200},
		{name: "override: BUFFERED request, response SKIP, merged metadata", path: "/upload", handler: passThrough,
			wantStreams: 1, wantStatus: 200,
			wantSeq: []string{"request_headers eos=false", `request_body "data" eos=true`},
			wantMD:  map[string]string{"x-extproc-client": "envoy", "x-route": "upload", "x-vhost": "main"}},
		{name: "per-route failure_mode_allow", path: "/failopen", wantStreams: 1, wantStatus: 200,
			handler: func(st *fakeStream) error { st.expect("request_headers"); return status.Error(codes.Internal, "x") }},
		{name: "per-route failure_mode_allow ignored before 1.35", version: Version{1, 34}, path: "/failopen", wantStreams: 1, wantStatus: 500,
			handler: func(st *fakeStream) error { st.expect("request_headers"); return status.Error(codes.Internal, "x") }},
		{name: "no route: 404 through response processing", path: "/nowhere", handler: passThrough, wantStreams: 1, wantStatus: 404,
			wantSeq: []string{"request_headers eos=false", "response_headers eos=true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.handler)
			v := tc.version
			if v == (Version{}) {
				v = DefaultVersion
			}
			c := h.clientFor(fc, WithVersion(v))
			up := &captureUpstream{}
			resp := do(t, c, &HTTPRequest{Method: "POST", Path: tc.path, Authority: "h", Body: []byte("data")}, up)
			if resp.Status != tc.wantStatus {
				t.Errorf("status = %d %q, want %d", resp.Status, resp.Details, tc.wantStatus)
			}
			if n := len(h.streams()); n != tc.wantStreams {
				t.Fatalf("streams = %d, want %d", n, tc.wantStreams)
			}
			if tc.wantStreams == 0 {
				return
			}
			st := h.onlyStream()
			if tc.wantSeq != nil && !slices.Equal(st.kinds(), tc.wantSeq) {
				t.Errorf("sequence = %q, want %q", st.kinds(), tc.wantSeq)
			}
			for k, v := range tc.wantMD {
				if got := st.md.Get(k); !slices.Equal(got, []string{v}) {
					t.Errorf("gRPC metadata %s = %v, want %q", k, got, v)
				}
			}
		})
	}
}

// TestLoadShippedConfigs: the loader parses the repository's Envoy configs
// and their per-route configs are consistent with ForPath (Envoy's ext_proc: a minimal Envoy config).
func TestLoadShippedConfigs(t *testing.T) {
	for _, name := range []string{"envoy.yaml", "sidecar.yaml"} {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(name); err != nil {
				t.Skipf("%s not present: %v", name, err)
			}
			fc, err := LoadFilterConfig(name)
			if err != nil {
				t.Fatalf("LoadFilterConfig: %v", err)
			}
			if fc.Filter.GetGrpcService() == nil {
				t.Errorf("filter has no grpc_service")
			}
			if _, err := NewClientFromProcessor(nopProcessor{}, fc); err != nil {
				t.Errorf("config rejected by the client: %v", err)
			}
			for _, r := range fc.Routes {
				p := r.Match.GetPrefix()
				if p == "" {
					continue
				}
				eff := fc.ForRequest("", p, nil)
				if eff.Route == nil || eff.Route.Name != r.Name || eff.Route.VirtualHost != r.VirtualHost {
					continue // shadowed by an earlier route
				}
				disabled := false
				for _, pr := range r.PerFilterConfig {
					disabled = pr.GetDisabled()
				}
				if eff.Disabled != disabled {
					t.Errorf("route %s: Disabled = %v, want %v", p, eff.Disabled, disabled)
				}
			}
		})
	}
}

// TestParseFilterConfigErrors covers loader failures.
func TestParseFilterConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantErr    error
		wantText   string
	}{
		{name: "no ext_proc filter", wantErr: ErrNoExtProcFilter, yaml: `
static_resources:
  listeners:
  - name: l
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: x
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`},
		{name: "not YAML", yaml: "a: [", wantText: "yaml"},
		{name: "unknown field in a known message", wantText: "message_timeoutt",
			yaml: strings.Replace(perRouteYAML, "message_timeout: 2s", "message_timeoutt: 2s", 1)},
		{name: "wrong per-route type", wantText: "is not ExtProcPerRoute", yaml: strings.Replace(perRouteYAML,
			"v3.ExtProcPerRoute\n                    disabled: true", "v3.ExternalProcessor\n                    failure_mode_allow: true", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFilterConfig([]byte(tc.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantText != "" && !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantText)
			}
		})
	}
	if _, err := LoadFilterConfig(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

// TestNewFilterConfig: programmatic configs have no routes; every request
// gets the filter-level settings.
func TestNewFilterConfig(t *testing.T) {
	p := &extprocfilterv3.ExternalProcessor{
		GrpcService:    &corev3.GrpcService{InitialMetadata: []*corev3.HeaderValue{{Key: "k", Value: "v"}}},
		ProcessingMode: mode(SEND, SKIP, STREAMED, NONE, DEF, DEF),
	}
	eff := NewFilterConfig(p).ForPath("/anything")
	if eff.Route != nil || eff.NoRoute || eff.Disabled || eff.ProcessingMode.GetRequestBodyMode() != STREAMED ||
		!slices.Equal(metadataOf(eff), []string{"k=v"}) {
		t.Errorf("effective = %+v", eff)
	}
	if got := NewFilterConfig(nil).ForPath("/").Filter; got == nil {
		t.Error("nil filter not defaulted")
	}
}

// TestValidateFilter: config-load checks (Envoy's ext_proc: the processing-mode rules Envoy enforces when it loads the config; what each Envoy release supports).
func TestValidateFilter(t *testing.T) {
	fds := mode(SEND, SEND, FDS, NONE, SEND, DEF)
	tests := []struct {
		name    string
		f       *extprocfilterv3.ExternalProcessor
		version Version
		ok      bool
	}{
		{"defaults", &extprocfilterv3.ExternalProcessor{}, DefaultVersion, true},
		{"FDS needs trailer SEND", &extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, FDS, NONE, DEF, DEF)}, DefaultVersion, false},
		{"FDS response needs trailer SEND", &extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, NONE, FDS, DEF, DEF)}, DefaultVersion, false},
		{"FDS with trailer SEND", &extprocfilterv3.ExternalProcessor{ProcessingMode: fds}, DefaultVersion, true},
		{"FDS + failure_mode_allow rejected on 1.35", &extprocfilterv3.ExternalProcessor{ProcessingMode: fds, FailureModeAllow: true}, Version{1, 35}, false},
		{"FDS + failure_mode_allow accepted on 1.36", &extprocfilterv3.ExternalProcessor{ProcessingMode: fds, FailureModeAllow: true}, Version{1, 36}, true},
		{"FDS before 1.33", &extprocfilterv3.ExternalProcessor{ProcessingMode: fds}, Version{1, 32}, false},
		{"http_service unsupported", &extprocfilterv3.ExternalProcessor{HttpService: &extprocfilterv3.ExtProcHttpService{}}, DefaultVersion, false},
		{"route cache flags conflict", &extprocfilterv3.ExternalProcessor{DisableClearRouteCache: true,
			RouteCacheAction: extprocfilterv3.ExternalProcessor_CLEAR}, DefaultVersion, false},
		{"message_timeout over 1h", &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(3601 * 1000)}, DefaultVersion, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClientFromProcessor(nopProcessor{}, NewFilterConfig(tc.f), WithVersion(tc.version))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("err = %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
}

// TestParseVersion covers the version knob's parser.
func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want Version
		ok   bool
	}{{"1.37", Version{1, 37}, true}, {"v1.35.2", Version{1, 35}, true}, {"137", Version{}, false}, {"1.x", Version{}, false}}
	for _, tc := range tests {
		got, err := ParseVersion(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseVersion(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// TestRouteMatchers covers the path matchers individually.
func TestRouteMatchers(t *testing.T) {
	f := func(b bool) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/API"}, CaseSensitive: wrapBool(b)}
	}
	tests := []struct {
		name string
		m    *routev3.RouteMatch
		path string
		want bool
	}{
		{"prefix includes the query", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/a?x"}}, "/a?x=1", true},
		{"path ignores the query", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/a"}}, "/a?x=1", true},
		{"path is exact", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/a"}}, "/ab", false},
		{"path_separated_prefix", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/a"}}, "/a/b", true},
		{"path_separated_prefix boundary", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/a"}}, "/ab", false},
		{"case-insensitive prefix", f(false), "/api/x", true},
		{"case-sensitive prefix", f(true), "/api/x", false},
		{"nil match", nil, "/", true},
	}
	for _, tc := range tests {
		if got := routeMatches(tc.m, tc.path, nil); got != tc.want {
			t.Errorf("%s: routeMatches(%q) = %v", tc.name, tc.path, got)
		}
	}
}
