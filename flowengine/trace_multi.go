package flowengine

// MultiTracer returns a Tracer that hands every event to a, then to b. It
// is nil-safe: when one of them is nil it returns the other (nil when both
// are), so a host that combines an optional trace session with an optional
// OpenTelemetry tracer pays nothing for the one that is off.
func MultiTracer(a, b Tracer) Tracer {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return multiTracer{a, b}
}

// multiTracer is two tracers in order.
type multiTracer struct{ a, b Tracer }

// TraceEvent implements Tracer.
func (m multiTracer) TraceEvent(e Event) {
	m.a.TraceEvent(e)
	m.b.TraceEvent(e)
}
