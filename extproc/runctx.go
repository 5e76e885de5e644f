package extproc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowproc/flowproc/flowengine/upstream"
)

// runContext is an exchange's run context: the stream's context with a
// cancel of its own (a run ends its context without ending the stream's;
// see newExchange).
//
// context.WithCancel would register the child with the stream's context on
// every exchange: a cancelCtx, a children map and two locks, about 0.5 KiB
// and a tenth of a header-only exchange's handler CPU. Most runs never
// wait on Done: flows check Err between steps (budget.Check), and reads
// from Envoy happen in place. So runContext answers Err from a flag and its
// parent, and builds the real child context only when something asks for
// Done (a side call, a pump read, a timer) or looks up the cancellation
// itself after a cancel (context.Cause). From then on it behaves exactly
// as that child, whose Value it returns for the context package's own keys.
type runContext struct {
	parent context.Context
	// parentDone is parent.Done(), read once: Err checks it without
	// walking the stream context's chain of values to its cancelCtx and
	// taking that context's lock, as parent.Err() does (a flow checks Err
	// at every step and expression).
	parentDone <-chan struct{}
	cancelled  atomic.Bool

	mu    sync.Mutex
	child atomic.Pointer[cancelChild]
}

// runCtx is an exchange's run context with the side-call observer that
// wraps it: the context a run gets (exchange.ctx) is &o. It lives apart
// from the exchange, so that an exchange can be reused while a goroutine
// still holds a context derived from its run's (a timeout around a Redis
// call, JavaScript's cancellation callback): recycle leaves such a runCtx
// behind instead of keeping the whole exchange out of the pool.
type runCtx struct {
	r runContext
	o upstream.ObservedContext
}

type cancelChild struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// init starts c as a child of parent. gRPC has already made the stream
// context's Done channel (its stream reads wait on it), so reading it here
// allocates nothing.
func (c *runContext) init(parent context.Context) {
	c.parent, c.parentDone = parent, parent.Done()
}

// Deadline implements context.Context.
func (c *runContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done implements context.Context.
func (c *runContext) Done() <-chan struct{} { return c.materialize().ctx.Done() }

// Err implements context.Context: context.Canceled after cancel, else the
// parent's error (what a child context reports once the parent ends).
func (c *runContext) Err() error {
	if ch := c.child.Load(); ch != nil {
		return ch.ctx.Err()
	}
	if c.cancelled.Load() {
		return context.Canceled
	}
	if c.parentDone == nil {
		return nil // a context whose Done is nil is never cancelled
	}
	// Err is nil until Done is closed (context.Context's contract), and
	// a context sets its error before it closes Done.
	select {
	case <-c.parentDone:
		return c.parent.Err()
	default:
		return nil
	}
}

// Value implements context.Context.
func (c *runContext) Value(key any) any {
	if ch := c.child.Load(); ch != nil {
		return ch.ctx.Value(key)
	}
	if c.cancelled.Load() {
		// context.Cause asks through Value: answer from a child that
		// carries the cancellation.
		return c.materialize().ctx.Value(key)
	}
	return c.parent.Value(key)
}

// cancel ends c (not its parent).
func (c *runContext) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelled.Store(true)
	if ch := c.child.Load(); ch != nil {
		ch.cancel()
	}
}

// materialize returns the child context, creating it (cancelled if c was)
// on first use.
func (c *runContext) materialize() *cancelChild {
	if ch := c.child.Load(); ch != nil {
		return ch
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.child.Load(); ch != nil {
		return ch
	}
	ctx, cancel := context.WithCancel(c.parent)
	if c.cancelled.Load() {
		cancel()
	}
	ch := &cancelChild{ctx: ctx, cancel: cancel}
	c.child.Store(ch)
	return ch
}
