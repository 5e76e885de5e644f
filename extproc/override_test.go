package extproc_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

// slowRunner waits (as for a side call) before forwarding the request
// unchanged.
type slowRunner struct{ wait time.Duration }

func (r slowRunner) Run(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
	select {
	case <-time.After(r.wait):
	case <-ctx.Done():
		return nil
	}
	if _, err := h.Forward(ctx, nil); err != nil {
		return nil
	}
	return &flowengine.Outcome{Kind: flowengine.Forwarded}
}

type oneRunner struct{ r flowengine.Runner }

func (o oneRunner) Resolve(string, string) (flowengine.Runner, string, bool) {
	return o.r, "slow", true
}

// TestOverrideMessageTimeout runs a flow that holds the request headers
// past Envoy's message_timeout through the Envoy-faithful client: with the
// server's override (and Envoy's max_message_timeout) the request succeeds;
// without either, or when the flow outlasts the override too, Envoy's 504
// applies.
func TestOverrideMessageTimeout(t *testing.T) {
	const messageTimeout = 100 * time.Millisecond
	tests := []struct {
		name        string
		serverMax   time.Duration // Options.MaxMessageTimeout
		envoyMax    time.Duration // max_message_timeout in the filter
		wait        time.Duration // the flow's wait before Forward
		wantStatus  int
		wantRecv    uint64
		wantIgnored uint64
	}{
		{name: "override lets a slow flow finish", serverMax: 2 * time.Second, envoyMax: 2 * time.Second,
			wait: 3 * messageTimeout, wantStatus: 200, wantRecv: 1},
		{name: "no override: Envoy's message timeout", serverMax: 0, envoyMax: 2 * time.Second,
			wait: 3 * messageTimeout, wantStatus: 504},
		{name: "Envoy without max_message_timeout ignores the override", serverMax: 2 * time.Second, envoyMax: 0,
			wait: 3 * messageTimeout, wantStatus: 504, wantIgnored: 1},
		{name: "override above Envoy's max is ignored", serverMax: 2 * time.Second, envoyMax: time.Second,
			wait: 3 * messageTimeout, wantStatus: 504, wantIgnored: 1},
		{name: "a flow outlasting the override still times out", serverMax: 150 * time.Millisecond, envoyMax: 2 * time.Second,
			wait: 5 * messageTimeout, wantStatus: 504, wantRecv: 1},
		{name: "a fast flow sends no override", serverMax: 2 * time.Second, envoyMax: 2 * time.Second,
			wait: 0, wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := extproc.New(extproc.Options{
				Resolver:          oneRunner{slowRunner{tc.wait}},
				Logger:            slog.New(slog.NewJSONHandler(io.Discard, nil)),
				MessageTimeout:    messageTimeout,
				MaxMessageTimeout: tc.serverMax,
			})
			conn := extproctest.Dial(t, srv)
			f := &extprocfilterv3.ExternalProcessor{
				MessageTimeout: durationpb.New(messageTimeout),
				ProcessingMode: &extprocfilterv3.ProcessingMode{ResponseHeaderMode: extprocfilterv3.ProcessingMode_SKIP},
			}
			if tc.envoyMax > 0 {
				f.MaxMessageTimeout = durationpb.New(tc.envoyMax)
			}
			c, err := envoy.NewClient(conn, envoy.NewFilterConfig(f))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			up := envoy.UpstreamFunc(func(context.Context, *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
				return &envoy.UpstreamResponse{Status: 200, Body: []byte("ok")}, nil
			})
			resp, err := c.Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "a.test", Path: "/"}, up)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", resp.Status, resp.Details, tc.wantStatus)
			}
			if tc.wantStatus == 504 && resp.Details != "ext_proc_error_per-message_timeout_exceeded" {
				t.Errorf("details %q, want Envoy's message timeout", resp.Details)
			}
			st := c.Stats()
			if st.OverrideMessageTimeoutReceived != tc.wantRecv || st.OverrideMessageTimeoutIgnored != tc.wantIgnored {
				t.Errorf("override received/ignored = %d/%d, want %d/%d", st.OverrideMessageTimeoutReceived,
					st.OverrideMessageTimeoutIgnored, tc.wantRecv, tc.wantIgnored)
			}
		})
	}
}
