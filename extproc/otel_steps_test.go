package extproc

import (
	"context"
	"errors"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/flowproc/flowproc/flowengine"
)

// TestStepSpansTree: events arrive children first (as the runtime sends
// them); spans nest by depth, keep their times, carry errors, and steps
// whose parent never reported are flushed under the exchange.
func TestStepSpansTree(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tr := tp.Tracer("test")
	ctx, server := tr.Start(context.Background(), "exchange")
	s := &stepSpans{tracer: tr, parent: ctx, server: server}
	t0 := time.Now()
	ev := func(step string, depth int, start, dur time.Duration, err error) flowengine.Event {
		return flowengine.Event{Kind: flowengine.StepEvent, Step: step, Type: step, Depth: depth, Flow: "f.xml", Start: t0.Add(start), Duration: dur, Err: err}
	}
	s.TraceEvent(ev("leaf", 2, 2, 1, nil))
	s.TraceEvent(ev("mid", 1, 1, 3, errors.New("boom")))
	s.TraceEvent(ev("top", 0, 0, 5, nil))
	s.TraceEvent(flowengine.Event{Kind: flowengine.ForwardEvent, Start: t0})
	s.TraceEvent(ev("orphan", 1, 6, 1, nil)) // its parent never reports
	s.flush()
	server.End()

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, sp := range rec.Ended() {
		byName[sp.Name()] = sp
	}
	parentOf := func(name string) string {
		p := byName[name].Parent().SpanID()
		for n, sp := range byName {
			if sp.SpanContext().SpanID() == p {
				return n
			}
		}
		return ""
	}
	for child, want := range map[string]string{"leaf": "mid", "mid": "top", "top": "exchange", "orphan": "exchange"} {
		if byName[child] == nil {
			t.Fatalf("no span %q", child)
		}
		if got := parentOf(child); got != want {
			t.Errorf("parent of %s = %q, want %q", child, got, want)
		}
	}
	if leaf := byName["leaf"]; !leaf.StartTime().Equal(t0.Add(2)) || !leaf.EndTime().Equal(t0.Add(3)) {
		t.Errorf("leaf span [%v, %v], want the event's times", leaf.StartTime(), leaf.EndTime())
	}
	if mid := byName["mid"]; mid.Status().Description != "boom" {
		t.Errorf("mid status = %+v, want the error", mid.Status())
	}
	if evs := byName["exchange"].Events(); len(evs) != 1 || evs[0].Name != "flowproc.forward" {
		t.Errorf("exchange events = %v, want flowproc.forward", evs)
	}
}
