package extproc

import (
	"fmt"

	"github.com/flowproc/flowproc/flowengine"
)

// Tracing decides, once per exchange, whether the exchange is traced
// (internal/tracehub.Hub implements it; docs/trace.md).
type Tracing interface {
	// Trace returns the runner to run the exchange of project with: runner
	// itself when nobody traces the exchange (this must then cost no
	// allocation), else a runner that records the run around runner. The
	// wrapper may set req.Trace (with flowengine.MultiTracer, keeping any
	// tracer already there).
	Trace(project string, req *flowengine.Request, runner flowengine.Runner) flowengine.Runner
}

// ExchangeTracer is a runner Tracing.Trace returns for a traced exchange
// that wants to see the exchange end, not only its run: the server calls
// ExchangeDone exactly once, after the exchange's last reply went to Envoy
// (the ImmediateResponse, or the response-direction reply that released the
// response), or when the exchange ended without one (the stream failed, the
// run panicked). It is called before the server waits for Envoy to close
// the stream, so a trace's duration spans the request headers to the last
// reply and not the client's download. status is the HTTP status the
// client got (0 when none was sent).
type ExchangeTracer interface {
	flowengine.Runner
	ExchangeDone(status int)
}

// traced applies the server's Tracing, if any, to the exchange's runner.
func (x *exchange) traced(runner flowengine.Runner) flowengine.Runner {
	if x.s.tracing == nil {
		return runner
	}
	r := x.s.tracing.Trace(x.project, &x.request, runner)
	if t, ok := r.(ExchangeTracer); ok {
		x.traceEnd, x.observed = t, true
	}
	return r
}

// traceDone tells a traced exchange's runner that its last reply is out
// (ExchangeTracer). It runs at most once per exchange; a panic in the
// tracer is logged, never propagated.
func (x *exchange) traceDone() {
	t := x.traceEnd
	if t == nil {
		return
	}
	x.traceEnd = nil
	defer func() {
		if r := recover(); r != nil {
			x.s.metrics.panics.Inc()
			x.s.log.Error("panic recovered while ending a trace", "requestID", x.request.ID, "panic", fmt.Sprint(r))
		}
	}()
	t.ExchangeDone(x.status)
}
