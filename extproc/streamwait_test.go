package extproc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"

	"github.com/flowproc/flowproc/flowengine"
)

// slowStream answers each Recv after the next of its delays, or when its
// context ends (as a gRPC stream's blocked Recv does).
type slowStream struct {
	grpc.ServerStream
	ctx    context.Context
	delays []time.Duration
}

func (s *slowStream) Context() context.Context { return s.ctx }

func (s *slowStream) Recv() (*extprocv3.ProcessingRequest, error) {
	d := s.delays[0]
	s.delays = s.delays[1:]
	select {
	case <-time.After(d):
		return &extprocv3.ProcessingRequest{}, nil
	case <-s.ctx.Done():
		return nil, context.Cause(s.ctx)
	}
}

func (s *slowStream) Send(*extprocv3.ProcessingResponse) error { return nil }

// guardFor returns a guard for timeout bounding the waits of a stream
// whose context it returns, cancelled by the guard's timer.
func guardFor(timeout time.Duration) (*waitGuard, context.Context) {
	sc := newStreamCtx(context.Background())
	g := newWaitGuard(timeout)
	g.start(sc)
	return g, sc
}

// TestWaitGuardBoundsEachWait: waits shorter than the timeout pass however
// long the stream lasts in all (the lazy timer re-arms for the current wait,
// not from the stream's start), and the first wait that lasts the timeout
// is ended by cancelling the stream's context, within the timeout and a
// little scheduling slack.
func TestWaitGuardBoundsEachWait(t *testing.T) {
	// Margins for a loaded machine under the race detector: a short wait
	// must be late by 250 ms to look like an expired one.
	const (
		timeout = 400 * time.Millisecond
		short   = 150 * time.Millisecond
	)
	g, ctx := guardFor(timeout)
	defer g.end()
	st := &slowStream{ctx: ctx, delays: []time.Duration{short, short, 0, short, time.Minute}}
	for i := range 4 {
		if _, err, expired := g.recv(st, 0); err != nil || expired {
			t.Fatalf("wait %d: err %v, expired %v; want a message", i, err, expired)
		}
		time.Sleep(short) // the exchange working between waits is not a wait
	}
	start := time.Now()
	_, err, expired := g.recv(st, 0)
	waited := time.Since(start)
	if !expired || !errors.Is(err, errStreamWait) {
		t.Fatalf("long wait: err %v, expired %v; want the stream cancelled by the wait timeout", err, expired)
	}
	if waited < timeout || waited > timeout+2*time.Second {
		t.Errorf("long wait ended after %v, want about %v", waited, timeout)
	}
}

// TestWaitGuardWaitFrom: a wait given the clock reading its caller took
// (exchange.waitFrom, taken when the reply before it was sent) counts from
// that reading, not from when recv was called: when the timer fires, a wait
// whose reading lies a timeout back is ended at once, while a wait without
// one (from 0, read in recv) is left alone.
func TestWaitGuardWaitFrom(t *testing.T) {
	const timeout = time.Hour // the timer itself never fires in these
	for _, tc := range []struct {
		name  string
		from  int64
		ended bool
	}{
		{"reading a timeout back", monoNow() - int64(timeout) - 1, true},
		{"no reading", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, ctx := guardFor(timeout)
			defer g.end()
			done := make(chan bool, 1)
			go func() {
				_, _, expired := g.recv(&slowStream{ctx: ctx, delays: []time.Duration{time.Minute}}, tc.from)
				done <- expired
			}()
			deadline := time.Now().Add(5 * time.Second)
			for g.since.Load() <= 0 {
				if time.Now().After(deadline) {
					t.Fatal("the wait did not start")
				}
				time.Sleep(time.Millisecond)
			}
			if tc.from > 0 && g.since.Load() != tc.from {
				t.Fatalf("the wait started at %d, want the caller's reading %d", g.since.Load(), tc.from)
			}
			g.fire()
			select {
			case expired := <-done:
				if !tc.ended || !expired {
					t.Fatalf("the wait ended (expired %v); want it left alone", expired)
				}
			case <-time.After(100 * time.Millisecond):
				if tc.ended {
					t.Fatal("the wait was not ended by the timer")
				}
				g.timer.Load().Stop()
				g.stream.Load().cancel(errors.New("test over"))
				<-done
			}
		})
	}
}

// TestWaitFromForgottenInFlow: the reading an observe leaves for the next
// wait (exchange.waitFrom) never outlives a Host call. The flow may run for
// a while after the call returns, and a wait after that must not count
// from a reading taken before. The run plants a reading before each call,
// as a reply sent just before would, and checks that none comes back.
func TestWaitFromForgottenInFlow(t *testing.T) {
	var left []int64
	s := New(Options{Resolver: one(runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		x := h.(*exchange)
		if !x.guarded {
			t.Error("the stream's waits are not guarded")
		}
		calls := []func(){
			func() { _, _ = h.RequestBody(ctx) },
			func() {
				_, _ = h.Forward(ctx, &flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-a", Value: "1"}}})
			},
			func() { _, _ = h.ResponseBody(ctx) },
		}
		for _, call := range calls {
			x.waitFrom = monoNow()
			call()
			left = append(left, x.waitFrom)
		}
		return &flowengine.Outcome{Kind: flowengine.Forwarded}
	})), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	st := &fakeStream{ctx: grpcStreamContext(ctx), script: benchScript()}
	if err := s.Process(st); err != nil || st.sent != 2 {
		t.Fatalf("process: %v, %d replies", err, st.sent)
	}
	if len(left) != 3 {
		t.Fatalf("the run made %d Host calls, want 3", len(left))
	}
	for i, v := range left {
		if v != 0 {
			t.Errorf("Host call %d returned to the flow with a wait reading (%d)", i, v)
		}
	}
}

// TestWaitGuardFire: what the timer does when it fires, by the state it
// finds. Only a wait still under way that has lasted the timeout is ended,
// and the stream cancelled is the guard's stream at that moment.
func TestWaitGuardFire(t *testing.T) {
	const timeout = time.Hour // the timer itself never fires in these
	t.Run("no wait: disarms", func(t *testing.T) {
		g, ctx := guardFor(timeout)
		g.armed.Store(true)
		g.fire()
		if g.armed.Load() || ctx.Err() != nil {
			t.Fatalf("armed %v, stream %v; want disarmed, stream alive", g.armed.Load(), ctx.Err())
		}
	})
	t.Run("a short wait: stays armed", func(t *testing.T) {
		g, ctx := guardFor(timeout)
		g.armed.Store(true)
		g.arm(timeout)
		defer g.timer.Load().Stop()
		g.since.Store(monoNow())
		g.fire()
		if !g.armed.Load() || ctx.Err() != nil || g.since.Load() <= 0 {
			t.Fatalf("armed %v, stream %v, since %d; want the wait left alone", g.armed.Load(), ctx.Err(), g.since.Load())
		}
	})
	t.Run("a wait that lasted the timeout: ended", func(t *testing.T) {
		g, ctx := guardFor(time.Millisecond)
		g.armed.Store(true)
		g.since.Store(monoNow())
		time.Sleep(5 * time.Millisecond)
		g.fire()
		if !errors.Is(context.Cause(ctx), errStreamWait) || g.since.Load() != waitFired || g.armed.Load() {
			t.Fatalf("cause %v, since %d, armed %v; want the stream cancelled", context.Cause(ctx), g.since.Load(), g.armed.Load())
		}
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("stream Err %v, want DeadlineExceeded", ctx.Err())
		}
	})
	t.Run("between streams: nothing to cancel", func(t *testing.T) {
		g, ctx := guardFor(time.Millisecond)
		g.end()
		g.since.Store(monoNow()) // cannot happen; fire must still not panic
		time.Sleep(5 * time.Millisecond)
		g.fire()
		if ctx.Err() != nil {
			t.Fatalf("stream %v after its guard ended", ctx.Err())
		}
	})
}

// TestWaitGuardReused: a guard kept by a pooled exchange, its timer still
// armed from the previous stream, bounds the next stream's waits and
// never cancels a stream for a wait of another.
func TestWaitGuardReused(t *testing.T) {
	const timeout = 300 * time.Millisecond
	g, first := guardFor(timeout)
	if _, err, expired := g.recv(&slowStream{ctx: first, delays: []time.Duration{0}}, 0); err != nil || expired {
		t.Fatalf("first stream: %v, expired %v", err, expired)
	}
	g.end() // the exchange ends; the timer stays armed
	if !g.armed.Load() {
		t.Fatal("the timer was disarmed at the end of the stream")
	}
	second := newStreamCtx(context.Background())
	g.start(second)
	start := time.Now()
	_, err, expired := g.recv(&slowStream{ctx: second, delays: []time.Duration{time.Minute}}, 0)
	if !expired || !errors.Is(err, errStreamWait) || time.Since(start) > timeout+2*time.Second {
		t.Fatalf("err %v, expired %v after %v; want the second stream's wait ended", err, expired, time.Since(start))
	}
	if first.Err() != nil {
		t.Errorf("the first stream was cancelled: %v", context.Cause(first))
	}
	// Idle long enough for the timer to fire with no wait: it disarms,
	// and the next wait arms it again.
	third := newStreamCtx(context.Background())
	g.start(third)
	if _, err, expired := g.recv(&slowStream{ctx: third, delays: []time.Duration{0}}, 0); err != nil || expired {
		t.Fatalf("third stream: %v, expired %v", err, expired)
	}
	deadline := time.Now().Add(timeout + 2*time.Second)
	for g.armed.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g.armed.Load() {
		t.Fatal("an idle guard's timer did not disarm")
	}
	start = time.Now()
	_, err, expired = g.recv(&slowStream{ctx: third, delays: []time.Duration{time.Minute}}, 0)
	if !expired || !errors.Is(err, errStreamWait) || time.Since(start) > timeout+2*time.Second {
		t.Fatalf("after disarming: err %v, expired %v after %v", err, expired, time.Since(start))
	}
}

// BenchmarkWaitGuard measures what the stream wait timeout adds to one
// Recv that does not wait (the stream answers at once).
func BenchmarkWaitGuard(b *testing.B) {
	st := &fakeStream{ctx: context.Background(), script: []*extprocv3.ProcessingRequest{{}}}
	g, _ := guardFor(time.Minute)
	defer g.end()
	b.ReportAllocs()
	for b.Loop() {
		st.i = 0
		if _, err, _ := g.recv(st, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTapReadsProject: the server's tap notes the project the stream's
// metadata names, which serve then reads without scanning the metadata
// again; a context WithStreamCancel made is not tapped, and serve falls
// back to the incoming metadata.
func TestTapReadsProject(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header metadata.MD
		want   string
	}{
		{"named", metadata.MD{ProjectMetadataKey: {"beta", "gamma"}, "user-agent": {"envoy"}}, "beta"},
		{"empty value", metadata.MD{ProjectMetadataKey: {""}}, ""},
		{"absent", metadata.MD{"user-agent": {"envoy"}}, ""},
		{"no metadata", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, err := tapStreamCancel(context.Background(), &tap.Info{FullMethodName: "/m", Header: tt.header})
			if err != nil {
				t.Fatal(err)
			}
			c := streamOf(ctx)
			if c == nil || !c.tapped || c.cancel == nil || c.project != tt.want {
				t.Fatalf("streamOf = %+v, want a tapped stream naming %q", c, tt.want)
			}
		})
	}
	if c := streamOf(WithStreamCancel(context.Background())); c == nil || c.tapped {
		t.Fatalf("WithStreamCancel: streamOf = %+v, want an untapped stream", c)
	}
	if c := streamOf(context.Background()); c != nil {
		t.Fatalf("a plain context: streamOf = %+v, want nil", c)
	}
}
