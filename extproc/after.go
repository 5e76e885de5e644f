package extproc

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowproc/flowproc/flowengine"
)

// Post-response hooks (Outcome.After: Apigee PostClientFlow, logging) run
// once the exchange's last reply has gone to Envoy, in a goroutine of their
// own so they never delay the stream, with a deadline of their own, and at
// most maxAfterHooks at a time (beyond that a hook runs in the stream's
// goroutine: back-pressure instead of unbounded goroutines).
const (
	maxAfterHooks = 1024
	afterTimeout  = 30 * time.Second
)

// afterResponse starts x's post-response hook, if any.
func (s *Server) afterResponse(x *exchange) {
	o := x.out
	if o == nil || o.After == nil {
		return
	}
	h := afterHook{requestID: x.request.ID, project: x.project, parent: x.ctx, f: o.After}
	s.hooks.Add(1)
	select {
	case s.hookSlots <- struct{}{}:
		go func() {
			defer func() { <-s.hookSlots }()
			s.runAfter(h)
		}()
	default:
		s.runAfter(h)
	}
}

// afterHook is one exchange's post-response hook.
type afterHook struct {
	requestID, project string
	// parent is the run's context, without its cancellation: side calls
	// are counted in the side-call metrics like the run's, and with OTel
	// the hook runs in a span of its own, a child of the exchange span, so
	// its side calls get client spans and carry traceparent and baggage.
	parent context.Context
	f      func(context.Context)
}

// runAfter runs one hook with its deadline, recovering a panic.
func (s *Server) runAfter(h afterHook) {
	defer s.hooks.Done()
	base := context.Background()
	if h.parent != nil {
		base = context.WithoutCancel(h.parent) // the exchange's stream has ended
	}
	ctx, cancel := context.WithTimeout(base, afterTimeout)
	defer cancel()
	var sp trace.Span
	if s.otel != nil && trace.SpanContextFromContext(ctx).IsValid() {
		ctx, sp = s.otel.tracer.Start(ctx, spanName(h.project)+" post-response", trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(attribute.String("flowproc.project", h.project)))
		defer sp.End()
	}
	defer func() {
		if r := recover(); r != nil {
			s.metrics.panics.Inc()
			s.log.Error("panic recovered in a post-response hook", "requestID", h.requestID, "panic", fmt.Sprint(r))
			if sp != nil {
				sp.SetStatus(codes.Error, "panic")
			}
		}
	}()
	h.f(ctx)
}

// waitHooks waits for running post-response hooks until ctx ends.
func (s *Server) waitHooks(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.hooks.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for post-response hooks: %w", ctx.Err())
	}
}

// recycleRun hands the run's memory back to its front end
// (Outcome.Recycle) once the exchange is done with its outcome: after the
// last reply, the record and the hand-off of After (a run with After is
// never recycled: the hook still runs).
func (x *exchange) recycleRun() bool {
	o := x.out
	if o == nil || o.Recycle == nil || o.After != nil {
		return false
	}
	x.out = nil
	o.Recycle.Recycle()
	return true
}

// maxPooledHeaders bounds each header slice (request and upstream
// response) a pooled exchange keeps.
const maxPooledHeaders = 64

// recycle pools x for a later stream when nothing can refer to it any
// more: its run was recycled (so it left no hook or trace that holds the
// exchange), no pump goroutine reads for it, and no span or trace
// recorder was given it (a tracer or span processor may keep the
// exchange's request or context). It keeps its request and response
// header slices, the metric series it counted last (seriesHint), its
// stream wait guard, whose timer may still fire (waitGuard: it ends only
// a wait it finds under way), and its run context holder (runCtx), unless
// something waited on that context: a goroutine may then still hold a
// context derived from it, and the holder is left to it.
func (x *exchange) recycle() {
	if x.pumping || x.observed {
		return
	}
	hs, rhs, wait, rc, series := x.request.Headers, x.response.Headers, x.wait, x.rc, x.series
	if rc != nil && rc.r.child.Load() != nil {
		// Something asked for the run context's Done and may hold a
		// context derived from it still: the next exchange gets a new
		// one.
		rc = nil
	} else if rc != nil {
		*rc = runCtx{}
	}
	*x = exchange{rc: rc, wait: wait, series: series}
	x.request.Headers, x.response.Headers = pooledHeaders(hs), pooledHeaders(rhs)
	exchanges.Put(x)
}

// pooledHeaders returns hs emptied and cleared for a pooled exchange, or
// nil when it is too large to keep.
func pooledHeaders(hs []flowengine.Header) []flowengine.Header {
	if cap(hs) > maxPooledHeaders {
		return nil
	}
	clear(hs[:cap(hs)])
	return hs[:0]
}
