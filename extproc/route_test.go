package extproc

import (
	"context"
	"errors"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/flowproc/flowproc/flowengine"
)

// TestForwardRouting checks how a forward mutation's upstream choice reaches
// Envoy: the scheme header and clear_route_cache next to :authority, nothing
// for path-only changes, removal (and a route re-evaluation) of a copy the
// client sent, and a fail-closed error for an unknown scheme.
func TestForwardRouting(t *testing.T) {
	forward := func(m flowengine.Mutation) runnerFunc {
		return func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
			if _, err := h.Forward(ctx, &m); err != nil {
				if errors.Is(err, ErrBadUpstreamScheme) {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 502}}
				}
				return nil
			}
			return &flowengine.Outcome{Kind: flowengine.Forwarded}
		}
	}
	tests := []struct {
		name   string
		run    runnerFunc
		extra  []string // request headers
		want   *extprocv3.ProcessingResponse
		answer bool
	}{
		{name: "authority and https scheme choose a TLS upstream",
			run: forward(flowengine.Mutation{Authority: "api.partner.test:8443", Scheme: "https", Path: "/v1/x"}),
			want: wantReqHeaders(&extprocv3.CommonResponse{ClearRouteCache: true, HeaderMutation: mut(nil,
				set(":path", "/v1/x"), set(":authority", "api.partner.test:8443"), set(UpstreamSchemeHeader, "https"))})},
		{name: "scheme alone re-routes the current authority",
			run: forward(flowengine.Mutation{Scheme: "http"}),
			want: wantReqHeaders(&extprocv3.CommonResponse{ClearRouteCache: true, HeaderMutation: mut(nil,
				set(UpstreamSchemeHeader, "http"))})},
		{name: "authority without scheme keeps the downstream scheme",
			run: forward(flowengine.Mutation{Authority: "other.test"}),
			want: wantReqHeaders(&extprocv3.CommonResponse{ClearRouteCache: true, HeaderMutation: mut(nil,
				set(":authority", "other.test"), set(UpstreamSchemeHeader, "https"))})},
		{name: "path only keeps the cached route",
			run:  forward(flowengine.Mutation{Path: "/v2/items"}),
			want: wantReqHeaders(&extprocv3.CommonResponse{HeaderMutation: mut(nil, set(":path", "/v2/items"))})},
		{name: "a client-sent scheme header is removed and the route re-evaluated",
			run: forward(flowengine.Mutation{}), extra: []string{UpstreamSchemeHeader, "https"},
			want: wantReqHeaders(&extprocv3.CommonResponse{ClearRouteCache: true, HeaderMutation: mut([]string{UpstreamSchemeHeader})})},
		{name: "a client-sent scheme header is replaced by the flow's choice",
			run: forward(flowengine.Mutation{Authority: "a.test", Scheme: "http"}), extra: []string{UpstreamSchemeHeader, "https"},
			want: wantReqHeaders(&extprocv3.CommonResponse{ClearRouteCache: true, HeaderMutation: mut(nil,
				set(":authority", "a.test"), set(UpstreamSchemeHeader, "http"))})},
		{name: "an unknown scheme is not forwarded",
			run:  forward(flowengine.Mutation{Authority: "a.test", Scheme: "ftp"}),
			want: wantImmediate(502, nil, "", "flowproc_demo"), answer: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, one(tc.run), 0)
			c := ts.open(t, "")
			c.send(reqHeaders("GET", "/items", true, nil, tc.extra...))
			c.expect(tc.want)
			if !tc.answer {
				c.send(respHeaders("200", true))
				c.expect(wantRespHeaders(&extprocv3.CommonResponse{}))
			}
			if err := c.end(); err != nil {
				t.Fatalf("stream ended with %v; logs:\n%s", err, ts.logs)
			}
		})
	}
}
