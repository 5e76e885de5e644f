package extproc

import "github.com/flowproc/flowproc/flowengine"

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

// traced applies the server's Tracing, if any, to the exchange's runner.
func (x *exchange) traced(runner flowengine.Runner) flowengine.Runner {
	if x.s.tracing == nil {
		return runner
	}
	return x.s.tracing.Trace(x.project, &x.request, runner)
}
