package flat

import (
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/template"
)

// ctrl is how a step ends: go on, leave the current flow, or end every flow.
type ctrl uint8

const (
	ctrlNext      ctrl = iota // continue with the next step
	ctrlReturn                // <return/>: leave the current (sub-)flow
	ctrlBreak                 // <break/>: end all flows, send the response
	ctrlTerminate             // echo/error/…: the response is final, end all flows
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
// with its optional if= condition.
type step struct {
	pos  pos
	cond *expr.Expr
	// needsBody is true when any expression or template of the step reads
	// $body or $request/post: the run fetches the request body first.
	needsBody bool
	act       action
}

// action runs one step.
type action interface {
	run(r *run, s *step) (ctrl, error)
}

// pos is a file position for runtime errors and traces.
type pos struct {
	file string
	line int
	col  int
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
}
