package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http/httptrace"
	"sync"
	"time"
)

// Causes set on a call's context when one of its own timeouts fires; they
// tell a call's own timeout from the caller's cancellation.
var (
	errTotalTimeout   = errors.New("timeout")
	errConnectTimeout = errors.New("connect timeout")
	errTTFBTimeout    = errors.New("time-to-first-byte timeout")
)

// tracker measures the phases of one call and enforces the connect and
// time-to-first-byte timeouts by cancelling the call's context with a
// cause. Both are re-armed for every hop of a redirect chain.
type tracker struct {
	mu                            sync.Mutex
	start                         time.Time
	dnsStart, connStart, tlsStart time.Time
	t                             Timings
	reused                        bool
	connectTO, ttfbTO             time.Duration
	cancel                        context.CancelCauseFunc
	connTimer, ttfbTimer          *time.Timer
	done                          bool
	// deadline is the call's overall deadline (total timeout or the
	// caller's, whichever is first); hopStart the last GetConn.
	deadline, hopStart time.Time
}

// dialDeadline is when the current hop's dial must give up: its connect
// timeout, or the call's deadline.
func (k *tracker) dialDeadline() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	d := k.deadline
	if k.connectTO > 0 && !k.hopStart.IsZero() {
		if c := k.hopStart.Add(k.connectTO); d.IsZero() || c.Before(d) {
			d = c
		}
	}
	return d
}

func (k *tracker) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			k.mu.Lock()
			defer k.mu.Unlock()
			if k.done {
				return
			}
			k.hopStart = time.Now()
			if k.connectTO > 0 {
				stopTimer(k.connTimer)
				k.connTimer = time.AfterFunc(k.connectTO, func() { k.cancel(errConnectTimeout) })
			}
			if k.ttfbTO > 0 {
				stopTimer(k.ttfbTimer)
				k.ttfbTimer = time.AfterFunc(k.ttfbTO, func() { k.cancel(errTTFBTimeout) })
			}
		},
		GotConn: func(info httptrace.GotConnInfo) {
			k.mu.Lock()
			defer k.mu.Unlock()
			stopTimer(k.connTimer)
			k.reused = info.Reused
		},
		DNSStart: func(httptrace.DNSStartInfo) { k.mark(&k.dnsStart) },
		DNSDone: func(httptrace.DNSDoneInfo) {
			k.mu.Lock()
			k.t.DNS = time.Since(k.dnsStart)
			k.mu.Unlock()
		},
		ConnectStart: func(string, string) { k.mark(&k.connStart) },
		ConnectDone: func(string, string, error) {
			k.mu.Lock()
			k.t.Connect = time.Since(k.connStart)
			k.mu.Unlock()
		},
		TLSHandshakeStart: func() { k.mark(&k.tlsStart) },
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			k.mu.Lock()
			k.t.TLS = time.Since(k.tlsStart)
			k.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			stopTimer(k.ttfbTimer)
			k.t.TTFB = time.Since(k.start)
		},
	}
}

func (k *tracker) mark(t *time.Time) {
	k.mu.Lock()
	*t = time.Now()
	k.mu.Unlock()
}

// finish stops the timers and returns the measured timings.
func (k *tracker) finish() (Timings, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.done = true
	stopTimer(k.connTimer)
	stopTimer(k.ttfbTimer)
	t := k.t
	t.Start = k.start
	t.Total = time.Since(k.start)
	return t, k.reused
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}
