package flowengine

import "time"

// Tracer receives the events of traced runs, one per step plus the forward,
// the upstream response and the outcome (modelled on OPA's QueryTracer).
// TraceEvent is called from the run's goroutine; an implementation that
// keeps an event past the call must copy the slices it holds.
type Tracer interface {
	TraceEvent(e Event)
}

// EventKind says what an Event reports.
type EventKind uint8

const (
	// StepEvent is one step (action, policy, control structure) that ran or
	// whose condition was false.
	StepEvent EventKind = iota
	// MessageEvent is a message a flow wrote for debugging (FLAT debug and
	// dump, Apigee JavaScript print).
	MessageEvent
	// ForwardEvent is the request handed to the upstream, with its mutation.
	ForwardEvent
	// UpstreamEvent is the upstream response's head.
	UpstreamEvent
	// OutcomeEvent is the run's final outcome.
	OutcomeEvent
)

var eventKinds = [...]string{"step", "message", "forward", "upstream", "outcome"}

func (k EventKind) String() string {
	if int(k) < len(eventKinds) {
		return eventKinds[k]
	}
	return "unknown"
}

// Var is a variable a step wrote, with its value rendered as text.
type Var struct {
	Name  string
	Value string
}

// Event is one trace event.
type Event struct {
	Kind EventKind
	// Seq numbers the events of a run in the order their steps started, so
	// a step that contains others (if, a sub-flow) sorts before them even
	// though its event is sent when it ends.
	Seq int
	// Depth is the nesting depth of the step (0 = top level of a flow).
	Depth int
	// Flow is the flow file or segment the step belongs to (e.g.
	// "flows/hello.xml", "proxy default PreFlow").
	Flow string
	// Step is the step's name (the action or policy) and At its source
	// position as "file:line:col" (empty when unknown).
	Step string
	At   string
	// Type is the step's kind, a bounded set fit for metric labels: the
	// action name for FLAT (e.g. "request", "set-env"), the policy type for
	// Apigee (e.g. "AssignMessage"; Step is then the policy's name).
	Type string
	// Cond is the source of the step's condition ("" when it has none) and
	// CondResult its value; a step whose condition was false did not run.
	Cond       string
	CondResult bool
	// Start is when the step started and Duration how long it took.
	Start    time.Time
	Duration time.Duration
	// Vars are the variables the step wrote.
	Vars []Var
	// Err is the error the step ended with.
	Err error
	// Message is the text of a MessageEvent.
	Message string
	// Mutation is the request mutation of a ForwardEvent.
	Mutation *Mutation
	// Response is the upstream response of an UpstreamEvent.
	Response *Response
	// Outcome is the outcome of an OutcomeEvent.
	Outcome *Outcome
}
