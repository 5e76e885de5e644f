// Package tracehub decides which exchanges are traced and hands their
// traces to the sessions that asked for them (docs/trace.md).
//
// A session (Hub.Open, Hub.Subscribe) carries a filter: project, path
// prefix, header matches, status, sampling rate. Hub.Trace is called once
// per exchange; while no session is open it returns the runner unchanged
// and allocates nothing, so tracing costs nothing when off. An exchange a
// session selects runs with a recorder as its flowengine.Tracer and a host
// wrapper that sees its bodies, forward and upstream response; when the
// exchange ends (the ext_proc server calls the runner's ExchangeDone after
// the last reply, extproc.ExchangeTracer) the recorder builds one
// flowproc.v1.ExchangeTrace (the trace document, with secrets masked) and
// offers it to each selecting session.
//
// Sessions are bounded: at most Options.MaxSessions at once (the excess get
// ResourceExhausted), and each has a buffer of Options.Buffer traces. A
// session that reads too slowly loses traces, never blocks an exchange: the
// drops are counted in flowproc_trace_dropped_total and reported in the
// next trace the session receives (ExchangeTrace.dropped).
package tracehub

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/flowproc/flowproc/flowengine"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// Defaults for Options.
const (
	DefaultMaxSessions = 16
	DefaultBuffer      = 64
	DefaultBodyLimit   = 4096
)

// Options configure a Hub.
type Options struct {
	// MaxSessions bounds the sessions open at once (default
	// DefaultMaxSessions).
	MaxSessions int
	// Buffer is each session's queue of traces not yet read (default
	// DefaultBuffer); traces that do not fit are dropped and counted.
	Buffer int
	// BodyLimit is how many bytes of each body a trace keeps (default
	// DefaultBodyLimit); longer bodies are truncated (Phase.body_truncated,
	// Phase.body_size holds the full size).
	BodyLimit int
	// MaskHeaders are header names whose values read "***" in traces, on
	// top of Authorization, Proxy-Authorization, Cookie and Set-Cookie.
	MaskHeaders []string
	// Projects, when set, lists the loaded projects: a session filter that
	// names another project is refused.
	Projects func() []string
	// Kind, when set, returns a project's kind ("flat", "apigee").
	Kind func(project string) string
	// Metrics, when set, receives flowproc_trace_dropped_total and
	// flowproc_trace_sessions.
	Metrics prometheus.Registerer
}

// Hub is the set of open trace sessions. It is safe for concurrent use.
type Hub struct {
	opts Options
	mask masker

	mu       sync.Mutex // serialises Open and close
	sessions atomic.Pointer[[]*Session]
	open     atomic.Int32

	dropped      prometheus.Counter
	droppedTotal atomic.Uint64
	gauge        prometheus.Gauge
}

// New returns a Hub. It fails only when its metrics cannot be registered.
func New(opts Options) (*Hub, error) {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	h := &Hub{
		opts: opts,
		mask: newMasker(opts.MaskHeaders),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "flowproc_trace_dropped_total",
			Help: "Traces a trace session selected but dropped because its client read too slowly."}),
		gauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowproc_trace_sessions",
			Help: "Trace sessions open."}),
	}
	if opts.Metrics != nil {
		if err := h.RegisterMetrics(opts.Metrics); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// RegisterMetrics registers flowproc_trace_dropped_total and
// flowproc_trace_sessions on reg (New does when Options.Metrics is set).
func (h *Hub) RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{h.dropped, h.gauge} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("trace hub metrics: %w", err)
		}
	}
	return nil
}

// Session is one open trace session.
type Session struct {
	// C delivers the session's traces; it is closed when the session ends.
	C <-chan *flowprocv1.ExchangeTrace

	hub     *Hub
	f       *filter
	ch      chan *flowprocv1.ExchangeTrace
	mu      sync.Mutex // guards closed against concurrent sends
	closed  bool
	pending atomic.Uint64 // drops not yet reported in a trace
	total   atomic.Uint64 // drops over the session's life
	stop    func() bool
}

// Open opens a session for the filters in req. It ends when ctx ends or
// Close is called. Malformed filters are an InvalidArgument error; a full
// hub is ResourceExhausted (both gRPC status errors).
func (h *Hub) Open(ctx context.Context, req *flowprocv1.TraceRequest) (*Session, error) {
	var known []string
	if h.opts.Projects != nil {
		known = h.opts.Projects()
	}
	f, err := parseFilter(req, known)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	cur := h.list()
	if len(cur) >= h.opts.MaxSessions {
		return nil, status.Errorf(codes.ResourceExhausted, "trace: %d sessions are open, the limit; close one or raise -trace-max-sessions", len(cur))
	}
	ch := make(chan *flowprocv1.ExchangeTrace, h.opts.Buffer)
	s := &Session{C: ch, hub: h, f: f, ch: ch}
	next := append(append(make([]*Session, 0, len(cur)+1), cur...), s)
	h.sessions.Store(&next)
	h.open.Store(int32(len(next)))
	h.gauge.Set(float64(len(next)))
	s.stop = context.AfterFunc(ctx, s.Close)
	return s, nil
}

// Subscribe opens a session (see Open) and returns its channel and the
// function that closes it. The channel is closed when the session ends.
func (h *Hub) Subscribe(ctx context.Context, req *flowprocv1.TraceRequest) (<-chan *flowprocv1.ExchangeTrace, func(), error) {
	s, err := h.Open(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	return s.C, s.Close, nil
}

// Dropped returns how many traces the hub dropped, over all sessions.
func (h *Hub) Dropped() uint64 { return h.droppedTotal.Load() }

// Sessions returns how many sessions are open.
func (h *Hub) Sessions() int { return int(h.open.Load()) }

func (h *Hub) list() []*Session {
	if p := h.sessions.Load(); p != nil {
		return *p
	}
	return nil
}

// Dropped returns how many traces the session lost to a slow reader.
func (s *Session) Dropped() uint64 { return s.total.Load() }

// Close ends the session and closes C. It may be called more than once.
func (s *Session) Close() {
	h := s.hub
	h.mu.Lock()
	cur := h.list()
	next := make([]*Session, 0, len(cur))
	for _, o := range cur {
		if o != s {
			next = append(next, o)
		}
	}
	h.sessions.Store(&next)
	h.open.Store(int32(len(next)))
	h.gauge.Set(float64(len(next)))
	h.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
}

// deliver offers t to the session without blocking. A trace that does not
// fit is dropped and counted; the next delivered trace reports the drops.
// t is shared between sessions: it is cloned when its dropped field must
// differ.
func (s *Session) deliver(t *flowprocv1.ExchangeTrace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	drops := s.pending.Swap(0)
	if drops > 0 {
		t = proto.CloneOf(t)
		t.Dropped = uint32(min(drops, math.MaxUint32))
	}
	select {
	case s.ch <- t:
	default:
		s.pending.Add(drops + 1)
		s.total.Add(1)
		s.hub.dropped.Inc()
		s.hub.droppedTotal.Add(1)
	}
}

// Trace returns the runner to run an exchange of project with: runner
// itself unless an open session selects the exchange (filters and
// sampling), else a runner that records the run for those sessions and
// delivers the trace when its ExchangeDone is called (once the exchange's
// last reply is out; extproc.ExchangeTracer): a caller that runs it must
// call ExchangeDone. With no session open it only loads one atomic and
// allocates nothing.
func (h *Hub) Trace(project string, req *flowengine.Request, runner flowengine.Runner) flowengine.Runner {
	if h == nil || h.open.Load() == 0 || runner == nil {
		return runner
	}
	var picked []*Session
	for _, s := range h.list() {
		if s.f.selects(project, req) && (s.f.sample >= 1 || rand.Float64() < s.f.sample) {
			picked = append(picked, s)
		}
	}
	if len(picked) == 0 {
		return runner
	}
	return &tracedRunner{hub: h, next: runner, project: project, sessions: picked}
}
