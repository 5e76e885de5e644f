package budget

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	type charge func(b *Budget) error
	step := func(b *Budget) error { return b.Step() }
	re := func(n int64) charge { return func(b *Budget) error { return b.Regex(n) } }
	dec := func(n int64) charge { return func(b *Budget) error { return b.Decoded(n) } }
	out := func(n int64) charge { return func(b *Budget) error { return b.Output(n) } }
	tests := []struct {
		name    string
		limits  Limits
		charges []charge
		kind    string // "" = no error
		limit   int64
	}{
		{"steps within", Limits{Steps: 2}, []charge{step, step}, "", 0},
		{"steps over", Limits{Steps: 2}, []charge{step, step, step}, KindSteps, 2},
		{"steps unlimited", Limits{Steps: -1}, []charge{step, step, step}, "", 0},
		{"regex within", Limits{RegexWork: 10}, []charge{re(5), re(5)}, "", 0},
		{"regex over", Limits{RegexWork: 10}, []charge{re(5), re(6)}, KindRegex, 10},
		{"decoded over", Limits{DecodedBytes: 100}, []charge{dec(60), dec(41)}, KindDecoded, 100},
		{"output over", Limits{OutputBytes: 1}, []charge{out(2)}, KindOutput, 1},
		{"default decoded", Limits{}, []charge{dec(DefaultDecodedBytes), dec(1)}, KindDecoded, DefaultDecodedBytes},
		{"default output ok", Limits{}, []charge{out(DefaultOutputBytes)}, "", 0},
		{"sticky: later charges fail", Limits{Steps: 1}, []charge{step, step, out(1)}, KindSteps, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Budget
			b.Reset(context.Background(), tt.limits)
			var err error
			for _, c := range tt.charges {
				if err = c(&b); err != nil && tt.kind == "" {
					t.Fatalf("unexpected error %v", err)
				}
			}
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var ee *ExceededError
			if !errors.As(err, &ee) || ee.Kind != tt.kind || ee.Limit != tt.limit {
				t.Fatalf("err = %#v, want kind %s limit %d", err, tt.kind, tt.limit)
			}
			if ee.Error() == "" {
				t.Fatal("empty message")
			}
		})
	}
}

func TestNilAndZero(t *testing.T) {
	var nb *Budget
	for i := 0; i < 3; i++ {
		if nb.Step() != nil || nb.Regex(1<<40) != nil || nb.Decoded(1<<40) != nil || nb.Output(1<<40) != nil || nb.Err() != nil {
			t.Fatal("nil budget must be unlimited")
		}
	}
	if nb.DecodedLeft() != -1 || nb.Context() == nil {
		t.Fatal("nil budget: DecodedLeft or Context")
	}
	var zb Budget // never reset
	if zb.Step() != nil || zb.Regex(1<<40) != nil || zb.Decoded(1<<40) != nil || zb.Output(1<<40) != nil || zb.Err() != nil {
		t.Fatal("zero budget must be unlimited")
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var b Budget
	b.Reset(ctx, Limits{})
	if err := b.Step(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := b.Step(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Step after cancel = %v", err)
	}
	// Regex notices within regexCheckEvery units.
	var err error
	for i := 0; i <= regexCheckEvery && err == nil; i++ {
		err = b.Regex(1)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Regex after cancel = %v", err)
	}
	if !errors.Is(b.Err(), context.Canceled) {
		t.Fatal("Err")
	}
}

func TestDecodedLeft(t *testing.T) {
	var b Budget
	b.Reset(nil, Limits{DecodedBytes: 10})
	_ = b.Decoded(4)
	if got := b.DecodedLeft(); got != 6 {
		t.Fatalf("DecodedLeft = %d", got)
	}
	_ = b.Decoded(20)
	if got := b.DecodedLeft(); got != 0 {
		t.Fatalf("DecodedLeft = %d", got)
	}
	if s, _, d, _ := b.Used(); s != 0 || d != 24 {
		t.Fatalf("Used = %d %d", s, d)
	}
}

func BenchmarkStep(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bu Budget
	bu.Reset(context.WithValue(ctx, struct{}{}, 1), Limits{Steps: -1})
	b.ReportAllocs()
	for b.Loop() {
		if err := bu.Step(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegex(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bu Budget
	bu.Reset(ctx, Limits{RegexWork: -1})
	b.ReportAllocs()
	for b.Loop() {
		if err := bu.Regex(1); err != nil {
			b.Fatal(err)
		}
	}
}

// TestResetAt: the run's time limit counts from the start the host gives
// (the request's arrival), and from now when it gives none.
func TestResetAt(t *testing.T) {
	var b Budget
	b.ResetAt(context.Background(), Limits{Time: time.Second}, time.Now().Add(-2*time.Second))
	if left, ok := b.Remaining(); !ok || left != 0 {
		t.Errorf("started 2s ago with 1s: Remaining = %v, %v; want 0, true", left, ok)
	}
	b.ResetAt(context.Background(), Limits{Time: time.Minute}, time.Time{})
	if left, ok := b.Remaining(); !ok || left < 59*time.Second {
		t.Errorf("no start, 1m: Remaining = %v, %v; want about 1m", left, ok)
	}
	b.ResetAt(context.Background(), Limits{Time: time.Minute}, time.Now().Add(-30*time.Second))
	if left, _ := b.Remaining(); left > 31*time.Second || left < 29*time.Second {
		t.Errorf("started 30s ago, 1m: Remaining = %v; want about 30s", left)
	}
}
