package loadgen

import (
	"sync"
	"testing"
	"time"
)

func TestScheduleDue(t *testing.T) {
	start := time.Unix(1000, 0)
	tests := []struct {
		rate float64
		i    int64
		want time.Duration
	}{
		{2000, 0, 0},
		{2000, 1, 500 * time.Microsecond},
		{2000, 2000, time.Second},
		{3, 1, 333333333},
		{3, 2, 666666667},
		{3, 3, time.Second},
		{3, 3_000_000, 1_000_000 * time.Second}, // no accumulated rounding
		{0.5, 3, 6 * time.Second},
	}
	for _, tc := range tests {
		s := NewSchedule(start, tc.rate)
		if got := s.Due(tc.i).Sub(start); got != tc.want {
			t.Errorf("rate %v: Due(%d) = +%v, want +%v", tc.rate, tc.i, got, tc.want)
		}
	}
}

func TestScheduleNextHandsOutEachIndexOnce(t *testing.T) {
	s := NewSchedule(time.Now(), 1000)
	const workers, each = 8, 500
	var mu sync.Mutex
	seen := map[int64]time.Time{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				i, due := s.Next()
				mu.Lock()
				seen[i] = due
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d distinct indices, want %d", len(seen), workers*each)
	}
	for i := int64(0); i < workers*each; i++ {
		due, ok := seen[i]
		if !ok {
			t.Fatalf("index %d never handed out", i)
		}
		if !due.Equal(s.Due(i)) {
			t.Errorf("Next gave index %d due %v, Due says %v", i, due, s.Due(i))
		}
	}
}

func TestScheduleIndexAt(t *testing.T) {
	start := time.Unix(1000, 0)
	tests := []struct {
		rate  float64
		after time.Duration
		want  int64
	}{
		{2000, -time.Second, 0},
		{2000, 0, 0},
		{2000, 1, 1},
		{2000, 500 * time.Microsecond, 1},
		{2000, 500*time.Microsecond + 1, 2},
		{2000, 2 * time.Second, 4000},
		{3, time.Second, 3},
		{3, 333333333, 1},
		{3, 333333334, 2},
	}
	for _, tc := range tests {
		s := NewSchedule(start, tc.rate)
		got := s.IndexAt(start.Add(tc.after))
		if got != tc.want {
			t.Errorf("rate %v: IndexAt(+%v) = %d, want %d", tc.rate, tc.after, got, tc.want)
		}
		// The defining property: Due(got-1) < t ≤ Due(got).
		at := start.Add(tc.after)
		if got > 0 && !s.Due(got-1).Before(at) || s.Due(got).Before(at) {
			t.Errorf("rate %v: IndexAt(+%v) = %d breaks Due(i-1) < t ≤ Due(i)", tc.rate, tc.after, got)
		}
	}
}
