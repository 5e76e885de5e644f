package extproc_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

// originRunner forwards to the origin named by the request's x-origin
// header ("" keeps the configured upstream).
type originRunner struct{}

func (originRunner) Run(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
	m := &flowengine.Mutation{}
	for _, hd := range req.Headers {
		if hd.Name == "x-origin" {
			scheme, authority, _ := strings.Cut(hd.Value, "://")
			m.Scheme, m.Authority, m.Path = scheme, authority, "/from-flow"+req.Path
		}
	}
	if _, err := h.Forward(ctx, m); err != nil {
		return nil
	}
	return &flowengine.Outcome{Kind: flowengine.Forwarded}
}

// TestUpstreamChoiceThroughShippedConfig runs the flowproc server behind
// the Envoy-faithful client loaded with the shipped envoy/envoy.yaml: a
// flow's forward mutation to two authorities reaches two local servers
// (the Router's Hosts play DNS), each seeing the origin's Host; without a
// choice the static upstream cluster serves; a client cannot pick the
// upstream by sending x-flowproc-upstream-scheme itself.
func TestUpstreamChoiceThroughShippedConfig(t *testing.T) {
	origin := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s host=%s path=%s internal=%q", name, r.Host, r.URL.Path, r.Header.Get(extproc.UpstreamSchemeHeader))
		}))
	}
	one, two := origin("one"), origin("two")
	defer one.Close()
	defer two.Close()
	router := &envoy.Router{
		Hosts: map[string]string{
			"one.example:80":   strings.TrimPrefix(one.URL, "http://"),
			"two.example:8080": strings.TrimPrefix(two.URL, "http://"),
		},
		Clusters: map[string]envoy.Upstream{"upstream": envoy.UpstreamFunc(func(_ context.Context, r *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
			return &envoy.UpstreamResponse{Status: 200, Body: []byte("static host=" + r.Authority + " path=" + r.Path)}, nil
		})},
	}
	defer router.CloseIdleConnections()
	srv := extproc.New(extproc.Options{Resolver: oneRunner{originRunner{}}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
	if err != nil {
		t.Fatal(err)
	}
	c, err := envoy.NewClient(extproctest.Dial(t, srv), fc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name    string
		headers []envoy.Header
		want    string
	}{
		{"flow picks origin one", []envoy.Header{{Name: "x-origin", Value: "http://one.example"}},
			`one host=one.example path=/from-flow/items internal=""`},
		{"flow picks origin two", []envoy.Header{{Name: "x-origin", Value: "http://two.example:8080"}},
			`two host=two.example:8080 path=/from-flow/items internal=""`},
		{"no choice: the static upstream", nil, "static host=gw.local path=/items"},
		{"a client-sent routing header is ignored",
			[]envoy.Header{{Name: extproc.UpstreamSchemeHeader, Value: "http"}}, "static host=gw.local path=/items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/items", Headers: tc.headers}, router)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || string(resp.Body) != tc.want {
				t.Fatalf("got %d %s %q\nwant 200 %q", resp.Status, resp.Details, resp.Body, tc.want)
			}
		})
	}
}
