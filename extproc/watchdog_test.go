package extproc

import (
	"context"
	"sync"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
)

// recordingStream records what is sent to it.
type recordingStream struct {
	grpc.ServerStream
	mu   sync.Mutex
	sent []*extprocv3.ProcessingResponse
}

func (r *recordingStream) Context() context.Context { return context.Background() }

func (r *recordingStream) Recv() (*extprocv3.ProcessingRequest, error) { select {} }

func (r *recordingStream) Send(m *extprocv3.ProcessingResponse) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

func (r *recordingStream) overrides() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, m := range r.sent {
		if d := m.GetOverrideMessageTimeout(); d != nil {
			out = append(out, d.AsDuration())
		}
	}
	return out
}

// TestWatchdog checks the override itself: one per wait, only while a reply
// is owed, bounded by the max and the stream's deadline, never after the
// reply or once the budget is spent.
func TestWatchdog(t *testing.T) {
	const after = 20 * time.Millisecond
	s := New(Options{MessageTimeout: 2 * after, MaxMessageTimeout: 5 * time.Second, OverrideAfter: 0.5})
	tests := []struct {
		name     string
		deadline time.Duration // 0: none
		replyAt  time.Duration // reply sent after this (0: never)
		want     []time.Duration
		wantMax  time.Duration // bound on a single override (deadline cases)
	}{
		{name: "slow reply: one override of max_message_timeout", want: []time.Duration{5 * time.Second}},
		{name: "reply before the threshold: none", replyAt: after / 4},
		{name: "deadline nearer than the max bounds the override", deadline: time.Second, wantMax: time.Second},
		{name: "budget spent: none", deadline: after / 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &recordingStream{}
			var dl time.Time
			if tc.deadline > 0 {
				dl = time.Now().Add(tc.deadline)
			}
			w := newWatchdog(s, st, dl)
			w.arm(time.Now())
			if tc.replyAt > 0 {
				time.Sleep(tc.replyAt)
				if err := w.send(noStore.headersReply(false, &extprocv3.CommonResponse{}, nil)); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(4 * after)
			got := st.overrides()
			w.release()
			switch {
			case tc.wantMax > 0:
				if len(got) != 1 || got[0] > tc.wantMax || got[0] < tc.wantMax-time.Duration(4*after)-100*time.Millisecond {
					t.Fatalf("overrides %v, want one just under %v", got, tc.wantMax)
				}
			case len(got) != len(tc.want):
				t.Fatalf("overrides %v, want %v", got, tc.want)
			default:
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("overrides %v, want %v", got, tc.want)
					}
				}
			}
		})
	}
	if New(Options{}).maxMessageTimeout != 0 || newWatchdog(New(Options{}), &recordingStream{}, time.Time{}) != nil {
		t.Error("overrides must be off without MaxMessageTimeout, as in Envoy")
	}
}

// timedStream records when each override was sent.
type timedStream struct {
	recordingStream
	at []time.Time
}

func (r *timedStream) Send(m *extprocv3.ProcessingResponse) error {
	r.mu.Lock()
	if m.GetOverrideMessageTimeout() != nil {
		r.at = append(r.at, time.Now())
	}
	r.mu.Unlock()
	return r.recordingStream.Send(m)
}

func (r *timedStream) overrideTimes() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

// TestWatchdogTimerLeftRunning: the timer is neither reset by every
// message nor stopped by every reply, so a firing may come from an
// earlier wait, or from before the watchdog went back to the pool. Such a
// firing must not send the override of a younger wait early: the
// override comes OverrideAfter after the wait began, once.
func TestWatchdogTimerLeftRunning(t *testing.T) {
	const after = 40 * time.Millisecond
	s := New(Options{MessageTimeout: 2 * after, MaxMessageTimeout: 5 * time.Second, OverrideAfter: 0.5})
	check := func(t *testing.T, st *timedStream, began time.Time) {
		t.Helper()
		time.Sleep(3 * after)
		at := st.overrideTimes()
		if len(at) != 1 {
			t.Fatalf("%d overrides, want 1", len(at))
		}
		if early := at[0].Sub(began); early < after {
			t.Fatalf("override %v after the wait began, before OverrideAfter (%v)", early, after)
		}
	}
	t.Run("a reply, then a new wait before the timer fires", func(t *testing.T) {
		st := &timedStream{}
		w := newWatchdog(s, st, time.Time{})
		defer w.release()
		w.arm(time.Now())
		time.Sleep(after / 2)
		if err := w.send(noStore.headersReply(false, &extprocv3.CommonResponse{}, nil)); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		w.arm(began) // the timer, started by the first wait, fires after/2 into this one
		check(t, st, began)
	})
	t.Run("released with the timer running, attached to a new stream", func(t *testing.T) {
		old := &timedStream{}
		w := newIdleWatchdog() // not the pool's: it is reused below
		w.attach(s, old, time.Time{})
		w.arm(time.Now())
		w.detach() // as release does; the timer runs on
		time.Sleep(after / 2)
		st := &timedStream{}
		w.attach(s, st, time.Time{})
		defer w.detach()
		began := time.Now()
		w.arm(began)
		check(t, st, began)
		if n := len(old.overrideTimes()); n != 0 {
			t.Fatalf("the released stream got %d overrides", n)
		}
	})
}

// nopStream takes every reply.
type nopStream struct{ grpc.ServerStream }

func (nopStream) Context() context.Context                    { return context.Background() }
func (nopStream) Recv() (*extprocv3.ProcessingRequest, error) { select {} }
func (nopStream) Send(*extprocv3.ProcessingResponse) error    { return nil }

// BenchmarkWatchdog is a proxied exchange's use of the watchdog: attached,
// armed and answered for the request and the response headers, released.
func BenchmarkWatchdog(b *testing.B) {
	s := New(Options{MessageTimeout: time.Second, MaxMessageTimeout: 10 * time.Second, OverrideAfter: 0.5})
	reply := noStore.headersReply(false, &extprocv3.CommonResponse{}, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := newWatchdog(s, nopStream{}, time.Time{})
		for range 2 {
			w.arm(time.Now())
			if err := w.send(reply); err != nil {
				b.Fatal(err)
			}
		}
		w.release()
	}
}
