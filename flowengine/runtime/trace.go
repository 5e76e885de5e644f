package runtime

import (
	"time"

	"github.com/flowproc/flowproc/flowengine"
)

// traceState is an exchange's tracing state.
type traceState struct {
	seq, depth int
	vars       []flowengine.Var
	cond       string
	ok         bool
}

// runTraced is Run's body for one step when the exchange is traced: the
// same semantics, plus one StepEvent with the condition, the duration, the
// variables written and the error.
func runTraced[S State](s S, x *Exchange, flow string, st *Step[S]) (Ctrl, error) {
	ev := flowengine.Event{Kind: flowengine.StepEvent, Seq: x.tr.seq, Depth: x.tr.depth, Flow: flow,
		Step: st.Name, Type: st.Type, At: st.At.String(), Start: time.Now()}
	if ev.Type == "" {
		ev.Type = st.Name
	}
	x.tr.seq++
	outer, outerCond, outerOK := x.tr.vars, x.tr.cond, x.tr.ok
	x.tr.vars, x.tr.cond = nil, ""
	defer func() { x.tr.vars, x.tr.cond, x.tr.ok = outer, outerCond, outerOK }()
	ok := true
	if st.Cond != nil {
		var err error
		ev.Cond = st.Cond.Source()
		ok, err = st.Cond.Eval(s)
		ev.CondResult = ok
		if err != nil {
			ev.Err = &CondError{At: st.At, Source: ev.Cond, Err: err}
			ev.Duration = time.Since(ev.Start)
			x.Trace.TraceEvent(ev)
			return Next, ev.Err
		}
	}
	var (
		c   Ctrl
		err error
	)
	if ok {
		x.tr.depth++
		c, err = st.Act.Run(s, st)
		x.tr.depth--
	}
	ev.Duration = time.Since(ev.Start)
	ev.Vars, ev.Err = x.tr.vars, err
	if ev.Cond == "" && x.tr.cond != "" {
		ev.Cond, ev.CondResult = x.tr.cond, x.tr.ok
	}
	x.Trace.TraceEvent(ev)
	return c, err
}

// TraceCond records a condition the running step evaluated itself (the
// branches of FLAT's if/elseif): the step's event shows every test that ran
// and the last result.
func (x *Exchange) TraceCond(src string, ok bool) {
	if x.Trace == nil {
		return
	}
	if x.tr.cond != "" {
		x.tr.cond += " | "
	}
	x.tr.cond += src
	x.tr.ok = ok
}

// TraceVar records that the running step wrote the variable name. Front
// ends call it when x.Trace != nil (render only then: it is for the trace).
func (x *Exchange) TraceVar(name, value string) {
	if x.Trace != nil {
		x.tr.vars = append(x.tr.vars, flowengine.Var{Name: name, Value: value})
	}
}

// TraceMessage sends a MessageEvent (FLAT debug/dump, a script's print)
// when the exchange is traced.
func (x *Exchange) TraceMessage(flow, step string, at Pos, msg string) {
	if x.Trace == nil {
		return
	}
	x.Trace.TraceEvent(flowengine.Event{Kind: flowengine.MessageEvent, Seq: x.tr.seq, Depth: x.tr.depth,
		Flow: flow, Step: step, At: at.String(), Start: time.Now(), Message: msg})
	x.tr.seq++
}

func (x *Exchange) traceForward() {
	m := x.Fwd
	x.Trace.TraceEvent(flowengine.Event{Kind: flowengine.ForwardEvent, Seq: x.tr.seq, Depth: x.tr.depth,
		Start: time.Now(), Mutation: &m})
	x.tr.seq++
}

func (x *Exchange) traceUpstream() {
	r := *x.Upstream
	x.Trace.TraceEvent(flowengine.Event{Kind: flowengine.UpstreamEvent, Seq: x.tr.seq, Depth: x.tr.depth,
		Start: time.Now(), Response: &r})
	x.tr.seq++
}

func (x *Exchange) traceOutcome(o *flowengine.Outcome) {
	c := *o
	x.Trace.TraceEvent(flowengine.Event{Kind: flowengine.OutcomeEvent, Seq: x.tr.seq, Start: time.Now(), Outcome: &c})
	x.tr.seq++
}
