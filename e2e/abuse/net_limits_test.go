package abuse

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// netServe serves srv over loopback TCP (so HTTP/2 settings such as
// MaxConcurrentStreams apply as they do for Envoy) and returns its address.
func netServe(t *testing.T, srv *extproc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(srv.GRPCOptions()...)
	srv.Register(g)
	done := make(chan struct{})
	go func() { defer close(done); _ = g.Serve(lis) }()
	t.Cleanup(func() { g.Stop(); <-done })
	return lis.Addr().String()
}

// netDial opens one client connection (one TCP connection) to addr.
func netDial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	conn.Connect()
	return conn
}

// netMetric returns the value of a counter or gauge (the sum over its
// series whose labels include match).
func netMetric(t *testing.T, srv *extproc.Server, name string, match map[string]string) float64 {
	t.Helper()
	mfs, err := srv.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k, v := range match {
				if !netHasLabel(m, k, v) {
					continue series
				}
			}
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return sum
}

func netHasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

// netHold opens a stream whose flow reads the request body, receives the
// CONTINUE + mode_override(BUFFERED) reply, and never sends the body: the
// stream Envoy would hold for a client that promised a body and went silent.
func netHold(ctx context.Context, conn *grpc.ClientConn) (extprocv3.ExternalProcessor_ProcessClient, error) {
	st, err := extprocv3.NewExternalProcessorClient(conn).Process(ctx)
	if err != nil {
		return nil, err
	}
	err = st.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
		Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: ":method", RawValue: []byte("POST")}, {Key: ":scheme", RawValue: []byte("http")},
			{Key: ":authority", RawValue: []byte("gw.local")}, {Key: ":path", RawValue: []byte("/body")},
			{Key: "content-type", RawValue: []byte("text/plain")},
		}},
	}}})
	if err != nil {
		return nil, err
	}
	r, err := st.Recv()
	if err != nil {
		return nil, err
	}
	if r.GetModeOverride().GetRequestBodyMode() != procmodev3.ProcessingMode_BUFFERED {
		return nil, status.Errorf(codes.Internal, "want a BUFFERED mode_override for the body, got %v", r)
	}
	return st, nil
}

// TestNetAbandonedStreams: 2,000 streams whose promised body never comes,
// on a server with a small per-connection stream limit and a 5 s stream wait
// timeout. Streams past the limit on one connection are queued by gRPC (the
// client cannot open them), a normal exchange still works while they are
// held, every held stream ends with DEADLINE_EXCEEDED after the wait
// timeout, and the server's goroutines and heap come back.
func TestNetAbandonedStreams(t *testing.T) {
	const (
		perConn = 100
		wait    = 5 * time.Second
	)
	conns := 20
	if racecheck.Enabled {
		conns = 4 // the race detector makes opening 2,000 streams outlast the wait timeout
	}
	set := project(t, budget.Limits{}, 0, map[string]string{
		"/body":  `<flow><eval out="$x">$body</eval><echo>got it</echo></flow>`,
		"/hello": `<flow><echo>hello</echo></flow>`,
	})
	srv := extproc.New(extproc.Options{Resolver: set, Logger: quiet, StreamWaitTimeout: wait,
		Limits: extproc.Limits{MaxConcurrentStreams: perConn}})
	addr := netServe(t, srv)

	// Baseline: the server running, one idle client connection.
	normal := netDial(t, addr)
	defer normal.Close()
	fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := envoy.NewClient(normal, fc)
	if err != nil {
		t.Fatal(err)
	}
	up := envoy.UpstreamFunc(func(context.Context, *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
		return &envoy.UpstreamResponse{Status: 200}, nil
	})
	exchange := func() {
		t.Helper()
		resp, err := ec.Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/hello"}, up)
		if err != nil || resp.Status != 200 || !strings.Contains(string(resp.Body), "hello") {
			t.Fatalf("normal exchange: %v %+v", err, resp)
		}
	}
	exchange()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap, baseG := ms.HeapInuse, runtime.NumGoroutine()

	// Hold perConn streams on each of conns connections.
	// Bounded, so that a server without the wait timeout fails the test
	// instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), racecheck.Scale(wait+20*time.Second))
	defer cancel()
	holdStart := time.Now()
	clients := make([]*grpc.ClientConn, conns)
	held := make([][]extprocv3.ExternalProcessor_ProcessClient, conns)
	var wg sync.WaitGroup
	errs := make(chan error, conns*perConn)
	for i := range clients {
		clients[i] = netDial(t, addr)
		held[i] = make([]extprocv3.ExternalProcessor_ProcessClient, perConn)
		for j := range perConn {
			wg.Go(func() {
				st, err := netHold(ctx, clients[i])
				if err != nil {
					errs <- err
					return
				}
				held[i][j] = st
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("hold a stream: %v", err)
	}
	if d := time.Since(holdStart); d > wait*3/4 {
		t.Fatalf("opening %d streams took %v, too close to the %v wait timeout to count them (machine overloaded?)", conns*perConn, d, wait)
	}
	if got := netMetric(t, srv, "flowproc_streams_active", nil); got != float64(conns*perConn) {
		t.Fatalf("flowproc_streams_active = %v, want %d", got, conns*perConn)
	}
	runtime.ReadMemStats(&ms)
	peakHeap, peakG := ms.HeapInuse, runtime.NumGoroutine()

	// One more stream on a full connection: gRPC queues it in the client
	// until a stream ends, so within 300 ms it gets nowhere.
	qctx, qcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = netHold(qctx, clients[0])
	qcancel()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("stream %d on a connection limited to %d: %v, want it queued (DeadlineExceeded)", perConn+1, perConn, err)
	}
	// A normal exchange on another connection still works.
	exchange()

	// Every held stream ends with DEADLINE_EXCEEDED once the wait times out.
	start := time.Now()
	var ended sync.WaitGroup
	bad := make(chan error, conns*perConn)
	for _, sts := range held {
		for _, st := range sts {
			ended.Go(func() {
				_, err := st.Recv()
				// The code is what Envoy acts on; which wait ended it is
				// checked below through flowproc_errors_total{code=wait_timeout}.
				if status.Code(err) != codes.DeadlineExceeded {
					bad <- err
				}
			})
		}
	}
	ended.Wait()
	close(bad)
	for err := range bad {
		t.Fatalf("held stream ended with %v, want DEADLINE_EXCEEDED (stream wait timeout)", err)
	}
	took := time.Since(start)
	if limit := racecheck.Scale(wait + 3*time.Second); took > limit {
		t.Errorf("held streams ended after %v, want within %v", took, limit)
	}
	// grpc-go ends a stream whose context the wait timer cancelled on its
	// own, so a client can see DEADLINE_EXCEEDED a moment before the
	// handler returns and counts it: wait for the count, briefly.
	var got float64
	for deadline := time.Now().Add(racecheck.Scale(5 * time.Second)); ; time.Sleep(10 * time.Millisecond) {
		got = netMetric(t, srv, "flowproc_errors_total", map[string]string{"code": "wait_timeout"})
		if got >= float64(conns*perConn) || time.Now().After(deadline) {
			break
		}
	}
	if got != float64(conns*perConn) {
		t.Errorf("flowproc_errors_total{code=wait_timeout} = %v, want %d", got, conns*perConn)
	}
	exchange()

	// Resources come back: no stream active, goroutines and heap at the
	// baseline once the client connections are gone.
	for _, c := range clients {
		_ = c.Close()
	}
	deadline := time.Now().Add(racecheck.Scale(5 * time.Second))
	var g int
	for {
		runtime.GC()
		runtime.GC() // the second one empties the sync.Pools
		runtime.ReadMemStats(&ms)
		g = runtime.NumGoroutine()
		if g <= baseG+5 && ms.HeapInuse <= baseHeap+8<<20 && netMetric(t, srv, "flowproc_streams_active", nil) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d streams held: heap in use %d KiB → %d KiB → %d KiB, goroutines %d → %d → %d; the last ended %v after the test began waiting (each stream's %v wait timeout started when it opened)",
		conns*perConn, baseHeap>>10, peakHeap>>10, ms.HeapInuse>>10, baseG, peakG, g, took, wait)
	if active := netMetric(t, srv, "flowproc_streams_active", nil); active != 0 {
		t.Errorf("flowproc_streams_active = %v after the streams ended, want 0", active)
	}
	if g > baseG+5 {
		t.Errorf("goroutines %d after the streams ended, want ≤ %d (baseline %d)", g, baseG+5, baseG)
	}
	if ms.HeapInuse > baseHeap+8<<20 {
		t.Errorf("heap in use %d KiB after the streams ended, want within 8 MiB of the baseline %d KiB", ms.HeapInuse>>10, baseHeap>>10)
	}
}
