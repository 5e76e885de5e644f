package engine

import (
	"context"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/runtime"
)

// RunForTest runs one exchange as Run does and also returns a reader of
// the run's flow variables, for the bundle test runner (flowtest): it
// reads variables in their string form (Run.Get) once the run is over,
// so call it after the outcome's After (PostClientFlow) has run to see
// what that flow set. The reader must not be called while After runs.
func (p *Project) RunForTest(ctx context.Context, req *flowengine.Request, host flowengine.Host) (*flowengine.Outcome, func(name string) (string, bool)) {
	p.startMonitors()
	r := &Run{p: p}
	r.x.Start(ctx, req, host)
	r.budget.Reset(ctx, p.opts.Limits)
	r.x.Budget = &r.budget
	out := runtime.Guard(r.run, r.panicked)
	return out, r.Get
}
