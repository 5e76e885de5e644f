package extproc_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

// detailsRunner forwards unchanged and records the Response its Forward
// returned; it answers a local reply itself (as an Apigee target fault
// would) and passes an upstream response through.
type detailsRunner struct {
	mu  sync.Mutex
	got []flowengine.Response
}

func (r *detailsRunner) Run(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
	resp, err := h.Forward(ctx, nil)
	if err != nil {
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 500, Body: []byte(err.Error())}}
	}
	r.mu.Lock()
	r.got = append(r.got, *resp)
	r.mu.Unlock()
	if resp.LocalReply() {
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 503, Body: []byte("flow saw " + resp.CodeDetails)}}
	}
	return &flowengine.Outcome{Kind: flowengine.Forwarded}
}

func (r *detailsRunner) last(t *testing.T) flowengine.Response {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("Forward returned no response")
	}
	return r.got[len(r.got)-1]
}

// TestCodeDetailsThroughShippedConfig runs the flowproc server behind the
// Envoy-faithful client loaded with the shipped envoy/envoy.yaml (which
// asks for response.code_details): when the upstream cannot be reached,
// the flow's Forward returns Envoy's 503 local reply marked as such, and
// the flow's own answer replaces it; a real upstream response is
// via_upstream.
func TestCodeDetailsThroughShippedConfig(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	run := &detailsRunner{}
	srv := extproc.New(extproc.Options{Resolver: oneRunner{run}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
	if err != nil {
		t.Fatal(err)
	}
	c, err := envoy.NewClient(extproctest.Dial(t, srv), fc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/items"}

	down := &envoy.Router{Clusters: map[string]envoy.Upstream{"upstream": &envoy.HTTPUpstream{Addr: dead}}}
	resp, err := c.Do(context.Background(), req, down)
	if err != nil {
		t.Fatal(err)
	}
	const details = "upstream_reset_before_response_started{connection_failure}"
	got := run.last(t)
	if got.Status != 503 || got.CodeDetails != details || !got.LocalReply() {
		t.Errorf("Forward returned %d %q local=%v", got.Status, got.CodeDetails, got.LocalReply())
	}
	if resp.Status != 503 || string(resp.Body) != "flow saw "+details {
		t.Errorf("client got %d %q, want the flow's answer", resp.Status, resp.Body)
	}

	up := &envoy.Router{Clusters: map[string]envoy.Upstream{"upstream": envoy.UpstreamFunc(func(context.Context, *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
		return &envoy.UpstreamResponse{Status: 503, Body: []byte("backend busy")}, nil
	})}}
	resp, err = c.Do(context.Background(), req, up)
	if err != nil {
		t.Fatal(err)
	}
	got = run.last(t)
	if got.Status != 503 || got.CodeDetails != "via_upstream" || got.LocalReply() {
		t.Errorf("Forward returned %d %q local=%v", got.Status, got.CodeDetails, got.LocalReply())
	}
	if resp.Status != 503 || string(resp.Body) != "backend busy" {
		t.Errorf("client got %d %q, want the backend's response", resp.Status, resp.Body)
	}
}
