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
