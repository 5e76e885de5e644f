package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counterStep is one operation of a counter scenario and what it must see.
type counterStep struct {
	advance time.Duration // clock moves before the operation
	op      string        // "take", "incr", "get", "reset"
	n       int64
	count   int64
	allowed bool
	resetIn time.Duration // expected ResetAt - scenario start (0: zero ResetAt)
}

func TestCounterScenarios(t *testing.T) {
	minute := Window{Kind: Calendar, Interval: 1, Unit: Minute}
	tests := []struct {
		name  string
		w     Window
		limit int64
		steps []counterStep
	}{
		{"calendar take up to the limit", minute, 3, []counterStep{
			{op: "take", n: 1, count: 1, allowed: true, resetIn: time.Minute},
			{op: "take", n: 2, count: 3, allowed: true, resetIn: time.Minute},
			{op: "take", n: 1, count: 3, allowed: false, resetIn: time.Minute},
			{advance: 59 * time.Second, op: "get", count: 3, allowed: true, resetIn: time.Minute},
			{advance: time.Second, op: "take", n: 1, count: 1, allowed: true, resetIn: 2 * time.Minute},
		}},
		{"calendar heavy message refused whole", minute, 3, []counterStep{
			{op: "take", n: 4, count: 0, allowed: false},
			{op: "take", n: 3, count: 3, allowed: true, resetIn: time.Minute},
		}},
		{"incr goes past the limit", minute, 2, []counterStep{
			{op: "incr", n: 2, count: 2, allowed: true, resetIn: time.Minute},
			{op: "incr", n: 5, count: 7, allowed: true, resetIn: time.Minute},
			{op: "take", n: 1, count: 7, allowed: false, resetIn: time.Minute},
			{op: "incr", n: 0, count: 7, allowed: true, resetIn: time.Minute},
		}},
		{"reset forgets", minute, 2, []counterStep{
			{op: "take", n: 2, count: 2, allowed: true, resetIn: time.Minute},
			{op: "reset"},
			{op: "get", count: 0, allowed: true},
			{op: "take", n: 2, count: 2, allowed: true, resetIn: time.Minute},
		}},
		{"get of nothing", minute, 2, []counterStep{
			{op: "get", count: 0, allowed: true},
			{op: "incr", n: 0, count: 0, allowed: true},
		}},
		{"flexi starts at first request", Window{Kind: Flexi, Interval: 1, Unit: Minute}, 2, []counterStep{
			{advance: 20 * time.Second, op: "take", n: 1, count: 1, allowed: true, resetIn: 80 * time.Second},
			{advance: 59 * time.Second, op: "take", n: 1, count: 2, allowed: true, resetIn: 80 * time.Second},
			{op: "take", n: 1, count: 2, allowed: false, resetIn: 80 * time.Second},
			{advance: time.Second, op: "take", n: 1, count: 1, allowed: true, resetIn: 140 * time.Second},
		}},
		{"rolling counts the last minute", Window{Kind: Rolling, Interval: 1, Unit: Minute}, 3, []counterStep{
			{op: "take", n: 1, count: 1, allowed: true, resetIn: time.Second},
			{advance: 20 * time.Second, op: "take", n: 1, count: 2, allowed: true, resetIn: 21 * time.Second},
			{advance: 20 * time.Second, op: "take", n: 1, count: 3, allowed: true, resetIn: 41 * time.Second},
			{advance: 20 * time.Second, op: "take", n: 1, count: 3, allowed: false, resetIn: 61 * time.Second},
			{advance: 500 * time.Millisecond, op: "take", n: 1, count: 3, allowed: false, resetIn: 61 * time.Second},
			{advance: 500 * time.Millisecond, op: "take", n: 1, count: 3, allowed: true, resetIn: 62 * time.Second},
			{advance: 60 * time.Second, op: "get", count: 1, allowed: true, resetIn: 122 * time.Second},
			{advance: time.Second, op: "get", count: 0, allowed: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, clk *fakeClock, c Counter, _ RateLimiter, _ KV, _ Tokens) {
				ctx := context.Background()
				start := clk.now()
				for i, s := range tt.steps {
					clk.add(s.advance)
					var u Usage
					var err error
					switch s.op {
					case "take":
						u, err = c.Take(ctx, "k", s.n, tt.limit, tt.w)
					case "incr":
						u, err = c.Incr(ctx, "k", s.n, tt.w)
					case "get":
						u, err = c.Get(ctx, "k", tt.w)
					case "reset":
						if err := c.Reset(ctx, "k"); err != nil {
							t.Fatalf("step %d reset: %v", i, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("step %d %s: %v", i, s.op, err)
					}
					var want time.Time
					if s.resetIn != 0 {
						want = start.Add(s.resetIn)
					}
					if u.Count != s.count || u.Allowed != s.allowed || !u.ResetAt.Equal(want) {
						t.Fatalf("step %d %s(%d): got %+v, want count %d allowed %v reset %s", i, s.op, s.n, u, s.count, s.allowed, want)
					}
				}
			})
		})
	}
}

func TestCounterKindsAreSeparate(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ *fakeClock, c Counter, _ RateLimiter, _ KV, _ Tokens) {
		ctx := context.Background()
		cal := Window{Kind: Calendar, Interval: 1, Unit: Hour}
		roll := Window{Kind: Rolling, Interval: 1, Unit: Hour}
		if _, err := c.Incr(ctx, "k", 5, cal); err != nil {
			t.Fatal(err)
		}
		u, err := c.Incr(ctx, "k", 1, roll)
		if err != nil || u.Count != 1 {
			t.Fatalf("rolling count %+v %v, want 1", u, err)
		}
		if err := c.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		for _, w := range []Window{cal, roll} {
			if u, err := c.Get(ctx, "k", w); err != nil || u.Count != 0 {
				t.Fatalf("%s after reset: %+v %v", w.Kind, u, err)
			}
		}
	})
}

func TestCounterInvalidArguments(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ *fakeClock, c Counter, _ RateLimiter, _ KV, _ Tokens) {
		ctx := context.Background()
		good := Window{Kind: Calendar, Interval: 1, Unit: Minute}
		tests := []struct {
			name string
			call func() (Usage, error)
		}{
			{"negative weight", func() (Usage, error) { return c.Incr(ctx, "k", -1, good) }},
			{"negative limit", func() (Usage, error) { return c.Take(ctx, "k", 1, -1, good) }},
			{"rolling month", func() (Usage, error) {
				return c.Incr(ctx, "k", 1, Window{Kind: Rolling, Interval: 1, Unit: Month})
			}},
			{"zero interval", func() (Usage, error) { return c.Get(ctx, "k", Window{Kind: Flexi, Unit: Hour}) }},
		}
		for _, tt := range tests {
			if _, err := tt.call(); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
			}
		}
	})
}

// TestCounterConcurrentTakeNeverExceeds hammers one key from 8 goroutines.
func TestCounterConcurrentTakeNeverExceeds(t *testing.T) {
	for _, w := range []Window{{Kind: Calendar, Interval: 1, Unit: Hour}, {Kind: Rolling, Interval: 1, Unit: Hour}} {
		t.Run(w.Kind.String(), func(t *testing.T) {
			eachBackend(t, func(t *testing.T, _ *fakeClock, c Counter, _ RateLimiter, _ KV, _ Tokens) {
				const limit = 200
				var allowed atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan error, 8)
				for g := 0; g < 8; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							u, err := c.Take(context.Background(), "hot", 1, limit, w)
							if err != nil {
								errs <- err
								return
							}
							if !u.Allowed {
								return
							}
							allowed.Add(1)
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				if allowed.Load() != limit {
					t.Fatalf("allowed %d, want exactly %d", allowed.Load(), limit)
				}
			})
		})
	}
}

func TestMemoryCounterSweepsExpiredKeys(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	c := NewMemoryCounter(clk.now)
	w := Window{Kind: Flexi, Interval: 1, Unit: Second}
	for i := 0; i < 100; i++ {
		if _, err := c.Incr(context.Background(), fmt.Sprint(i), 1, w); err != nil {
			t.Fatal(err)
		}
	}
	clk.add(2 * time.Second)
	for i := 0; i < 200; i++ {
		if _, err := c.Incr(context.Background(), "live", 1, w); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 1 {
		t.Fatalf("%d keys held, want 1", c.Len())
	}
}

func TestMemoryCounterCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := NewMemoryCounter(nil)
	if _, err := c.Incr(ctx, "k", 1, Window{Kind: Calendar, Interval: 1, Unit: Hour}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Incr: %v", err)
	}
	if err := c.Reset(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reset: %v", err)
	}
}

func BenchmarkMemoryCounterIncr(b *testing.B) {
	c := NewMemoryCounter(nil)
	w := Window{Kind: Calendar, Interval: 1, Unit: Minute}
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Incr(ctx, "k", 1, w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedisCounterIncr measures one Incr against redis-server on
// loopback: one EVALSHA round trip per operation.
func BenchmarkRedisCounterIncr(b *testing.B) {
	r := testRedis(b, nil)
	c := r.Counter()
	ctx := context.Background()
	for _, w := range []Window{{Kind: Calendar, Interval: 1, Unit: Minute}, {Kind: Rolling, Interval: 1, Unit: Minute}} {
		b.Run(w.Kind.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Incr(ctx, "bench", 1, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
