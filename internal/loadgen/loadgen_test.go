package loadgen

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/examples"
	"github.com/flowproc/flowproc/extproc"
	_ "github.com/flowproc/flowproc/flowengine/frontends"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/internal/noopserver"
)

// childEnv makes the test binary act as a server child (TestStartChild).
const childEnv = "LOADGEN_TEST_SERVER_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(serveChild())
	}
	os.Exit(m.Run())
}

// serveChild is the child side of the StartChild protocol: serve, print the
// address, exit when stdin closes.
func serveChild() int {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	g := grpc.NewServer()
	(&noopserver.Server{}).Register(g)
	go func() { _ = g.Serve(lis) }()
	fmt.Printf("starting\n%s%s\n", AddrPrefix, lis.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	g.Stop()
	return 0
}

// serve runs a gRPC server with reg on a loopback port for the test.
func serve(t *testing.T, reg interface{ Register(*grpc.Server) }, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	reg.Register(g)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	t.Cleanup(func() {
		g.Stop()
		<-done
	})
	return lis.Addr().String()
}

// exampleServer serves the embedded example project in-process.
func exampleServer(t *testing.T) string {
	t.Helper()
	dir, err := examples.Extract(examples.Default)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(dir)) })
	set, err := projects.Load([]string{dir}, "", projects.LoadOptions{Env: []string{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := extproc.New(extproc.Options{Resolver: set, Logger: slog.New(slog.DiscardHandler)})
	return serve(t, srv, srv.GRPCOptions()...)
}

// checkOrdered fails unless the summary's percentiles are ordered.
func checkOrdered(t *testing.T, what string, s Summary) {
	t.Helper()
	if !(s.MinUS <= s.P50US && s.P50US <= s.P90US && s.P90US <= s.P99US && s.P99US <= s.P999US && s.P999US <= s.MaxUS) || s.MaxUS <= 0 {
		t.Errorf("%s percentiles not ordered or empty: %+v", what, s)
	}
}

func TestRun(t *testing.T) {
	noop := serve(t, &noopserver.Server{})
	example := exampleServer(t)
	buffered, err := WithModes(nil, []string{"request_body=BUFFERED"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		cfg           Config
		wantImmediate uint64
		wantStatuses  map[int]uint64
		wantMsgs      float64
		wantKinds     []string
	}{
		{
			name:         "no-op server, saturation",
			cfg:          Config{Target: noop, Count: 200, Workers: 8, Conns: 2, Request: Request{Paths: []string{"/a", "/b"}}},
			wantStatuses: map[int]uint64{200: 200}, wantMsgs: 2,
			wantKinds: []string{"request_headers", "response_headers"},
		},
		{
			name: "no-op server, fixed rate, buffered request body",
			cfg: Config{Target: noop, Count: 200, Rate: 4000, Workers: 8, Filter: buffered,
				Request: Request{Method: "POST", Paths: []string{"/x"}, Body: JSONBody(512)}, Response: Response{Status: 204, Body: JSONBody(100)}},
			wantStatuses: map[int]uint64{204: 200}, wantMsgs: 3,
			wantKinds: []string{"request_headers", "request_body", "response_headers"},
		},
		{
			name: "example project: templated answer and proxied request",
			cfg: Config{Target: example, Count: 200, Workers: 4, Conns: 3,
				Request: Request{Paths: []string{"/api/hello/world", "/api/upstream/x"}}},
			wantImmediate: 100, wantStatuses: map[int]uint64{200: 200}, wantMsgs: 1.5,
			wantKinds: []string{"request_headers (immediate)", "request_headers", "response_headers"},
		},
		{
			name: "example project: echo reads the body through mode_override",
			cfg: Config{Target: example, Count: 200, Workers: 8,
				Request: Request{Method: "POST", Paths: []string{"/api/echo"}, Body: JSONBody(300),
					Headers: []envoy.Header{{Name: "content-type", Value: "application/json"}}}},
			wantImmediate: 200, wantStatuses: map[int]uint64{201: 200}, wantMsgs: 2,
			wantKinds: []string{"request_headers", "request_body (immediate)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Exchanges != 200 {
				t.Errorf("Exchanges = %d, want 200", res.Exchanges)
			}
			if res.ClientErrors+res.LocalReplies+res.Resets != 0 {
				t.Errorf("errors: %d client (%v), %d local %v, %d resets", res.ClientErrors, res.ErrorSamples, res.LocalReplies, res.LocalDetails, res.Resets)
			}
			if res.Immediate != tc.wantImmediate {
				t.Errorf("Immediate = %d, want %d", res.Immediate, tc.wantImmediate)
			}
			if fmt.Sprint(res.Statuses) != fmt.Sprint(tc.wantStatuses) {
				t.Errorf("Statuses = %v, want %v", res.Statuses, tc.wantStatuses)
			}
			if wantNon2xx := uint64(0); res.Non2xx != wantNon2xx {
				t.Errorf("Non2xx = %d, want 0", res.Non2xx)
			}
			if res.MessagesPerExchange != tc.wantMsgs {
				t.Errorf("MessagesPerExchange = %v, want %v", res.MessagesPerExchange, tc.wantMsgs)
			}
			checkOrdered(t, "exchange latency", res.Latency)
			if res.Latency.Count != 200 || res.Throughput <= 0 || res.Elapsed <= 0 {
				t.Errorf("latency count %d, throughput %v, elapsed %v", res.Latency.Count, res.Throughput, res.Elapsed)
			}
			for _, k := range tc.wantKinds {
				m, ok := res.Messages[k]
				if !ok {
					t.Errorf("no %s latencies; have %v", k, res.Messages)
					continue
				}
				checkOrdered(t, k, m)
			}
			if len(res.Messages) != len(tc.wantKinds) {
				t.Errorf("message kinds %v, want %v", res.Messages, tc.wantKinds)
			}
			if (tc.cfg.Rate > 0) != (res.StartLag != nil) {
				t.Errorf("StartLag = %v with rate %v", res.StartLag, tc.cfg.Rate)
			}
			if res.ServerCPUMeasured {
				t.Error("ServerCPUMeasured without a ServerCPU function")
			}
		})
	}
}

func TestRunCountsEnvoyLocalReplies(t *testing.T) {
	// Nothing listens on the target: every stream fails to start, and
	// Envoy (fail closed) answers 500 itself.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	res, err := Run(context.Background(), Config{Target: addr, Count: 20, Workers: 2, Conns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Exchanges != 20 || res.LocalReplies != 20 || res.Non2xx != 20 || res.Immediate != 0 {
		t.Errorf("exchanges %d, local %d, non-2xx %d, immediate %d; want 20, 20, 20, 0", res.Exchanges, res.LocalReplies, res.Non2xx, res.Immediate)
	}
	for d := range res.LocalDetails {
		if !strings.HasPrefix(d, "ext_proc_error_gRPC_error_") {
			t.Errorf("local reply details %q, want ext_proc_error_gRPC_error_…", d)
		}
	}
}

func TestRunDurationWithWarmup(t *testing.T) {
	noop := serve(t, &noopserver.Server{})
	tests := []struct {
		name string
		rate float64
	}{{"saturation", 0}, {"fixed rate", 500}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), Config{Target: noop, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond,
				Rate: tc.rate, Workers: 4, Conns: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res.Exchanges == 0 || res.ClientErrors != 0 || res.Latency.Count != res.Exchanges {
				t.Errorf("exchanges %d, client errors %d, latency count %d", res.Exchanges, res.ClientErrors, res.Latency.Count)
			}
			checkOrdered(t, "latency", res.Latency)
		})
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no target", Config{}, "no target"},
		{"negative rate", Config{Target: "127.0.0.1:1", Rate: -1}, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	noop := serve(t, &noopserver.Server{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, Config{Target: noop, Duration: time.Minute, Workers: 2, Conns: 1})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("error = %v, want an interrupted run", err)
	}
}

func TestMerge(t *testing.T) {
	noop := serve(t, &noopserver.Server{})
	var rounds []*Result
	for range 2 {
		res, err := Run(context.Background(), Config{Target: noop, Count: 50, Workers: 2, Conns: 1,
			ServerCPU: func() (time.Duration, error) { return ProcCPU(os.Getpid()) }})
		if err != nil {
			t.Fatal(err)
		}
		res.Label = "noop"
		rounds = append(rounds, res)
	}
	m := Merge(rounds...)
	if m.Label != "noop" || m.Exchanges != 100 || m.Latency.Count != 100 || m.Statuses[200] != 100 {
		t.Errorf("merged: label %q, exchanges %d, latency count %d, statuses %v", m.Label, m.Exchanges, m.Latency.Count, m.Statuses)
	}
	if m.Elapsed != rounds[0].Elapsed+rounds[1].Elapsed || m.ServerCPU != rounds[0].ServerCPU+rounds[1].ServerCPU || !m.ServerCPUMeasured {
		t.Errorf("merged elapsed %v, server CPU %v (measured %v)", m.Elapsed, m.ServerCPU, m.ServerCPUMeasured)
	}
	if m.Messages["request_headers"].Count != rounds[0].Messages["request_headers"].Count+rounds[1].Messages["request_headers"].Count {
		t.Errorf("merged message counts %v", m.Messages)
	}
	if Merge() != nil {
		t.Error("Merge() of nothing is not nil")
	}
}
