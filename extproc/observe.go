package extproc

import "github.com/flowproc/flowproc/flowengine"

// newObservability sets up what Options ask for beyond the base metrics:
// OpenTelemetry tracing, step metrics, and the side-call metrics (always
// on: they cost nothing for exchanges without side calls).
func (s *Server) newObservability(opts Options) {
	s.otel = opts.OTel
	s.stepMetrics = opts.StepMetrics
	s.sideCalls = newSideCallMetrics(s.reg, maxSideCallHosts)
	if s.stepMetrics {
		s.stepHist = newStepHistogram(s.reg)
	}
}

// observeRun attaches the exchange's observers before its run: the step
// metrics tracer (Options.StepMetrics) and the OpenTelemetry span
// (Options.OTel). With neither it does nothing and allocates nothing.
func (x *exchange) observeRun() {
	if x.s.stepMetrics {
		x.steps = stepObserver{hist: x.s.stepHist, project: x.project}
		x.request.Trace = flowengine.MultiTracer(x.request.Trace, &x.steps)
	}
	if t := x.s.otel; t != nil {
		x.startSpan(t)
	}
}
