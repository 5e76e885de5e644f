package flat

import (
	"fmt"
	"sync/atomic"

	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"github.com/flowproc/flowproc/flowengine/template"
)

// ctrl is how a step ends: go on, leave the current flow, or end every flow.
type ctrl = runtime.Ctrl

const (
	ctrlNext      = runtime.Next      // continue with the next step
	ctrlReturn    = runtime.Return    // <return/>: leave the current (sub-)flow
	ctrlBreak     = runtime.Break     // <break/>: end all flows, send the response
	ctrlTerminate = runtime.Terminate // echo/error/…: the response is final, end all flows
)

// Flow is one compiled flow file.
type Flow struct {
	// File is the flow's path relative to the project directory.
	File string
	path string // absolute
	dir  string
	body []step
}

// step is one compiled element of a flow: an action or a control structure,
// with its optional if= condition, run by the shared runtime's step loop.
type step = runtime.Step[*run]

// action runs one step.
type action = runtime.Action[*run]

// pos is a file position for runtime errors and traces.
type pos struct {
	file string
	line int
	col  int
}

// flatCond is an if= condition: an XPath expression, evaluated after the
// request body was fetched when the step reads it.
type flatCond struct {
	e         *expr.Expr
	src       string
	needsBody bool
}

func (c *flatCond) Eval(r *run) (bool, error) {
	if c.needsBody {
		if err := r.ensureBody(); err != nil {
			return false, err
		}
	}
	return c.e.EvalBool(r.exprCtx(nil))
}

func (c *flatCond) Source() string { return c.src }

// bodyFirst fetches the request body before running a step that reads it.
type bodyFirst struct{ act action }

func (b bodyFirst) Run(r *run, s *step) (ctrl, error) {
	if err := r.ensureBody(); err != nil {
		return ctrlNext, err
	}
	return b.act.Run(r, s)
}

// value is an attribute value: a literal or a dynamic {expression}.
type value struct {
	lit string
	dyn *expr.Expr
}

func (v value) eval(r *run) (string, error) {
	if v.dyn == nil {
		return v.lit, nil
	}
	return v.dyn.EvalString(r.exprCtx(nil))
}

func (v value) empty() bool { return v.dyn == nil && v.lit == "" }

// tmpl is a compiled JSON template with where it came from.
type tmpl struct {
	t   *template.Template
	pos pos
	// size is the length of a recent output, for sizing the next run's
	// output buffer in one allocation (run.runTemplate).
	size atomic.Int32
}

// errorf wraps an error of running t with where t is.
func (t *tmpl) errorf(err error) error {
	return fmt.Errorf("%s:%d: template: %w", t.pos.file, t.pos.line, err)
}
