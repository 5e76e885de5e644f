package extproc

import (
	"context"
	"errors"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"
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
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	st := &slowStream{ctx: ctx, delays: []time.Duration{short, short, 0, short, time.Minute}}
	g := &waitGuard{timeout: timeout, cancel: cancel}
	defer g.stop()
	for i := range 4 {
		if _, err, expired := g.recv(st); err != nil || expired {
			t.Fatalf("wait %d: err %v, expired %v; want a message", i, err, expired)
		}
		time.Sleep(short) // the exchange working between waits is not a wait
	}
	start := time.Now()
	_, err, expired := g.recv(st)
	waited := time.Since(start)
	if !expired || !errors.Is(err, errStreamWait) {
		t.Fatalf("long wait: err %v, expired %v; want the stream cancelled by the wait timeout", err, expired)
	}
	if waited < timeout || waited > timeout+2*time.Second {
		t.Errorf("long wait ended after %v, want about %v", waited, timeout)
	}
}

// TestWaitGuardStop: a stopped guard never cancels the stream, however long
// the timer lives on.
func TestWaitGuardStop(t *testing.T) {
	cancelled := make(chan struct{}, 1)
	g := &waitGuard{timeout: 20 * time.Millisecond, cancel: func(error) { cancelled <- struct{}{} }}
	st := &slowStream{ctx: context.Background(), delays: []time.Duration{0}}
	if _, err, expired := g.recv(st); err != nil || expired {
		t.Fatalf("recv: %v, expired %v", err, expired)
	}
	g.stop()
	g.since.Store(monoNow() - int64(time.Second)) // as if a wait were under way
	g.fire()                                      // a timer already firing when stop ran
	select {
	case <-cancelled:
		t.Fatal("a stopped guard cancelled the stream")
	case <-time.After(100 * time.Millisecond):
	}
}

// BenchmarkWaitGuard measures what the stream wait timeout adds to one
// Recv that does not wait (the stream answers at once).
func BenchmarkWaitGuard(b *testing.B) {
	st := &fakeStream{ctx: context.Background(), script: []*extprocv3.ProcessingRequest{{}}}
	g := &waitGuard{timeout: time.Minute, cancel: func(error) {}}
	defer g.stop()
	b.ReportAllocs()
	for b.Loop() {
		st.i = 0
		if _, err, _ := g.recv(st); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWaitGuardReusedTimer: a guard that stopped its timer before it ever
// ran reports itself quiet, and a guard that takes over that stopped timer
// (a reused exchange) re-arms it and still ends a wait that lasts the
// timeout.
func TestWaitGuardReusedTimer(t *testing.T) {
	const timeout = 200 * time.Millisecond
	g := &waitGuard{timeout: time.Hour, cancel: func(error) {}}
	if _, err, _ := g.recv(&slowStream{ctx: context.Background(), delays: []time.Duration{0}}); err != nil {
		t.Fatal(err)
	}
	if !g.stop() {
		t.Fatal("a guard whose timer never ran is not quiet after stop")
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	timer := g.timer.Load() // its function is g's fire: the guard is reused in place
	*g = waitGuard{timeout: timeout, cancel: cancel}
	g.timer.Store(timer)
	start := time.Now()
	_, err, expired := g.recv(&slowStream{ctx: ctx, delays: []time.Duration{time.Minute}})
	if !expired || !errors.Is(err, errStreamWait) || time.Since(start) > timeout+2*time.Second {
		t.Fatalf("err %v, expired %v after %v; want the wait ended by the reused timer", err, expired, time.Since(start))
	}
	if g.stop() {
		t.Error("a guard whose timer ran reports itself quiet")
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
