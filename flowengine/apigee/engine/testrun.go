package engine

import (
	"context"

	"github.com/flowproc/flowproc/flowengine"
)

// RunForTest runs one exchange as Run does and also returns a reader of
// the run's flow variables, for the bundle test runner (flowtest): it
// reads variables in their string form (Run.Get) once the run is over,
// so call it after the outcome's After (PostClientFlow) has run to see
// what that flow set. The reader must not be called while After runs.
func (p *Project) RunForTest(ctx context.Context, req *flowengine.Request, host flowengine.Host) (*flowengine.Outcome, func(name string) (string, bool)) {
	return p.RunObserved(ctx, req, host, nil)
}
