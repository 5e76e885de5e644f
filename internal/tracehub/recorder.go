package tracehub

import (
	"context"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/flowproc/flowproc/flowengine"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// tracedRunner runs one selected exchange with a recorder. It is used for
// one exchange only: Run records the run, ExchangeDone (called by the
// ext_proc server after the exchange's last reply) ends the trace and
// offers it to the sessions.
type tracedRunner struct {
	hub      *Hub
	next     flowengine.Runner
	project  string
	sessions []*Session

	rec       *recorder
	out       *flowengine.Outcome
	ran       bool // Run returned (it did not panic)
	cancelled bool // the run's context had ended when Run returned
	done      atomic.Bool
}

// Run implements flowengine.Runner: it adds the recorder to req.Trace
// (next to any tracer already set) and records what the host hands the
// run. The trace is delivered by ExchangeDone.
func (t *tracedRunner) Run(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
	rec := &recorder{hub: t.hub, start: time.Now()}
	rec.doc = &flowprocv1.ExchangeTrace{
		Id: text(req.ID), Project: text(t.project), Method: text(req.Method), Authority: text(req.Authority), Path: text(req.Path),
		Start: timestamppb.New(rec.start),
	}
	rec.doc.Phases = append(rec.doc.Phases, &flowprocv1.Phase{Phase: "request_headers", Headers: rec.headers(req.Headers)})
	t.rec = rec
	req.Trace = flowengine.MultiTracer(req.Trace, rec)
	o := t.next.Run(ctx, req, &recordingHost{next: h, rec: rec})
	t.out, t.ran, t.cancelled = o, true, ctx.Err() != nil
	return o
}

// ExchangeDone implements extproc.ExchangeTracer: the exchange's last
// reply is out, so the trace ends now (durationUs covers the exchange up
// to here) and is offered to the sessions whose status filter keeps it.
// status, when not 0, is the status the client got, which may differ from
// the run's (an answer the server replaced with an error). Calls after the
// first, and calls for a run that never started, do nothing.
func (t *tracedRunner) ExchangeDone(status int) {
	if t.done.Swap(true) || t.rec == nil {
		return
	}
	doc := t.rec.finish(t.project, t.out, t.ran, t.cancelled)
	if status > 0 {
		doc.Status = uint32(status)
	}
	for _, s := range t.sessions {
		if s.f.keeps(int(doc.Status)) {
			s.deliver(doc)
		}
	}
}

// recorder collects one run's events and host I/O.
type recorder struct {
	hub   *Hub
	start time.Time

	mu       sync.Mutex // events arrive from the run; side calls may run beside it
	events   []flowengine.Event
	doc      *flowprocv1.ExchangeTrace
	upstream int // upstream status, 0 = none
}

// TraceEvent implements flowengine.Tracer.
func (r *recorder) TraceEvent(e flowengine.Event) {
	if len(e.Vars) > 0 {
		e.Vars = append([]flowengine.Var(nil), e.Vars...)
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) headers(hs []flowengine.Header) []*flowprocv1.Header {
	out := make([]*flowprocv1.Header, len(hs))
	for i, h := range hs {
		out[i] = &flowprocv1.Header{Name: text(h.Name), Value: r.hub.mask.header(h.Name, h.Value)}
	}
	return out
}

// body fills p's body fields, truncated to the hub's BodyLimit.
func (r *recorder) body(p *flowprocv1.Phase, b []byte) {
	p.BodySize = clamp32(int64(len(b)))
	if n := r.hub.opts.BodyLimit; len(b) > n {
		b, p.BodyTruncated = b[:n], true
	}
	p.Body = text(string(b))
}

func (r *recorder) phase(p *flowprocv1.Phase) {
	r.mu.Lock()
	r.doc.Phases = append(r.doc.Phases, p)
	r.mu.Unlock()
}

// finish builds the trace document of the ended exchange: o is the run's
// outcome, ran false when the run panicked, cancelled true when its context
// had ended.
func (r *recorder) finish(project string, o *flowengine.Outcome, ran, cancelled bool) *flowprocv1.ExchangeTrace {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.doc
	d.DurationUs = micros(time.Since(r.start))
	if d.Id == "" && o != nil {
		d.Id = text(o.RequestID)
	}
	if r.hub.opts.Kind != nil {
		d.Kind = r.hub.opts.Kind(project)
	}
	switch {
	case !ran:
		d.Outcome, d.Error = "error", "the run panicked (see the server log)"
	case o == nil:
		d.Outcome, d.Error = "error", "the run returned no outcome"
	case cancelled:
		d.Outcome = "cancelled"
	case o.Panicked:
		d.Outcome, d.Error = "error", "panic recovered (see the server log)"
	case o.Kind == flowengine.Answered:
		d.Outcome = "answer"
	default:
		d.Outcome = "forward"
	}
	if o != nil {
		d.Flow = text(o.Flow)
		if o.Error != "" && d.Error == "" {
			d.Error = text(o.Error)
		}
		switch {
		case o.Kind == flowengine.Answered:
			d.Status = uint32(o.Status)
			if d.Status == 0 {
				d.Status = 200
			}
			p := &flowprocv1.Phase{Phase: "answer", Status: d.Status, Headers: r.headers(append(append([]flowengine.Header(nil), o.SetHeaders...), o.AddHeaders...))}
			r.body(p, o.Body)
			d.Phases = append(d.Phases, p)
		case o.Status != 0:
			d.Status = uint32(o.Status)
		default:
			d.Status = uint32(r.upstream)
		}
		if o.Kind == flowengine.Forwarded && d.Forward == nil {
			d.Forward = &flowprocv1.Forward{}
		}
	}
	sort.SliceStable(r.events, func(i, j int) bool { return r.events[i].Seq < r.events[j].Seq })
	for i := range r.events {
		if s := r.step(&r.events[i]); s != nil {
			d.Steps = append(d.Steps, s)
			if d.Error == "" && s.Error != "" && d.Outcome == "error" {
				d.Error = s.Error
			}
		}
	}
	return d
}

// step converts a step or message event (others are in phases and
// forward already).
func (r *recorder) step(e *flowengine.Event) *flowprocv1.Step {
	if e.Kind != flowengine.StepEvent && e.Kind != flowengine.MessageEvent {
		return nil
	}
	s := &flowprocv1.Step{
		Seq: uint32(max(e.Seq, 0)), Depth: uint32(max(e.Depth, 0)), Flow: text(e.Flow), Step: text(e.Step), Type: text(e.Type), At: text(e.At),
		Condition: text(e.Cond), ConditionResult: e.CondResult, Ran: e.Cond == "" || e.CondResult,
		DurationUs: micros(e.Duration), Kind: e.Kind.String(), Message: text(e.Message),
	}
	if !e.Start.IsZero() {
		s.StartOffsetUs = micros(e.Start.Sub(r.start))
	}
	if e.Kind == flowengine.MessageEvent {
		s.Ran = true
	}
	for _, v := range e.Vars {
		s.Vars = append(s.Vars, &flowprocv1.Var{Name: text(v.Name), Value: r.hub.mask.variable(v.Name, v.Value)})
	}
	if e.Err != nil {
		s.Error = text(e.Err.Error())
	}
	return s
}

// recordingHost passes the run's I/O to the real host and records it.
type recordingHost struct {
	next flowengine.Host
	rec  *recorder
}

// RequestBody implements flowengine.Host.
func (h *recordingHost) RequestBody(ctx context.Context) ([]byte, error) {
	b, err := h.next.RequestBody(ctx)
	if err == nil {
		p := &flowprocv1.Phase{Phase: "request_body"}
		h.rec.body(p, b)
		h.rec.phase(p)
	}
	return b, err
}

// Forward implements flowengine.Host.
func (h *recordingHost) Forward(ctx context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	r := h.rec
	f := &flowprocv1.Forward{}
	if m != nil {
		f.Path, f.Authority, f.Status = text(m.Path), text(m.Authority), uint32(max(m.Status, 0))
		f.SetHeaders, f.AddHeaders = r.headers(m.SetHeaders), r.headers(m.AddHeaders)
		for _, n := range m.RemoveHeaders {
			f.RemoveHeaders = append(f.RemoveHeaders, text(n))
		}
		f.BodySet, f.BodySize = m.BodySet, clamp32(int64(len(m.Body)))
	}
	r.mu.Lock()
	r.doc.Forward = f
	r.mu.Unlock()
	resp, err := h.next.Forward(ctx, m)
	if err == nil && resp != nil {
		r.mu.Lock()
		r.upstream = resp.Status
		r.mu.Unlock()
		r.phase(&flowprocv1.Phase{Phase: "response_headers", Status: uint32(max(resp.Status, 0)), Headers: r.headers(resp.Headers)})
	}
	return resp, err
}

// ResponseBody implements flowengine.Host.
func (h *recordingHost) ResponseBody(ctx context.Context) ([]byte, error) {
	b, err := h.next.ResponseBody(ctx)
	if err == nil {
		p := &flowprocv1.Phase{Phase: "response_body"}
		h.rec.body(p, b)
		h.rec.phase(p)
	}
	return b, err
}

func micros(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return clamp32(d.Microseconds())
}

func clamp32(n int64) uint32 {
	if n > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(max(n, 0))
}
