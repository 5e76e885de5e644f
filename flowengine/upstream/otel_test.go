package upstream

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// attr returns the value of key among attrs, "" when absent.
func attr(attrs []attribute.KeyValue, key string) string {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// TestCallSpanAndTraceparent: under a traced exchange a side call gets a
// client span, child of the exchange's span, and the callee receives a
// traceparent of the same trace naming that client span; a 5xx answer
// marks the span as an error; a failed call names its kind.
func TestCallSpanAndTraceparent(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
	)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("traceparent"))
		mu.Unlock()
		if r.URL.Path == "/fail" {
			w.WriteHeader(503)
		}
	})
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, parent := tp.Tracer("test").Start(context.Background(), "exchange", trace.WithSpanKind(trace.SpanKindServer))
	h := newClient(t, HTTPOptions{})
	for _, c := range []*Call{
		{ID: "ok", URL: srv.URL + "/ok"},
		{ID: "fail", URL: srv.URL + "/fail"},
		{ID: "down", URL: "http://" + closedAddr(t) + "/", Timeout: time.Second},
	} {
		if _, err := h.Do(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("got %d spans, want 3 side calls and the exchange", len(spans))
	}
	tid := parent.SpanContext().TraceID()
	for i, want := range []struct {
		id, status, errType string
		code                codes.Code
	}{
		{"ok", "200", "", codes.Unset},
		{"fail", "503", "503", codes.Error},
		{"down", "", "connect", codes.Error},
	} {
		s := spans[i]
		if s.Name != "GET" || s.SpanKind != trace.SpanKindClient {
			t.Errorf("span %d: %q kind %v, want a GET client span", i, s.Name, s.SpanKind)
		}
		if s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanContext.TraceID() != tid {
			t.Errorf("span %d: parent %v, want the exchange's span", i, s.Parent)
		}
		if v := attr(s.Attributes, "flowproc.call.id"); v != want.id {
			t.Errorf("span %d: call id %q, want %q", i, v, want.id)
		}
		if v := attr(s.Attributes, "http.response.status_code"); v != want.status {
			t.Errorf("span %d: status %q, want %q", i, v, want.status)
		}
		if v := attr(s.Attributes, "error.type"); v != want.errType {
			t.Errorf("span %d: error.type %q, want %q", i, v, want.errType)
		}
		if s.Status.Code != want.code {
			t.Errorf("span %d: status code %v, want %v", i, s.Status.Code, want.code)
		}
		if attr(s.Attributes, "server.address") == "" || attr(s.Attributes, "server.port") == "" {
			t.Errorf("span %d: no server.address/port: %v", i, s.Attributes)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("server saw %d calls, want 2", len(got))
	}
	for i, tp := range got {
		want := "00-" + tid.String() + "-" + spans[i].SpanContext.SpanID().String() + "-01"
		if tp != want {
			t.Errorf("call %d: traceparent %q, want %q", i, tp, want)
		}
	}
}

// TestNoSpanNoTraceparent: without a span in the context a side call sends
// no trace context (and records nothing).
func TestNoSpanNoTraceparent(t *testing.T) {
	var got http.Header
	srv := server(t, func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Clone() })
	wantOK(t, do(t, newClient(t, HTTPOptions{}), &Call{URL: srv.URL}), 200)
	for k := range got {
		if strings.EqualFold(k, "traceparent") || strings.EqualFold(k, "tracestate") {
			t.Fatalf("untraced call sent %s", k)
		}
	}
}

// observed records what an Observer was told.
type observed struct {
	ids []string
	ok  []bool
	d   []time.Duration
}

func (o *observed) ObserveCall(c *Call, r *Result, d time.Duration) {
	o.ids, o.ok, o.d = append(o.ids, c.ID), append(o.ok, !r.Failed()), append(o.d, d)
}

// TestObserver: calls under an ObservedContext are reported with their
// result and duration; the context keeps its parent's values and
// cancellation; calls under another context are not reported.
func TestObserver(t *testing.T) {
	srv := server(t, func(http.ResponseWriter, *http.Request) {})
	h := newClient(t, HTTPOptions{})
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	o := &observed{}
	ctx := &ObservedContext{Context: parent, Observer: o}
	if ctx.Value(key{}) != "v" {
		t.Fatal("ObservedContext lost its parent's value")
	}
	if _, err := h.Do(ctx, &Call{ID: "a", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Do(context.Background(), &Call{ID: "unobserved", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := h.Do(ctx, &Call{ID: "b", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.ids, ",") != "a,b" || !o.ok[0] || o.ok[1] || o.d[0] <= 0 {
		t.Fatalf("observed %v ok=%v d=%v, want a (ok, timed) then b (cancelled)", o.ids, o.ok, o.d)
	}
}
