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
}

var watchdogs = sync.Pool{New: func() any {
	w := &watchdog{}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return w
}}

// newWatchdog attaches a pooled watchdog to a stream, or returns nil when
// the server does not send overrides.
func newWatchdog(s *Server, stream extprocv3.ExternalProcessor_ProcessServer, deadline time.Time) *watchdog {
	if s.maxMessageTimeout < time.Millisecond {
		return nil
	}
	w := watchdogs.Get().(*watchdog)
	w.mu.Lock()
	w.stream, w.s, w.deadline = stream, s, deadline
	w.armed, w.used = false, false
	w.mu.Unlock()
	return w
}

// release detaches the watchdog from its stream and returns it to the pool.
// A timer callback already running sees the detached state and does nothing.
func (w *watchdog) release() {
	w.mu.Lock()
	w.timer.Stop()
	w.stream, w.s, w.armed = nil, nil, false
	w.mu.Unlock()
	watchdogs.Put(w)
}

// arm starts a wait: Envoy sent a message whose reply is owed and (re)armed
// its timer.
func (w *watchdog) arm(now time.Time) {
	w.mu.Lock()
	w.armed, w.used, w.since = true, false, now
	w.timer.Reset(w.s.overrideAfter)
	w.mu.Unlock()
}

// send writes r, serialised with the timer's sends. Every reply stops
// Envoy's timer, so it also ends the wait.
func (w *watchdog) send(r *extprocv3.ProcessingResponse) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed {
		w.armed = false
		w.timer.Stop()
	}
	return w.stream.Send(r)
}

// fire sends the wait's override_message_timeout if the reply is still
// owed. A stale firing (the timer was re-armed or stopped after it had
// already expired) is recognised by the elapsed time.
func (w *watchdog) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stream == nil || !w.armed || w.used {
		return
	}
	now := time.Now()
	if now.Sub(w.since) < w.s.overrideAfter {
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
