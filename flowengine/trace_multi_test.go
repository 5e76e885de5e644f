package flowengine

import "testing"

type countTracer struct{ n int }

func (c *countTracer) TraceEvent(Event) { c.n++ }

func TestMultiTracer(t *testing.T) {
	a, b := &countTracer{}, &countTracer{}
	if MultiTracer(nil, nil) != nil {
		t.Error("MultiTracer(nil, nil) is not nil")
	}
	if MultiTracer(a, nil) != Tracer(a) || MultiTracer(nil, b) != Tracer(b) {
		t.Error("MultiTracer with one nil argument does not return the other")
	}
	m := MultiTracer(a, b)
	m.TraceEvent(Event{Kind: StepEvent})
	m.TraceEvent(Event{Kind: OutcomeEvent})
	if a.n != 2 || b.n != 2 {
		t.Errorf("events seen: a=%d b=%d, want 2 each", a.n, b.n)
	}
}
