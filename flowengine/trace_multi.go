package flowengine

// MultiTracer returns a Tracer that hands every event to a and then to b.
// A nil argument is left out: MultiTracer(nil, b) is b itself, so hosts
// that add a tracer of their own (the trace hub, OpenTelemetry, `dev
// -trace`) next to one already set pay nothing extra when the other is
// absent. Both nil gives nil.
func MultiTracer(a, b Tracer) Tracer {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return multiTracer{a, b}
}

type multiTracer struct{ a, b Tracer }

func (m multiTracer) TraceEvent(e Event) {
	m.a.TraceEvent(e)
	m.b.TraceEvent(e)
}
