package extproc_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/flat"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// projectResolver serves one runner as project name.
type projectResolver struct {
	name string
	r    flowengine.Runner
}

func (p projectResolver) Resolve(string, string) (flowengine.Runner, string, bool) {
	return p.r, p.name, true
}

// sideServer is a side-call target that records the traceparent headers it
// receives.
type sideServer struct {
	*httptest.Server
	mu     sync.Mutex
	seen   []string
	states []string // tracestate headers
}

func newSideServer(t *testing.T) *sideServer {
	s := &sideServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Get("traceparent"))
		s.states = append(s.states, r.Header.Get("tracestate"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"name":"ann"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sideServer) traceparents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// loadSideCallProject loads a FLAT project whose flow makes one side call
// to side inside an if, then answers.
func loadSideCallProject(t *testing.T, side string) *flat.Project {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "otel") // the project's name
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /**:\n    x-flat-flow: main.xml\n",
		"main.xml": `<flow>
  <if test="$request/method = 'GET'">
    <request>{"url": {{ concat($env/SIDE, "/user") }}}</request>
  </if>
  <echo>done</echo>
</flow>
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	client := upstream.NewHTTP(upstream.HTTPOptions{})
	t.Cleanup(client.CloseIdleConnections)
	p, errs := flat.Load(dir, flat.Options{Env: []string{"SIDE=" + side}, Upstream: client})
	if p == nil {
		t.Fatal(errs)
	}
	return p
}

// envoyClient is the Envoy-faithful client with the shipped config in
// front of srv.
func envoyClient(t *testing.T, srv *extproc.Server) *envoy.Client {
	t.Helper()
	fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
	if err != nil {
		t.Fatal(err)
	}
	c, err := envoy.NewClient(extproctest.Dial(t, srv), fc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// noUpstream fails the test if the exchange is forwarded.
func noUpstream(t *testing.T) envoy.Upstream {
	return envoy.UpstreamFunc(func(context.Context, *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
		t.Error("the flow answers: nothing may be forwarded")
		return &envoy.UpstreamResponse{Status: 502}, nil
	})
}

func spanAttr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

const (
	incomingTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	incomingSpanID  = "00f067aa0ba902b7"
)

// TestOpenTelemetryExchange: an exchange through the Envoy-faithful client
// with a traceparent gives a server span whose parent is the incoming
// span, step spans nested as the flow nests them (request inside if), a
// side-call client span, and the side call's target receives a
// traceparent of the same trace; the side call is counted in the metrics.
func TestOpenTelemetryExchange(t *testing.T) {
	side := newSideServer(t)
	exp := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	reg := prometheus.NewRegistry()
	srv := extproc.New(extproc.Options{
		Resolver: projectResolver{"otel", loadSideCallProject(t, side.URL)},
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Metrics:  reg,
		OTel:     extproc.NewOTel(tp),
	})
	c := envoyClient(t, srv)
	resp, err := c.Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local:8080", Path: "/user?x=1",
		Headers: []envoy.Header{{Name: "traceparent", Value: "00-" + incomingTraceID + "-" + incomingSpanID + "-01"}, {Name: "tracestate", Value: "vendor=abc"}, {Name: "user-agent", Value: "test/1"}}}, noUpstream(t))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != "done" {
		t.Fatalf("got %d %q, want 200 done", resp.Status, resp.Body)
	}
	waitStreamsDone(t, srv)
	spans := exp.Ended()
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.SpanContext().TraceID().String() != incomingTraceID {
			t.Errorf("span %q is in trace %s, want the incoming %s", s.Name(), s.SpanContext().TraceID(), incomingTraceID)
		}
		byName[s.Name()] = s
	}
	server := byName["flowproc otel main.xml"]
	if server == nil {
		t.Fatalf("no server span named \"flowproc otel main.xml\" in %v", names(spans))
	}
	if server.SpanKind() != trace.SpanKindServer || server.Parent().SpanID().String() != incomingSpanID || !server.Parent().IsRemote() {
		t.Errorf("server span: kind %v parent %v, want a server span child of the remote %s", server.SpanKind(), server.Parent(), incomingSpanID)
	}
	for key, want := range map[string]string{
		"http.request.method": "GET", "url.path": "/user", "url.query": "x=1", "server.address": "gw.local", "server.port": "8080",
		"user_agent.original": "test/1", "http.response.status_code": "200", "flowproc.project": "otel", "flowproc.flow": "main.xml",
		"flowproc.outcome": "answered",
	} {
		if got := spanAttr(server, key); got != want {
			t.Errorf("server span %s = %q, want %q", key, got, want)
		}
	}
	ifSpan, reqSpan, echo, call := byName["if"], byName["request"], byName["echo"], byName["GET"]
	if ifSpan == nil || reqSpan == nil || echo == nil || call == nil {
		t.Fatalf("want spans if, request, echo and GET, got %v", names(spans))
	}
	child := func(s, parent sdktrace.ReadOnlySpan) {
		t.Helper()
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %q: parent %s, want %q (%s)", s.Name(), s.Parent().SpanID(), parent.Name(), parent.SpanContext().SpanID())
		}
	}
	child(ifSpan, server)
	child(echo, server)
	child(reqSpan, ifSpan)
	child(call, server)
	for key, want := range map[string]string{
		"flowproc.flow": "main.xml", "flowproc.step.type": "if", "flowproc.step.condition": "$request/method = 'GET'",
		"flowproc.step.condition_result": "true", "flowproc.step.result": "ok",
	} {
		if got := spanAttr(ifSpan, key); got != want {
			t.Errorf("if span %s = %q, want %q", key, got, want)
		}
	}
	if !reqSpan.StartTime().Before(reqSpan.EndTime()) || reqSpan.StartTime().Before(ifSpan.StartTime()) || reqSpan.EndTime().After(ifSpan.EndTime()) {
		t.Errorf("request step [%v, %v] is not inside if [%v, %v]", reqSpan.StartTime(), reqSpan.EndTime(), ifSpan.StartTime(), ifSpan.EndTime())
	}
	if call.SpanKind() != trace.SpanKindClient || spanAttr(call, "http.response.status_code") != "200" {
		t.Errorf("side call span: kind %v status %q", call.SpanKind(), spanAttr(call, "http.response.status_code"))
	}
	tps := side.traceparents()
	if len(tps) != 1 || tps[0] != "00-"+incomingTraceID+"-"+call.SpanContext().SpanID().String()+"-01" {
		t.Errorf("side target got traceparent %q, want the side-call span's in trace %s", tps, incomingTraceID)
	}
	side.mu.Lock()
	if len(side.states) != 1 || side.states[0] != "vendor=abc" {
		t.Errorf("side target got tracestate %q, want the incoming vendor=abc", side.states)
	}
	side.mu.Unlock()
	host := strings.TrimPrefix(side.URL, "http://")
	if n := histogramCount(t, reg, "flowproc_side_call_duration_seconds", map[string]string{"host": host, "status_class": "2xx"}); n != 1 {
		t.Errorf("side call duration count = %d, want 1", n)
	}
}

// TestOpenTelemetryNotSampled: an incoming trace context that is not
// sampled records nothing (the parent-based sampler follows it), no step
// tracer runs, and the side call still carries the trace id, unsampled.
func TestOpenTelemetryNotSampled(t *testing.T) {
	side := newSideServer(t)
	exp := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	srv := extproc.New(extproc.Options{
		Resolver: projectResolver{"otel", loadSideCallProject(t, side.URL)},
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		OTel:     extproc.NewOTel(tp),
	})
	resp, err := envoyClient(t, srv).Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/",
		Headers: []envoy.Header{{Name: "traceparent", Value: "00-" + incomingTraceID + "-" + incomingSpanID + "-00"}}}, noUpstream(t))
	if err != nil || resp.Status != 200 {
		t.Fatalf("got %v %v", resp, err)
	}
	waitStreamsDone(t, srv)
	if s := exp.Ended(); len(s) != 0 {
		t.Errorf("unsampled exchange recorded spans %v", names(s))
	}
	tps := side.traceparents()
	if len(tps) != 1 || !strings.HasPrefix(tps[0], "00-"+incomingTraceID+"-") || !strings.HasSuffix(tps[0], "-00") {
		t.Errorf("side target got traceparent %q, want trace %s unsampled", tps, incomingTraceID)
	}
}

// TestOpenTelemetryOff: without Options.OTel nothing is traced and side
// calls send no trace context, even when the client sent one.
func TestOpenTelemetryOff(t *testing.T) {
	side := newSideServer(t)
	srv := extproc.New(extproc.Options{
		Resolver: projectResolver{"otel", loadSideCallProject(t, side.URL)},
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	resp, err := envoyClient(t, srv).Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/",
		Headers: []envoy.Header{{Name: "traceparent", Value: "00-" + incomingTraceID + "-" + incomingSpanID + "-01"}}}, noUpstream(t))
	if err != nil || resp.Status != 200 {
		t.Fatalf("got %v %v", resp, err)
	}
	if tps := side.traceparents(); len(tps) != 1 || tps[0] != "" {
		t.Errorf("side target got traceparent %q with tracing off, want none", tps)
	}
}

// TestStepMetrics: with Options.StepMetrics every step is observed by
// project, flow and type; without it the histogram does not exist.
func TestStepMetrics(t *testing.T) {
	side := newSideServer(t)
	for _, on := range []bool{true, false} {
		reg := prometheus.NewRegistry()
		srv := extproc.New(extproc.Options{
			Resolver:    projectResolver{"otel", loadSideCallProject(t, side.URL)},
			Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
			Metrics:     reg,
			StepMetrics: on,
		})
		if _, err := envoyClient(t, srv).Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/"}, noUpstream(t)); err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"if", "request", "echo"} {
			n := histogramCount(t, reg, "flowproc_step_duration_seconds", map[string]string{"project": "otel", "flow": "main.xml", "type": typ})
			if want := map[bool]uint64{true: 1, false: 0}[on]; n != want {
				t.Errorf("step metrics %v: %s count = %d, want %d", on, typ, n, want)
			}
		}
	}
}

// histogramCount is the sample count of the histogram name with labels
// (0 when absent).
func histogramCount(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m.GetLabel(), labels) {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func labelsMatch(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

// waitStreamsDone waits until srv has finished every stream. The client has
// its response once the last reply is sent, a moment before the server
// records the exchange and ends its span, so a test that reads spans must
// wait for this first.
func waitStreamsDone(t *testing.T, srv *extproc.Server) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		mfs, err := srv.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		active := -1.0
		for _, mf := range mfs {
			if mf.GetName() == "flowproc_streams_active" && len(mf.GetMetric()) == 1 {
				active = mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		if active == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("streams still active after 5s (flowproc_streams_active = %v)", active)
		}
	}
}
