package extproc

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/tap"
)

// The stream wait timeout without a goroutine per stream.
//
// A blocked stream.Recv returns only when a message arrives or the stream's
// context ends, and a gRPC handler cannot end its own stream's context. So
// the server installs an InTapHandle (GRPCOptions) that gives every stream a
// context the handler can cancel, stored in the context itself. An exchange
// then reads Envoy's messages in its own goroutine with a timer armed around
// each Recv: when the wait outlasts the timeout the timer cancels the
// stream's context, Recv returns, and the exchange ends with
// DEADLINE_EXCEEDED. Without the tap (a grpc.Server built without
// GRPCOptions, or a test stream) the exchange falls back to reading through
// the pump goroutine, which costs a goroutine and a hand-off per message.

// streamCtxKey keys a stream's streamCtx in its context.
type streamCtxKey struct{}

// errStreamWait is the cause the wait timer cancels a stream with.
var errStreamWait = errors.New("flowproc: no message from Envoy within the stream wait timeout")

// tapStreamCancel is the server's InTapHandle: it makes every stream's
// context cancellable by the stream's handler (streamCanceler), and notes
// the project the stream's metadata names (ProjectMetadataKey).
func tapStreamCancel(ctx context.Context, info *tap.Info) (context.Context, error) {
	c := newStreamCtx(ctx)
	// A direct lookup: metadata from the wire has lower-case keys (HTTP/2
	// refuses upper-case header names, and grpc-go's framer checks), so
	// metadata.ValueFromIncomingContext's case-insensitive scan of every
	// key, which a stream without the key paid in full, finds nothing
	// more here.
	if v := info.Header[ProjectMetadataKey]; len(v) > 0 {
		c.project = v[0]
	}
	c.tapped = true
	return c, nil
}

// WithStreamCancel returns ctx made cancellable by the exchange that runs on
// it, as GRPCOptions' InTapHandle does for every stream. Tests and
// benchmarks that drive Process with their own stream use it to get the
// server's production read path.
func WithStreamCancel(ctx context.Context) context.Context { return newStreamCtx(ctx) }

func newStreamCtx(ctx context.Context) *streamCtx {
	inner, cancel := context.WithCancelCause(ctx)
	return &streamCtx{Context: inner, cancel: cancel}
}

// streamCtx is a stream's context that its exchange can cancel. When the
// wait timer cancelled it, Err reports context.DeadlineExceeded: grpc-go
// turns the error of the interrupted Recv into the stream's status right
// away (a server-side cancel), and this makes that status
// DEADLINE_EXCEEDED, as the exchange's own would be.
type streamCtx struct {
	context.Context
	cancel context.CancelCauseFunc
	// project is the value of the stream's ProjectMetadataKey metadata,
	// when tapped: the server's tap made the context and read it.
	project string
	tapped  bool
}

// Err implements context.Context.
func (c *streamCtx) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == errStreamWait {
		return context.DeadlineExceeded
	}
	return err
}

// Value implements context.Context; it holds itself under streamCtxKey.
func (c *streamCtx) Value(key any) any {
	if key == (streamCtxKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// streamOf returns the streamCtx WithStreamCancel or the server's tap made
// ctx from; nil when there is none.
func streamOf(ctx context.Context) *streamCtx {
	c, _ := ctx.Value(streamCtxKey{}).(*streamCtx)
	return c
}

// tapOption installs tapStreamCancel.
func tapOption() grpc.ServerOption { return grpc.InTapHandle(tapStreamCancel) }

// waitGuard bounds each in-place Recv by the stream wait timeout.
//
// Arming a timer around every Recv (Reset before, Stop after) took the
// timer heap's lock twice per message, about 2 µs of an exchange's CPU
// under load. Instead the guard's one timer runs lazily: a Recv only
// records when its wait began, and when the timer fires it either cancels
// the stream (the current wait has lasted the timeout), or re-arms itself
// for the rest of the current wait or a whole timeout when no wait is in
// progress. Waits are bounded exactly as before; the timer fires about once
// per timeout over a long stream, never on the way of a short exchange.
type waitGuard struct {
	timeout time.Duration
	cancel  context.CancelCauseFunc
	timer   atomic.Pointer[time.Timer]
	// since is when the current wait began (monoNow), 0 between waits.
	since   atomic.Int64
	fired   atomic.Bool
	stopped atomic.Bool
	// woke: the timer's function has started at least once (fire).
	woke atomic.Bool
	// armed: this exchange started the timer (read and written by the
	// exchange's goroutine only). A reused exchange keeps its stopped timer
	// (exchange.recycle) and re-arms it instead of creating one.
	armed bool
}

// waitEpoch anchors monoNow.
var waitEpoch = time.Now()

// monoNow is a monotonic clock reading in nanoseconds, never 0.
func monoNow() int64 { return int64(time.Since(waitEpoch)) + 1 }

// recv reads the next message from stream, cancelling the stream's context
// when none arrives within the timeout. expired reports that the timer
// fired: the stream is then unusable, whatever Recv returned.
func (g *waitGuard) recv(stream extprocv3.ExternalProcessor_ProcessServer) (m *extprocv3.ProcessingRequest, err error, expired bool) {
	g.since.Store(monoNow())
	if !g.armed {
		g.armed = true
		t := g.timer.Load()
		if t == nil {
			// Created disarmed and published before it is armed, so that
			// fire always finds it.
			t = time.AfterFunc(time.Duration(math.MaxInt64), g.fire)
			g.timer.Store(t)
		}
		t.Reset(g.timeout)
	}
	m, err = stream.Recv()
	g.since.Store(0)
	return m, err, g.fired.Load()
}

// fire runs when the timer expires: it ends the current wait if it has
// lasted the timeout, and otherwise re-arms the timer.
func (g *waitGuard) fire() {
	g.woke.Store(true)
	if g.stopped.Load() || g.fired.Load() {
		return
	}
	next := g.timeout
	if since := g.since.Load(); since != 0 {
		waited := time.Duration(monoNow() - since)
		if waited >= g.timeout {
			g.fired.Store(true)
			g.cancel(errStreamWait)
			return
		}
		next = g.timeout - waited
	}
	g.timer.Load().Reset(next)
}

// stop disarms the guard when its exchange ends. quiet reports that the
// timer's function never ran and never will, so nothing refers to g any
// more (the exchange may then be reused).
func (g *waitGuard) stop() (quiet bool) {
	g.stopped.Store(true)
	t := g.timer.Load()
	if t == nil {
		return true
	}
	return t.Stop() && !g.woke.Load()
}
