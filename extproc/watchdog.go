package extproc

import (
	"sync"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Envoy's defaults and the server's, for the message timeout (Envoy's ext_proc: the per-message timeout (message_timeout, 200 ms by default), re-armed on every message).
const (
	// DefaultMessageTimeout is Envoy's default ext_proc message_timeout.
	DefaultMessageTimeout = 200 * time.Millisecond
	// DefaultOverrideAfter is the default Options.OverrideAfter.
	DefaultOverrideAfter = 0.5
)

// watchdog asks Envoy for more time when a reply has been owed too long.
//
// Envoy arms a per-direction timer (message_timeout) whenever it sends a
// message that needs a reply and stops it on every reply it accepts. While a
// timer runs Envoy accepts exactly one ProcessingResponse carrying only
// override_message_timeout, in [1 ms, max_message_timeout], which restarts
// the timer with that value (Filter::onNewTimeout,
// ProcessorState::restartMessageTimer; the flag is reset with the next
// accepted reply). The watchdog mirrors that: arm when a message whose reply
// the run holds arrives, disarm on every reply sent, and at OverrideAfter ×
// message_timeout send one override for the wait.
//
// The timer fires on its own goroutine while the stream goroutine may be
// sending, so every Send of an exchange with a watchdog goes through mu
// (grpc-go forbids concurrent Sends on a stream). Watchdogs are pooled with
// their timer, so an exchange costs no allocation for them.
//
// The timer is not reset on every message nor stopped on every reply:
// arming starts it only when it is not already running, and a firing
// that finds the wait younger than OverrideAfter (the timer was started
// for an earlier wait, or before the watchdog went back to the pool)
// starts it again for the rest. A reply only marks the wait over. Every
// message of a stream would otherwise reset and stop a timer, two
// operations on the runtime's timer heap per message.
type watchdog struct {
	mu     sync.Mutex
	timer  *time.Timer
	stream extprocv3.ExternalProcessor_ProcessServer // nil when detached
	s      *Server
	// deadline bounds the override by the run's budget (zero: none).
	deadline time.Time
	armed    bool      // a reply is owed and Envoy's timer runs
	used     bool      // the override of this wait was sent
	since    time.Time // when the owed message arrived
	pending  bool      // the timer is started and has not fired yet
}

var watchdogs = sync.Pool{New: func() any { return newIdleWatchdog() }}

// newIdleWatchdog returns a watchdog attached to no stream, its timer
// stopped.
func newIdleWatchdog() *watchdog {
	w := &watchdog{}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return w
}

// newWatchdog attaches a pooled watchdog to a stream, or returns nil when
// the server does not send overrides.
func newWatchdog(s *Server, stream extprocv3.ExternalProcessor_ProcessServer, deadline time.Time) *watchdog {
	if s.maxMessageTimeout < time.Millisecond {
		return nil
	}
	w := watchdogs.Get().(*watchdog)
	w.attach(s, stream, deadline)
	return w
}

// attach gives w to a stream; its timer may still run from an earlier
// stream (see release).
func (w *watchdog) attach(s *Server, stream extprocv3.ExternalProcessor_ProcessServer, deadline time.Time) {
	w.mu.Lock()
	w.stream, w.s, w.deadline = stream, s, deadline
	w.armed, w.used = false, false
	w.mu.Unlock()
}

// release detaches the watchdog from its stream and returns it to the pool.
// A timer callback already running sees the detached state and does nothing.
func (w *watchdog) release() {
	w.detach()
	watchdogs.Put(w)
}

// detach ends w's use by its stream. The timer may still be running: a
// firing finds no stream, or the next stream's wait, and acts on that
// (see fire).
func (w *watchdog) detach() {
	w.mu.Lock()
	w.stream, w.s, w.armed = nil, nil, false
	w.mu.Unlock()
}

// arm starts a wait: Envoy sent a message whose reply is owed and (re)armed
// its timer.
func (w *watchdog) arm(now time.Time) {
	w.mu.Lock()
	w.armed, w.used, w.since = true, false, now
	if !w.pending {
		w.pending = true
		w.timer.Reset(w.s.overrideAfter)
	}
	w.mu.Unlock()
}

// send writes r, serialised with the timer's sends. Every reply stops
// Envoy's timer, so it also ends the wait.
func (w *watchdog) send(r *extprocv3.ProcessingResponse) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false // the timer runs on; its firing finds no wait
	return w.stream.Send(r)
}

// fire sends the wait's override_message_timeout if the reply is still
// owed. A wait younger than OverrideAfter (the timer was started for an
// earlier one) starts the timer again for the rest of it.
func (w *watchdog) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = false
	if w.stream == nil || !w.armed || w.used {
		return
	}
	now := time.Now()
	if waited := now.Sub(w.since); waited < w.s.overrideAfter {
		w.pending = true
		w.timer.Reset(w.s.overrideAfter - waited)
		return
	}
	d := w.s.maxMessageTimeout
	if !w.deadline.IsZero() {
		if left := w.deadline.Sub(now); left < d {
			d = left
		}
	}
	d = d.Truncate(time.Millisecond)
	w.used = true
	if d < time.Millisecond {
		return // the run's budget is spent: Envoy's timeout stands
	}
	err := w.stream.Send(&extprocv3.ProcessingResponse{OverrideMessageTimeout: durationpb.New(d)})
	if err == nil {
		w.s.metrics.overrides.Inc()
	}
	// A failed Send is seen by the stream goroutine on its next Send or
	// Recv; nothing to do here.
}
