package extproc

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowproc/flowproc/flowengine"
)

// stepSpans is the flowengine.Tracer of a sampled exchange: every step
// event becomes a child span of the exchange's span (or of the step that
// contains it), with the step's real start and duration; messages, the
// forward and the upstream response become events on the exchange span.
//
// A step's event arrives when it ends, after the events of the steps it
// contains, so those wait in pending (by depth) until their parent's event
// arrives and its span can be started.
type stepSpans struct {
	tracer  trace.Tracer
	parent  context.Context // holds the exchange's span
	server  trace.Span
	pending [][]stepNode
}

// stepNode is a step event with the steps it contains.
type stepNode struct {
	ev       flowengine.Event
	children []stepNode
}

// TraceEvent implements flowengine.Tracer.
func (s *stepSpans) TraceEvent(e flowengine.Event) {
	switch e.Kind {
	case flowengine.StepEvent:
		s.step(e)
	case flowengine.MessageEvent:
		s.server.AddEvent("flowproc.message", trace.WithTimestamp(e.Start), trace.WithAttributes(
			attribute.String("flowproc.flow", e.Flow), attribute.String("flowproc.step", e.Step),
			attribute.String("flowproc.message", e.Message)))
	case flowengine.ForwardEvent:
		s.server.AddEvent("flowproc.forward", trace.WithTimestamp(e.Start))
	case flowengine.UpstreamEvent:
		var attrs []attribute.KeyValue
		if e.Response != nil {
			attrs = append(attrs, attribute.Int("http.response.status_code", e.Response.Status))
		}
		s.server.AddEvent("flowproc.upstream_response", trace.WithTimestamp(e.Start), trace.WithAttributes(attrs...))
	}
}

// step files one step event: its span is started (with its children's)
// when it is top level, else it waits for its parent.
func (s *stepSpans) step(e flowengine.Event) {
	d := max(e.Depth, 0)
	for len(s.pending) < d+2 {
		s.pending = append(s.pending, nil)
	}
	n := stepNode{ev: e, children: s.pending[d+1]}
	if len(e.Vars) > 0 {
		n.ev.Vars = nil // not kept: values may be secrets and the slice is the run's
	}
	s.pending[d+1] = nil
	if d == 0 {
		s.emit(s.parent, n)
		return
	}
	s.pending[d] = append(s.pending[d], n)
}

// flush starts the spans of steps whose parent never reported (a run that
// stopped inside a nested step), as children of the exchange span.
func (s *stepSpans) flush() {
	for _, nodes := range s.pending {
		for _, n := range nodes {
			s.emit(s.parent, n)
		}
	}
	s.pending = nil
}

// emit records n's span under parent, then its children's under it.
func (s *stepSpans) emit(parent context.Context, n stepNode) {
	e := &n.ev
	attrs := make([]attribute.KeyValue, 0, 7)
	attrs = append(attrs, attribute.String("flowproc.flow", e.Flow), attribute.String("flowproc.step.type", e.Type))
	if e.At != "" {
		attrs = append(attrs, attribute.String("code.position", e.At))
	}
	if e.Cond != "" {
		attrs = append(attrs, attribute.String("flowproc.step.condition", e.Cond), attribute.Bool("flowproc.step.condition_result", e.CondResult))
	}
	ran := e.Cond == "" || e.CondResult
	attrs = append(attrs, attribute.Bool("flowproc.step.ran", ran))
	result := "ok"
	switch {
	case e.Err != nil:
		result = "error"
	case !ran:
		result = "skipped"
	}
	attrs = append(attrs, attribute.String("flowproc.step.result", result))
	ctx, sp := s.tracer.Start(parent, e.Step, trace.WithTimestamp(e.Start), trace.WithAttributes(attrs...))
	if e.Err != nil {
		sp.SetStatus(codes.Error, e.Err.Error())
	}
	for _, c := range n.children {
		s.emit(ctx, c)
	}
	sp.End(trace.WithTimestamp(e.Start.Add(e.Duration)))
}
