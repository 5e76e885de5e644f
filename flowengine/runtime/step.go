package runtime

import (
	"fmt"
	"strconv"
)

// Ctrl says how a step ends: go on, leave the current flow, or end every
// flow of the run.
type Ctrl uint8

const (
	// Next continues with the next step.
	Next Ctrl = iota
	// Return leaves the current (sub-)flow.
	Return
	// Break ends all flows; the response built so far is sent (FLAT break).
	Break
	// Terminate ends all flows with a final response (echo, error, an
	// Apigee fault raised).
	Terminate
)

// State is a front end's per-run state. It embeds (or holds) the run's
// Exchange.
type State interface {
	Exchange() *Exchange
}

// Cond is a condition compiled at load time. Eval runs per request.
type Cond[S any] interface {
	Eval(s S) (bool, error)
	// Source is the condition as written, for traces and errors.
	Source() string
}

// Action is what a step does, compiled at load time.
type Action[S any] interface {
	Run(s S, st *Step[S]) (Ctrl, error)
}

// Pos is a position in a project's source file (the file relative to the
// project directory, never a server path).
type Pos struct {
	File      string
	Line, Col int
}

// String returns "file:line:col" (or "file:line" without a column).
func (p Pos) String() string {
	if p.File == "" {
		return ""
	}
	s := p.File + ":" + strconv.Itoa(p.Line)
	if p.Col > 0 {
		s += ":" + strconv.Itoa(p.Col)
	}
	return s
}

// Step is one compiled step: an action or control structure with an
// optional condition.
type Step[S any] struct {
	// Name is the action's or policy's name (for traces).
	Name string
	// Type is the step's kind for traces and metrics (Event.Type): the
	// action name for FLAT, the policy type for Apigee. Empty means Name.
	Type string
	At   Pos
	// Cond, when non-nil, must be true for the step to run.
	Cond Cond[S]
	Act  Action[S]
}

// CondError is an error evaluating a step's condition.
type CondError struct {
	At     Pos
	Source string
	Err    error
}

func (e *CondError) Error() string {
	return fmt.Sprintf("%s:%d: condition %q: %v", e.At.File, e.At.Line, e.Source, e.Err)
}

func (e *CondError) Unwrap() error { return e.Err }

// Run runs steps in order against s until one ends the flow (a Ctrl other
// than Next) or fails. flow names the flow or segment for traces. Before
// every step it charges the run's step budget and checks its context, so a
// cancelled exchange stops at the next step.
func Run[S State](s S, flow string, steps []Step[S]) (Ctrl, error) {
	x := s.Exchange()
	for i := range steps {
		st := &steps[i]
		if x.Budget != nil {
			if err := x.Budget.Step(); err != nil {
				return Next, err
			}
		} else if err := x.Ctx.Err(); err != nil {
			return Next, err
		}
		if x.Trace != nil {
			c, err := runTraced(s, x, flow, st)
			if err != nil || c != Next {
				return c, err
			}
			continue
		}
		if st.Cond != nil {
			ok, err := st.Cond.Eval(s)
			if err != nil {
				return Next, &CondError{At: st.At, Source: st.Cond.Source(), Err: err}
			}
			if !ok {
				continue
			}
		}
		c, err := st.Act.Run(s, st)
		if err != nil || c != Next {
			return c, err
		}
	}
	return Next, nil
}
