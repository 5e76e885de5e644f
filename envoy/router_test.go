package envoy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// routingYAML is a bootstrap routed like the shipped configs: requests that
// carry x-flowproc-upstream-scheme go to a dynamic forward proxy cluster
// (plain or TLS), the rest to the static cluster. %s is extra ext_proc
// filter settings.
const routingYAML = `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 0.0.0.0, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              request_headers_to_remove: [x-flowproc-upstream-scheme]
              routes:
              - match: { prefix: "/", headers: [{ name: x-flowproc-upstream-scheme, string_match: { exact: https } }] }
                route: { cluster: dfp_https }
              - match: { prefix: "/", headers: [{ name: x-flowproc-upstream-scheme, string_match: { exact: http } }] }
                route: { cluster: dfp_http }
              - match: { prefix: "/by-header/" }
                route: { cluster_header: x-cluster }
              - match: { prefix: "/" }
                route: { cluster: upstream_service }
          http_filters:
          - name: envoy.filters.http.ext_proc
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
              grpc_service: { envoy_grpc: { cluster_name: ext_proc } }
              message_timeout: 5s
              mutation_rules: { allow_all_routing: true }
              processing_mode: { response_header_mode: SKIP }
%s
          - name: envoy.filters.http.dynamic_forward_proxy
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig
              dns_cache_config: { name: dfp, dns_lookup_family: V4_ONLY }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream_service
    type: STATIC
    load_assignment:
      cluster_name: upstream_service
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } } }] }]
  - name: dfp_http
    lb_policy: CLUSTER_PROVIDED
    cluster_type:
      name: envoy.clusters.dynamic_forward_proxy
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig
        dns_cache_config: { name: dfp, dns_lookup_family: V4_ONLY }
  - name: dfp_https
    lb_policy: CLUSTER_PROVIDED
    cluster_type:
      name: envoy.clusters.dynamic_forward_proxy
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig
        dns_cache_config: { name: dfp, dns_lookup_family: V4_ONLY }
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
  - name: ext_proc
    type: STATIC
    load_assignment:
      cluster_name: ext_proc
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 50051 } } } }] }]
`

// TestRouteByAuthority checks that a forward mutation chooses the upstream
// as in Envoy: after clear_route_cache (or with route_cache_action CLEAR)
// the route is re-matched on the mutated headers and the request reaches
// the server the new :authority resolves to, with the origin's Host, SNI
// and scheme; without a cleared cache the route of the original request is
// kept.
func TestRouteByAuthority(t *testing.T) {
	server := func(name string, tlsOn bool) *httptest.Server {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sni := ""
			if r.TLS != nil {
				sni = r.TLS.ServerName
			}
			fmt.Fprintf(w, "%s host=%s sni=%s scheme-header=%q path=%s", name, r.Host, sni, r.Header.Get("x-flowproc-upstream-scheme"), r.URL.Path)
		})
		if tlsOn {
			return httptest.NewTLSServer(h)
		}
		return httptest.NewServer(h)
	}
	alpha, beta, secure := server("alpha", false), server("beta", false), server("secure", true)
	defer alpha.Close()
	defer beta.Close()
	defer secure.Close()
	roots := x509.NewCertPool()
	roots.AddCert(secure.Certificate())
	addr := func(s *httptest.Server) string {
		return strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
	}
	router := &Router{
		Hosts: map[string]string{"alpha.test": addr(alpha), "beta.test:8081": addr(beta), "example.com:443": addr(secure)},
		TLS:   &tls.Config{RootCAs: roots},
		Clusters: map[string]Upstream{"upstream_service": UpstreamFunc(func(_ context.Context, r *HTTPRequest) (*UpstreamResponse, error) {
			return &UpstreamResponse{Status: 200, Body: []byte("default host=" + r.Authority)}, nil
		})},
	}
	tests := []struct {
		name        string
		filter      string // extra ext_proc settings
		set         [][2]string
		clear       bool
		path        string
		want        string
		wantStatus  int
		wantDetails string
		wantDisable uint64
	}{
		{name: "authority to a plain origin", set: [][2]string{{":authority", "alpha.test"}, {"x-flowproc-upstream-scheme", "http"}}, clear: true,
			want: `alpha host=alpha.test sni= scheme-header="" path=/items`},
		{name: "another authority with a port reaches another server", set: [][2]string{{":authority", "beta.test:8081"}, {"x-flowproc-upstream-scheme", "http"}}, clear: true,
			want: `beta host=beta.test:8081 sni= scheme-header="" path=/items`},
		{name: "https origin: TLS cluster, SNI and default port 443", set: [][2]string{{":authority", "example.com"}, {"x-flowproc-upstream-scheme", "https"}, {":path", "/v2"}}, clear: true,
			want: `secure host=example.com sni=example.com scheme-header="" path=/v2`},
		{name: "without clear_route_cache the original route is kept", set: [][2]string{{":authority", "alpha.test"}, {"x-flowproc-upstream-scheme", "http"}},
			want: "default host=alpha.test"},
		{name: "disable_clear_route_cache keeps the route", filter: "disable_clear_route_cache: true",
			set: [][2]string{{":authority", "alpha.test"}, {"x-flowproc-upstream-scheme", "http"}}, clear: true,
			want: "default host=alpha.test", wantDisable: 1},
		{name: "route_cache_action RETAIN keeps the route", filter: "route_cache_action: RETAIN",
			set: [][2]string{{":authority", "alpha.test"}, {"x-flowproc-upstream-scheme", "http"}}, clear: true,
			want: "default host=alpha.test", wantDisable: 1},
		{name: "route_cache_action CLEAR re-routes without the flag", filter: "route_cache_action: CLEAR",
			set:  [][2]string{{":authority", "alpha.test"}, {"x-flowproc-upstream-scheme", "http"}},
			want: `alpha host=alpha.test sni= scheme-header="" path=/items`},
		{name: "cluster_header names the cluster", path: "/by-header/x", set: [][2]string{{"x-cluster", "dfp_http"}, {":authority", "alpha.test"}}, clear: true,
			want: `alpha host=alpha.test sni= scheme-header="" path=/by-header/x`},
		{name: "cluster_header without the header: cluster_not_found", path: "/by-header/x", set: [][2]string{{"x-other", "1"}}, clear: true,
			wantStatus: 503, wantDetails: "cluster_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(st *fakeStream) error {
				return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
					if r.GetRequestHeaders() == nil {
						return []*extprocv3.ProcessingResponse{st.passReply(r)}
					}
					m := mutation(nil)
					for _, kv := range tc.set {
						m.SetHeaders = append(m.SetHeaders, setH(kv[0], kv[1]))
					}
					return []*extprocv3.ProcessingResponse{reqHeadersResp(&extprocv3.CommonResponse{HeaderMutation: m, ClearRouteCache: tc.clear})}
				})
			})
			t.Cleanup(router.CloseIdleConnections)
			fc, err := ParseFilterConfig([]byte(fmt.Sprintf(routingYAML, "              "+tc.filter)))
			if err != nil {
				t.Fatal(err)
			}
			c := h.clientFor(fc)
			path := tc.path
			if path == "" {
				path = "/items"
			}
			resp := do(t, c, &HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: path}, router)
			want := tc.wantStatus
			if want == 0 {
				want = 200
			}
			if resp.Status != want || tc.wantDetails != "" && resp.Details != tc.wantDetails {
				t.Fatalf("status %d %s %q, want %d %s", resp.Status, resp.Details, resp.Body, want, tc.wantDetails)
			}
			if tc.want != "" && string(resp.Body) != tc.want {
				t.Errorf("upstream saw %q\nwant %q", resp.Body, tc.want)
			}
			if got := c.Stats().ClearRouteCacheDisabled; got != tc.wantDisable {
				t.Errorf("clear_route_cache_disabled = %d, want %d", got, tc.wantDisable)
			}
		})
	}
}
