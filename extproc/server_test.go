package extproc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

// scrape returns the /metrics exposition of s.
func scrape(t *testing.T, s *Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: status %d", rec.Code)
	}
	return rec.Body.String()
}

// metricValue finds one sample line "series value" in an exposition.
func metricValue(t *testing.T, exposition, series string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return v
		}
	}
	t.Fatalf("metric %s not exposed in:\n%s", series, exposition)
	return 0
}

func TestPanicIsAnsweredAndServerKeepsServing(t *testing.T) {
	ts := newTestServer(t, resolverFunc(func(_, path string) (flowengine.Runner, string, bool) {
		if path == "/panic" {
			return runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
				panic("flow exploded")
			}), "demo", true
		}
		return forwardPlain, "demo", true
	}), 0)
	ctx := context.Background()

	res, err := extproctest.Exchange(ctx, ts.conn, &extproctest.Request{Path: "/panic",
		Headers: []flowengine.Header{{Name: "x-request-id", Value: "panic-7"}}}, nil)
	if err != nil {
		t.Fatalf("panicking exchange: %v", err)
	}
	if res.Immediate == nil || res.Immediate.GetStatus().GetCode() != 500 {
		t.Fatalf("panicking exchange: want a 500 ImmediateResponse, got %v", res.Replies)
	}

	res, err = extproctest.Exchange(ctx, ts.conn, &extproctest.Request{Path: "/ok"}, &extproctest.Response{Status: 200})
	if err != nil {
		t.Fatalf("next exchange: %v", err)
	}
	if res.Immediate != nil || len(res.Replies) != 2 {
		t.Fatalf("next exchange: want request_headers and response_headers replies, got %v", res.Replies)
	}

	m := scrape(t, ts.Server)
	if got := metricValue(t, m, "flowproc_panics_total"); got != 1 {
		t.Errorf("flowproc_panics_total = %v, want 1", got)
	}
	if got := metricValue(t, m, `flowproc_errors_total{code="panic"}`); got != 1 {
		t.Errorf(`flowproc_errors_total{code="panic"} = %v, want 1`, got)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, `"msg":"panic recovered"`) || !strings.Contains(logs, `"requestID":"panic-7"`) ||
		!strings.Contains(logs, "flow exploded") {
		t.Errorf("panic not logged with its request ID:\n%s", logs)
	}
}

// TestClientCancel cancels Envoy's side while the run waits in a Host call:
// the run's ctx is cancelled, the call returns, Process ends, and no
// goroutine is left behind.
func TestClientCancel(t *testing.T) {
	tests := []struct {
		name  string
		first *extprocv3.ProcessingRequest
		reply *extprocv3.ProcessingResponse // expected before the cancel
		call  func(context.Context, flowengine.Host) error
	}{
		{
			name:  "waiting for the upstream response",
			first: reqHeaders("GET", "/", true, nil),
			reply: wantReqHeaders(&extprocv3.CommonResponse{}),
			call: func(ctx context.Context, h flowengine.Host) error {
				_, err := h.Forward(ctx, nil)
				return err
			},
		},
		{
			name:  "waiting for the request body",
			first: reqHeaders("POST", "/", false, nil),
			reply: withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none),
			call: func(ctx context.Context, h flowengine.Host) error {
				_, err := h.RequestBody(ctx)
				return err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after the server's cleanup
			type result struct{ callErr, ctxErr error }
			done := make(chan result, 1)
			ts := newTestServer(t, one(runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				err := tc.call(ctx, h)
				done <- result{err, ctx.Err()}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 500}}
			})), 0)
			c := ts.open(t, "")
			c.send(tc.first)
			c.expect(tc.reply)
			c.cancel()
			select {
			case r := <-done:
				if r.callErr == nil {
					t.Fatal("host call returned no error after the client cancelled")
				}
				if !errors.Is(r.ctxErr, context.Canceled) {
					t.Fatalf("run ctx error = %v, want context.Canceled", r.ctxErr)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("run did not return after the client cancelled")
			}
			deadline := time.Now().Add(5 * time.Second)
			for metricValue(t, scrape(t, ts.Server), "flowproc_streams_active") != 0 {
				if time.Now().After(deadline) {
					t.Fatal("Process did not return after the client cancelled")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestHostHonoursRunContext: a flow's own deadline ends a blocked Host call
// even though Envoy sends nothing, and the flow can still answer.
func TestHostHonoursRunContext(t *testing.T) {
	ts := newTestServer(t, one(runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if _, err := h.Forward(tctx, nil); !errors.Is(err, context.DeadlineExceeded) {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
		}
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 504, Body: []byte("upstream timeout")}}
	})), 0)
	c := ts.open(t, "")
	c.send(reqHeaders("GET", "/", true, nil))
	c.expect(wantReqHeaders(&extprocv3.CommonResponse{}))
	c.expect(wantImmediate(504, nil, "upstream timeout", "flowproc_demo"))
	if err := c.end(); err != nil {
		t.Fatalf("stream end: %v", err)
	}
}

func TestHealthReadiness(t *testing.T) {
	ts := newTestServer(t, nil, 0)
	ctx := context.Background()
	hc := healthgrpc.NewHealthClient(ts.conn)
	admin := ts.AdminHandler()
	get := func(path string) int {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	check := func(want healthgrpc.HealthCheckResponse_ServingStatus) {
		t.Helper()
		for _, svc := range []string{"", ServiceName} {
			r, err := hc.Check(ctx, &healthgrpc.HealthCheckRequest{Service: svc})
			if err != nil {
				t.Fatalf("health check %q: %v", svc, err)
			}
			if r.GetStatus() != want {
				t.Errorf("health %q = %v, want %v", svc, r.GetStatus(), want)
			}
		}
	}

	check(healthgrpc.HealthCheckResponse_SERVING)
	if got := get("/readyz"); got != 200 {
		t.Errorf("/readyz before draining = %d, want 200", got)
	}
	ts.Drain()
	check(healthgrpc.HealthCheckResponse_NOT_SERVING)
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining = %d, want 503", got)
	}
	if got := get("/healthz"); got != 200 {
		t.Errorf("/healthz while draining = %d, want 200", got)
	}
}

func TestMetricsExposed(t *testing.T) {
	ts := newTestServer(t, resolverFunc(func(_, path string) (flowengine.Runner, string, bool) {
		if path == "/teapot" {
			return runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 418}, Flow: "tea", Error: "5000"}
			}), "demo", true
		}
		return runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
			if _, err := h.Forward(ctx, nil); err != nil {
				return nil
			}
			return &flowengine.Outcome{Kind: flowengine.Forwarded, Flow: "items"}
		}), "demo", true
	}), 0)
	ctx := context.Background()
	if _, err := extproctest.Exchange(ctx, ts.conn, &extproctest.Request{Path: "/items"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := extproctest.Exchange(ctx, ts.conn, &extproctest.Request{Path: "/teapot"}, nil); err != nil {
		t.Fatal(err)
	}
	m := scrape(t, ts.Server)
	tests := []struct {
		series string
		want   float64
	}{
		{"flowproc_streams_total", 2},
		{"flowproc_streams_active", 0},
		{`flowproc_exchanges_total{flow="items",outcome="forwarded",project="demo"}`, 1},
		{`flowproc_exchanges_total{flow="tea",outcome="answered",project="demo"}`, 1},
		{`flowproc_immediate_responses_total{status="418"}`, 1},
		{`flowproc_errors_total{code="5000"}`, 1},
		{"flowproc_panics_total", 0},
		{`flowproc_phase_duration_seconds_count{phase="request_headers"}`, 2},
		{`flowproc_phase_duration_seconds_count{phase="response_headers"}`, 1},
		{`flowproc_phase_duration_seconds_count{phase="request_body"}`, 0},
	}
	for _, tc := range tests {
		if got := metricValue(t, m, tc.series); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.series, got, tc.want)
		}
	}
	if !strings.Contains(m, "go_goroutines ") {
		t.Error("default registry lacks the Go collector")
	}
}

// TestAccessLogAsked: the run is asked for access-log fields
// (Request.AccessLog) exactly when the server's logger writes the
// flat_access record, at info; at warn it is not, and nothing is logged.
func TestAccessLogAsked(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		want  bool
	}{{slog.LevelDebug, true}, {slog.LevelInfo, true}, {slog.LevelWarn, false}} {
		var asked []bool
		logs := &syncBuffer{}
		s := New(Options{
			Resolver: one(runnerFunc(func(_ context.Context, req *flowengine.Request, _ flowengine.Host) *flowengine.Outcome {
				asked = append(asked, req.AccessLog)
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 204}, Log: []byte(`{"user":"alice"}`)}
			})),
			Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: tc.level})),
		})
		if _, err := extproctest.Exchange(context.Background(), extproctest.Dial(t, s), &extproctest.Request{Path: "/x"}, nil); err != nil {
			t.Fatal(err)
		}
		if len(asked) != 1 || asked[0] != tc.want {
			t.Errorf("level %v: Request.AccessLog %v, want [%v]", tc.level, asked, tc.want)
		}
		if got := strings.Contains(logs.String(), `"user":"alice"`); got != tc.want {
			t.Errorf("level %v: access-log fields logged %v, want %v:\n%s", tc.level, got, tc.want, logs)
		}
	}
}

func TestAccessLog(t *testing.T) {
	ts := newTestServer(t, one(runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		if _, err := h.Forward(ctx, nil); err != nil {
			return nil
		}
		return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{Status: 203}, Flow: "getItem", Log: []byte(`{"user":"alice","n":3,"status":"shadowed"}`)}
	})), 0)
	_, err := extproctest.Exchange(context.Background(), ts.conn, &extproctest.Request{
		Method: "GET", Path: "/items/1?x=y", Authority: "api.example.com", Scheme: "https",
		Headers: []flowengine.Header{{Name: "x-request-id", Value: "log-1"}},
	}, &extproctest.Response{Status: 200})
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	for _, line := range strings.Split(strings.TrimSpace(ts.logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "flat_access" {
			rec = m
		}
	}
	if rec == nil {
		t.Fatalf("no flat_access record in:\n%s", ts.logs)
	}
	want := map[string]any{
		"type": "flat_access", "requestID": "log-1", "method": "GET", "path": "/items/1?x=y",
		"url": "https://api.example.com/items/1?x=y", "status": 203.0, "flow": "getItem", "project": "demo",
		"outcome": "forwarded", "user": "alice", "n": 3.0, "log_status": "shadowed",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("flat_access %s = %#v, want %#v", k, rec[k], v)
		}
	}
	if rt, ok := rec["realtime"].(float64); !ok || rt < 0 || rt > 10 {
		t.Errorf("flat_access realtime = %#v, want seconds", rec["realtime"])
	}
}

// TestShutdown: in-flight streams finish within the grace period; past it
// they are cancelled and Serve reports the deadline.
func TestShutdown(t *testing.T) {
	tests := []struct {
		name     string
		complete bool // the client finishes the exchange during the drain
		grace    time.Duration
		wantErr  error
	}{
		{name: "in-flight stream completes within the grace period", complete: true, grace: 5 * time.Second},
		{name: "stream cancelled after the grace period", grace: 50 * time.Millisecond, wantErr: context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			runCtx := make(chan error, 1)
			s := New(Options{Resolver: one(runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				_, err := h.Forward(ctx, nil)
				runCtx <- ctx.Err()
				if err != nil {
					return nil
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded}
			}))})
			lis := bufconn.Listen(1 << 20)
			g := grpc.NewServer(s.GRPCOptions()...)
			s.Register(g)
			ctx, stop := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- s.Serve(ctx, g, lis, tc.grace) }()

			conn, err := grpc.NewClient("passthrough:///bufconn",
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ts := &testServer{Server: s, conn: conn}
			c := ts.open(t, "")
			c.send(reqHeaders("GET", "/", true, nil))
			c.expect(wantReqHeaders(&extprocv3.CommonResponse{}))

			stop()
			deadline := time.Now().Add(5 * time.Second)
			for s.Ready() {
				if time.Now().After(deadline) {
					t.Fatal("server still ready after shutdown began")
				}
				time.Sleep(time.Millisecond)
			}
			if tc.complete {
				c.send(respHeaders("200", true))
				c.expect(wantRespHeaders(&extprocv3.CommonResponse{}))
				if err := c.end(); err != nil {
					t.Fatalf("stream end: %v", err)
				}
			}
			select {
			case err := <-served:
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
					t.Fatalf("Serve = %v, want %v", err, tc.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return")
			}
			if got := <-runCtx; tc.complete != (got == nil) {
				t.Fatalf("run ctx error = %v, complete = %v", got, tc.complete)
			}
		})
	}
}

// fakeStream is an in-process ExternalProcessor_ProcessServer that replays
// a script, for measuring the handler without a transport.
type fakeStream struct {
	grpc.ServerStream
	ctx    context.Context
	script []*extprocv3.ProcessingRequest
	i      int
	sent   int
}

func (f *fakeStream) Context() context.Context { return f.ctx }

func (f *fakeStream) Recv() (*extprocv3.ProcessingRequest, error) {
	if f.i == len(f.script) {
		return nil, io.EOF
	}
	f.i++
	return f.script[f.i-1], nil
}

func (f *fakeStream) Send(*extprocv3.ProcessingResponse) error {
	f.sent++
	return nil
}

// TestLargeBodyWithinLimit: a BUFFERED body above grpc-go's 4 MiB default
// passes when BodyLimit allows it (GRPCOptions raises the message limits).
func TestLargeBodyWithinLimit(t *testing.T) {
	ts := newTestServer(t, one(runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		b, err := h.RequestBody(ctx)
		if err != nil {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599, Body: []byte(err.Error())}}
		}
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200, Body: []byte(strconv.Itoa(len(b)))}}
	})), 6<<20)
	body := make([]byte, 5<<20)
	res, err := extproctest.Exchange(context.Background(), ts.conn, &extproctest.Request{Method: "POST", Body: body}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Immediate == nil || string(res.Immediate.GetBody()) != strconv.Itoa(len(body)) {
		t.Fatalf("want the body length answered, got %v", res.Replies)
	}
}

// TestOwnRegistry: metrics go to the registry given in Options, never the
// global one, so several servers can live in one process.
func TestOwnRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := New(Options{Metrics: reg})
	_ = New(Options{}) // a second server must not collide
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	got := strings.Join(names, ",")
	if !strings.Contains(got, "flowproc_streams_total") || strings.Contains(got, "go_goroutines") {
		t.Errorf("registry holds %s", got)
	}
	if s.Registry() != reg {
		t.Error("Registry() is not the registry from Options")
	}
}
