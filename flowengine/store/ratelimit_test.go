package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		ok   bool
	}{
		{"30ps", Rate{30, time.Second, 1}, true},
		{"10pm", Rate{10, time.Minute, 1}, true},
		{" 5PS ", Rate{5, time.Second, 1}, true},
		{"0pm", Rate{}, false},
		{"-3ps", Rate{}, false},
		{"10ph", Rate{}, false},
		{"ps", Rate{}, false},
		{"2000000ps", Rate{}, false}, // faster than one per microsecond
		{"", Rate{}, false},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRate(%q) = %+v, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseRate(%q) error %v does not wrap ErrInvalid", tt.in, err)
		}
	}
}

func TestRateLimiterScenarios(t *testing.T) {
	type step struct {
		advance time.Duration
		n       int64
		allowed bool
		retry   time.Duration
	}
	tests := []struct {
		name  string
		rate  Rate
		steps []step
	}{
		{"10pm is one per 6s", Rate{Count: 10, Per: time.Minute}, []step{
			{n: 1, allowed: true},
			{n: 1, retry: 6 * time.Second},
			{advance: 5 * time.Second, n: 1, retry: time.Second},
			{advance: time.Second, n: 1, allowed: true},
			{advance: 12 * time.Second, n: 1, allowed: true}, // idle time is not banked beyond the burst
			{n: 1, retry: 6 * time.Second},
		}},
		{"burst of 3", Rate{Count: 1, Per: time.Second, Burst: 3}, []step{
			{n: 1, allowed: true}, {n: 1, allowed: true}, {n: 1, allowed: true},
			{n: 1, retry: time.Second},
			{advance: time.Second, n: 1, allowed: true},
			{n: 2, retry: 2 * time.Second},
		}},
		{"weight above burst never passes", Rate{Count: 10, Per: time.Second}, []step{
			{n: 2, retry: -1},
			{n: 1, allowed: true},
		}},
		{"30ps", Rate{Count: 30, Per: time.Second}, []step{
			{n: 1, allowed: true},
			{advance: 20 * time.Millisecond, n: 1, retry: 13333 * time.Microsecond},
			{advance: 13333 * time.Microsecond, n: 1, allowed: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, clk *fakeClock, _ Counter, rl RateLimiter, _ KV, _ Tokens) {
				for i, s := range tt.steps {
					clk.add(s.advance)
					d, err := rl.TryAcquire(context.Background(), "k", s.n, tt.rate)
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if d.Allowed != s.allowed || d.RetryAfter != s.retry {
						t.Fatalf("step %d: got %+v, want allowed %v retry %s", i, d, s.allowed, s.retry)
					}
				}
			})
		})
	}
}

func TestRateLimiterInvalid(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ *fakeClock, _ Counter, rl RateLimiter, _ KV, _ Tokens) {
		for _, tt := range []struct {
			n int64
			r Rate
		}{{0, Rate{Count: 1, Per: time.Second}}, {1, Rate{Count: 0, Per: time.Second}}, {1, Rate{Count: 1}}} {
			if _, err := rl.TryAcquire(context.Background(), "k", tt.n, tt.r); !errors.Is(err, ErrInvalid) {
				t.Errorf("TryAcquire(%d, %+v): %v, want ErrInvalid", tt.n, tt.r, err)
			}
		}
	})
}

func TestRateLimiterKeysAreSeparate(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ *fakeClock, _ Counter, rl RateLimiter, _ KV, _ Tokens) {
		r := Rate{Count: 1, Per: time.Minute}
		for _, k := range []string{"a", "b"} {
			if d, err := rl.TryAcquire(context.Background(), k, 1, r); err != nil || !d.Allowed {
				t.Fatalf("%s: %+v %v", k, d, err)
			}
		}
	})
}
