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
// then reads Envoy's messages in its own goroutine, each Recv timed by the
// exchange's wait guard (waitGuard): when a wait outlasts the timeout the
// guard's timer cancels the stream's context, Recv returns, and the
// exchange ends with DEADLINE_EXCEEDED. Without the tap (a grpc.Server built without
// GRPCOptions, or a test stream) the exchange falls back to reading through
// the pump goroutine, which costs a goroutine and a hand-off per message.

// streamCtxKey keys a stream's streamCtx in its context.
type streamCtxKey struct{}

// errStreamWait is the cause the wait timer cancels a stream with.
var errStreamWait = errors.New("flowproc: no message from Envoy within the stream wait timeout")

// tapStreamCancel is the server's InTapHandle: it makes every stream's
// context cancellable by the stream's handler (streamOf), and notes
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
// The guard has one timer, which a Recv never touches when it is armed: a
// Recv only records when its wait began. When the timer fires it ends the
// wait under way if that has lasted the timeout, re-arms itself for the
// rest of it, or, finding no wait, disarms until the next wait arms it
// again. Arming a timer around every Recv took the timer heap's lock twice
// per message (about 2 µs of an exchange's CPU under load); stopping it at
// the end of each exchange and arming it again at the next cost about 0.5
// µs more. Now the timer fires about once per timeout per pooled exchange.
//
// The guard outlives its exchange's streams: a pooled exchange keeps it,
// armed, and the timer may fire while the exchange serves another stream.
// fire only ever ends a wait it finds still under way, by swapping that
// wait's start for waitFired, and it reads the stream to cancel before the
// swap, so the stream is that wait's: a stream's exchange ends the stream's
// waits before it takes the next stream.
type waitGuard struct {
	// timeout is the stream wait timeout, fixed when the guard is made: an
	// exchange that serves a stream with another timeout (a second
	// server in the process) gets a new guard, so that an armed timer
	// never covers a shorter timeout than it was armed for.
	timeout time.Duration
	// stream is the stream whose waits the guard bounds now (its context
	// is what a wait that lasts the timeout cancels); nil between streams.
	stream atomic.Pointer[streamCtx]
	// since is when the current wait began (monoNow), 0 between waits,
	// waitFired once fire ended the wait.
	since atomic.Int64
	// armed: the timer is pending, or fire is running and will re-arm it
	// or clear armed. Whoever sets it from false arms the timer.
	armed atomic.Bool
	timer atomic.Pointer[time.Timer]
}

// waitFired is since once fire ended the wait (monoNow is never negative).
const waitFired = -1

// waitEpoch anchors monoNow, a day before the process started: a reading
// minus any duration below a day is still a valid reading (above 0).
var waitEpoch = time.Now().Add(-24 * time.Hour)

// monoNow is a monotonic clock reading in nanoseconds, never 0.
func monoNow() int64 { return int64(time.Since(waitEpoch)) + 1 }

// monoOf is t (a time.Now reading) on monoNow's scale, without reading
// the clock.
func monoOf(t time.Time) int64 { return int64(t.Sub(waitEpoch)) + 1 }

// newWaitGuard returns a disarmed guard for timeout.
func newWaitGuard(timeout time.Duration) *waitGuard { return &waitGuard{timeout: timeout} }

// start makes the guard bound the waits of stream.
func (g *waitGuard) start(stream *streamCtx) { g.stream.Store(stream) }

// end detaches the guard from its stream, whose waits are over.
func (g *waitGuard) end() { g.stream.Store(nil) }

// recv reads the next message from stream, cancelling the stream's context
// when none arrives within the timeout. The wait starts at from, a monoNow
// reading the caller has just taken, or now when from is 0. expired reports
// that the timer ended the wait: the stream is then unusable, whatever Recv
// returned.
func (g *waitGuard) recv(stream extprocv3.ExternalProcessor_ProcessServer, from int64) (m *extprocv3.ProcessingRequest, err error, expired bool) {
	if from <= 0 {
		from = monoNow()
	}
	g.since.Store(from)
	if !g.armed.Load() && g.armed.CompareAndSwap(false, true) {
		g.arm(g.timeout)
	}
	m, err = stream.Recv()
	return m, err, g.since.Swap(0) == waitFired
}

// arm starts the timer for d; the caller has set armed.
func (g *waitGuard) arm(d time.Duration) {
	t := g.timer.Load()
	if t == nil {
		// Created disarmed and published before it is armed, so that
		// fire always finds it.
		t = time.AfterFunc(time.Duration(math.MaxInt64), g.fire)
		g.timer.Store(t)
	}
	t.Reset(d)
}

// fire runs when the timer expires.
func (g *waitGuard) fire() {
	timeout := g.timeout
	if s := g.since.Load(); s > 0 {
		waited := time.Duration(monoNow() - s)
		if waited < timeout {
			g.timer.Load().Reset(timeout - waited)
			return
		}
		st := g.stream.Load() // before the swap: the stream of wait s
		if g.since.CompareAndSwap(s, waitFired) {
			g.armed.Store(false) // the stream ends; its exchange's next stream re-arms
			if st != nil {
				st.cancel(errStreamWait)
			}
			return
		}
	}
	// No wait under way. Disarm, unless a wait began meanwhile: its recv
	// may have found the guard still armed.
	g.armed.Store(false)
	if s := g.since.Load(); s > 0 && g.armed.CompareAndSwap(false, true) {
		g.arm(max(timeout-time.Duration(monoNow()-s), 0))
	}
}
