package extproc_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// headerServer is a side-call target that records the trace headers of
// each call, by path.
type headerServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]http.Header
}

func newHeaderServer(t *testing.T) *headerServer {
	s := &headerServer{seen: map[string]http.Header{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen[r.URL.Path] = r.Header.Clone()
		s.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *headerServer) header(path, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[path].Get(name)
}

// waitSpan waits until a span named name has ended.
func waitSpan(t *testing.T, exp *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		for _, s := range exp.Ended() {
			if s.Name() == name {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %q; have %v", name, names(exp.Ended()))
		}
	}
}

// TestOpenTelemetryPostResponseSideCalls: a side call of a post-response
// hook (Outcome.After: Apigee's PostClientFlow) gets a client span in the
// exchange's trace, under a "post-response" span that is a child of the
// exchange span, and carries traceparent and the caller's W3C baggage, as
// the run's own side calls do; it is counted in the side-call metrics.
func TestOpenTelemetryPostResponseSideCalls(t *testing.T) {
	side := newHeaderServer(t)
	client := upstream.NewHTTP(upstream.HTTPOptions{})
	t.Cleanup(client.CloseIdleConnections)
	call := func(ctx context.Context, path string) {
		if _, err := client.Do(ctx, &upstream.Call{ID: path, URL: side.URL + path}); err != nil {
			t.Error(err)
		}
	}
	run := hookRunner(func(ctx context.Context) *flowengine.Outcome {
		call(ctx, "/during")
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200, Body: []byte("done")},
			After: func(ctx context.Context) { call(ctx, "/after") }}
	})
	exp := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	reg := prometheus.NewRegistry()
	srv := extproc.New(extproc.Options{Resolver: projectResolver{"pcf", run}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Metrics: reg, OTel: extproc.NewOTel(tp)})
	resp, err := envoyClient(t, srv).Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/x",
		Headers: []envoy.Header{{Name: "traceparent", Value: "00-" + incomingTraceID + "-" + incomingSpanID + "-01"}, {Name: "baggage", Value: "tenant=t1,plan=gold"}}}, noUpstream(t))
	if err != nil || resp.Status != 200 {
		t.Fatalf("got %v %v", resp, err)
	}
	waitStreamsDone(t, srv)
	post := waitSpan(t, exp, "flowproc pcf post-response")
	server := waitSpan(t, exp, "flowproc pcf")
	var during, after sdktrace.ReadOnlySpan
	for deadline := time.Now().Add(5 * time.Second); during == nil || after == nil; time.Sleep(2 * time.Millisecond) {
		for _, s := range exp.Ended() {
			switch spanAttr(s, "flowproc.call.id") {
			case "/during":
				during = s
			case "/after":
				after = s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("side-call spans missing; have %v", names(exp.Ended()))
		}
	}
	if post.Parent().SpanID() != server.SpanContext().SpanID() || post.SpanKind() != trace.SpanKindInternal {
		t.Errorf("post-response span: parent %s kind %v, want an internal child of the exchange span %s", post.Parent().SpanID(), post.SpanKind(), server.SpanContext().SpanID())
	}
	if during.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("run's side call: parent %s, want the exchange span", during.Parent().SpanID())
	}
	if after.Parent().SpanID() != post.SpanContext().SpanID() || after.SpanKind() != trace.SpanKindClient {
		t.Errorf("post-response side call: parent %s kind %v, want a client span under the post-response span", after.Parent().SpanID(), after.SpanKind())
	}
	for _, s := range []sdktrace.ReadOnlySpan{post, after, during} {
		if s.SpanContext().TraceID().String() != incomingTraceID {
			t.Errorf("span %q in trace %s, want %s", s.Name(), s.SpanContext().TraceID(), incomingTraceID)
		}
	}
	for path, sp := range map[string]sdktrace.ReadOnlySpan{"/during": during, "/after": after} {
		if got, want := side.header(path, "traceparent"), "00-"+incomingTraceID+"-"+sp.SpanContext().SpanID().String()+"-01"; got != want {
			t.Errorf("%s: traceparent %q, want %q", path, got, want)
		}
		if got := side.header(path, "baggage"); got != "tenant=t1,plan=gold" && got != "plan=gold,tenant=t1" {
			t.Errorf("%s: baggage %q, want the caller's tenant=t1,plan=gold", path, got)
		}
	}
	// The call is counted just after its span ends.
	labels := map[string]string{"host": strings.TrimPrefix(side.URL, "http://"), "status_class": "2xx"}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		n := histogramCount(t, reg, "flowproc_side_call_duration_seconds", labels)
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("side calls counted = %d, want 2 (the run's and the post-response hook's)", n)
		}
	}
}

// TestOpenTelemetryNoProject: an exchange that matches no project, and one
// refused for an unnormalized path, still get an exchange span ("flowproc",
// with the outcome, the status and the error code), so an operator finds
// every request flowproc answered in the tracing backend.
func TestOpenTelemetryNoProject(t *testing.T) {
	exp := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	srv := extproc.New(extproc.Options{Resolver: noProjects{}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), OTel: extproc.NewOTel(tp)})
	c := envoyClient(t, srv)
	for _, path := range []string{"/nowhere", "/a/../b"} {
		resp, err := c.Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: path,
			Headers: []envoy.Header{{Name: "traceparent", Value: "00-" + incomingTraceID + "-" + incomingSpanID + "-01"}}}, noUpstream(t))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"/nowhere": "404", "/a/../b": "400"}[path]
		waitStreamsDone(t, srv)
		spans := exp.Ended()
		if len(spans) == 0 {
			t.Fatalf("%s: no span", path)
		}
		s := spans[len(spans)-1]
		if s.Name() != "flowproc" || s.SpanKind() != trace.SpanKindServer || s.Parent().SpanID().String() != incomingSpanID ||
			spanAttr(s, "http.response.status_code") != want || spanAttr(s, "error.type") == "" || spanAttr(s, "url.path") == "" {
			t.Errorf("%s (answered %d): span %q kind %v status %q error.type %q", path, resp.Status, s.Name(), s.SpanKind(),
				spanAttr(s, "http.response.status_code"), spanAttr(s, "error.type"))
		}
	}
}

// noProjects resolves nothing.
type noProjects struct{}

func (noProjects) Resolve(string, string) (flowengine.Runner, string, bool) { return nil, "", false }

// hookRunner runs a function of the run's context.
type hookRunner func(ctx context.Context) *flowengine.Outcome

func (f hookRunner) Run(ctx context.Context, _ *flowengine.Request, _ flowengine.Host) *flowengine.Outcome {
	return f(ctx)
}
