package envoy

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// responseAttrs asks for the StreamInfo response attributes.
var responseAttrs = []string{"response.code", "response.code_details", "response.flags"}

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// responseHeadersMsg returns the response_headers message the server got
// and its attributes.
func responseHeadersMsg(t *testing.T, st *fakeStream) (*extprocv3.ProcessingRequest, map[string]*structpb.Value) {
	t.Helper()
	for _, r := range st.requests() {
		if r.GetResponseHeaders() != nil {
			return r, r.GetAttributes()[filterName].GetFields()
		}
	}
	t.Fatalf("no response_headers message: %v", st.kinds())
	return nil, nil
}

// TestUnreachableUpstreamAttributes: an upstream nothing listens on is the
// router's 503 local reply, which reaches the server as response_headers
// with Envoy's StreamInfo: response.code_details names the reset,
// response.flags has UF, and response.code is not set yet (the HCM sets it
// after the encoder filters).
func TestUnreachableUpstreamAttributes(t *testing.T) {
	h := newHarness(t, passThrough)
	c := h.client(&extprocfilterv3.ExternalProcessor{ResponseAttributes: responseAttrs, RequestAttributes: responseAttrs})
	resp := do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, &HTTPUpstream{Addr: closedAddr(t)})
	const details = "upstream_reset_before_response_started{connection_failure}"
	if resp.Status != 503 || !resp.Local || resp.Details != details {
		t.Errorf("response = %d local=%v %q", resp.Status, resp.Local, resp.Details)
	}
	msg, a := responseHeadersMsg(t, h.onlyStream())
	if !slices.Contains(headersOf(msg), ":status=503") {
		t.Errorf("response_headers = %v, want :status 503", headersOf(msg))
	}
	if got := a["response.code_details"].GetStringValue(); got != details {
		t.Errorf("response.code_details = %q, want %q", got, details)
	}
	if got := a["response.flags"].GetNumberValue(); got != float64(flagUpstreamConnectionFailure) {
		t.Errorf("response.flags = %v, want %d (UF)", got, flagUpstreamConnectionFailure)
	}
	if v, ok := a["response.code"]; ok {
		t.Errorf("response.code = %v, want absent for a local reply", v)
	}
	// The request direction's attributes see no response yet.
	ra := h.onlyStream().requests()[0].GetAttributes()[filterName].GetFields()
	if _, ok := ra["response.code_details"]; ok || ra["response.flags"].GetNumberValue() != 0 {
		t.Errorf("request attributes = %v, want no code_details and flags 0", ra)
	}
}

// TestUpstreamResponseAttributes: an upstream's response is via_upstream
// with its status as response.code and no flags.
func TestUpstreamResponseAttributes(t *testing.T) {
	h := newHarness(t, passThrough)
	c := h.client(&extprocfilterv3.ExternalProcessor{ResponseAttributes: responseAttrs})
	do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, &captureUpstream{resp: &UpstreamResponse{Status: 503}})
	_, a := responseHeadersMsg(t, h.onlyStream())
	if a["response.code_details"].GetStringValue() != "via_upstream" || a["response.code"].GetNumberValue() != 503 ||
		a["response.flags"].GetNumberValue() != 0 {
		t.Errorf("response attributes = %v", a)
	}
}

// routeTimeoutYAML routes everything to one cluster with the given route
// timeout; the ext_proc filter asks for the response attributes.
const routeTimeoutYAML = `
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
              routes:
              - match: { prefix: "/" }
                route: { cluster: upstream_service%s }
          http_filters:
          - name: envoy.filters.http.ext_proc
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
              grpc_service: { envoy_grpc: { cluster_name: ext_proc } }
              message_timeout: 5s
              response_attributes: [response.code_details, response.flags]
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream_service
    type: STATIC
    load_assignment:
      cluster_name: upstream_service
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } } }] }]
  - name: ext_proc
    type: STATIC
    http2_protocol_options: {}
    load_assignment:
      cluster_name: ext_proc
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 50051 } } } }] }]
`

// TestRouteTimeoutParsed: a route's timeout, Envoy's 15 s default when
// unset, and none for 0s.
func TestRouteTimeoutParsed(t *testing.T) {
	for _, tc := range []struct {
		extra string
		want  time.Duration
	}{
		{"", DefaultRouteTimeout},
		{", timeout: 0.25s", 250 * time.Millisecond},
		{", timeout: 0s", 0},
	} {
		fc, err := ParseFilterConfig([]byte(fmt.Sprintf(routeTimeoutYAML, tc.extra)))
		if err != nil {
			t.Fatalf("%q: %v", tc.extra, err)
		}
		if len(fc.Routes) != 1 || fc.Routes[0].Timeout != tc.want {
			t.Errorf("%q: routes %+v, want timeout %v", tc.extra, fc.Routes, tc.want)
		}
	}
}

// TestRouteTimeout: an upstream slower than the route timeout is the
// router's 504 "upstream request timeout" local reply (router.cc
// onResponseTimeout), processed by ext_proc with details response_timeout
// and flag UT; the upstream call is cancelled.
func TestRouteTimeout(t *testing.T) {
	h := newHarness(t, passThrough)
	fc, err := ParseFilterConfig([]byte(fmt.Sprintf(routeTimeoutYAML, ", timeout: 0.05s")))
	if err != nil {
		t.Fatal(err)
	}
	c := h.clientFor(fc)
	cancelled := make(chan struct{})
	up := &captureUpstream{hook: func(ctx context.Context, _ *HTTPRequest) {
		select {
		case <-ctx.Done():
			close(cancelled)
		case <-time.After(5 * time.Second):
		}
	}}
	start := time.Now()
	resp := do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, up)
	if resp.Status != 504 || !resp.Local || resp.Details != "response_timeout" || string(resp.Body) != "upstream request timeout" {
		t.Errorf("response = %d local=%v %q %q", resp.Status, resp.Local, resp.Details, resp.Body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v; the route timeout is 50ms", d)
	}
	select {
	case <-cancelled:
	default:
		t.Error("the upstream call was not cancelled")
	}
	msg, a := responseHeadersMsg(t, h.onlyStream())
	if !slices.Contains(headersOf(msg), ":status=504") || a["response.code_details"].GetStringValue() != "response_timeout" ||
		a["response.flags"].GetNumberValue() != float64(flagUpstreamRequestTimeout) {
		t.Errorf("response_headers %v with attributes %v", headersOf(msg), a)
	}
}

// TestRouteTimeoutNotHit: a response within the route timeout is
// forwarded as the upstream's.
func TestRouteTimeoutNotHit(t *testing.T) {
	h := newHarness(t, passThrough)
	fc, err := ParseFilterConfig([]byte(fmt.Sprintf(routeTimeoutYAML, ", timeout: 0.2s")))
	if err != nil {
		t.Fatal(err)
	}
	c := h.clientFor(fc)
	resp := do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, &captureUpstream{})
	if resp.Status != 200 || resp.Local || resp.Details != "via_upstream" {
		t.Errorf("response = %d local=%v %q", resp.Status, resp.Local, resp.Details)
	}
	_, a := responseHeadersMsg(t, h.onlyStream())
	if a["response.code_details"].GetStringValue() != "via_upstream" || a["response.flags"].GetNumberValue() != 0 {
		t.Errorf("response attributes = %v", a)
	}
}

// TestUpstreamRqTimeoutHeader: x-envoy-upstream-rq-timeout-ms (set by the
// client or by an ext_proc mutation) replaces the route's timeout and is
// consumed by the router, not sent upstream.
func TestUpstreamRqTimeoutHeader(t *testing.T) {
	h := newHarness(t, passThrough)
	fc, err := ParseFilterConfig([]byte(fmt.Sprintf(routeTimeoutYAML, ", timeout: 10s")))
	if err != nil {
		t.Fatal(err)
	}
	c := h.clientFor(fc)
	up := &captureUpstream{hook: func(ctx context.Context, _ *HTTPRequest) {
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}}
	start := time.Now()
	resp := do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h", Headers: []Header{{Name: "x-envoy-upstream-rq-timeout-ms", Value: "50"}}}, up)
	if resp.Status != 504 || resp.Details != "response_timeout" {
		t.Errorf("response = %d %q", resp.Status, resp.Details)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v; the header asked for 50ms", d)
	}
	for _, r := range up.got {
		for _, hd := range r.Headers {
			if hd.Name == "x-envoy-upstream-rq-timeout-ms" {
				t.Errorf("the router sent %s upstream", hd.Name)
			}
		}
	}
}
