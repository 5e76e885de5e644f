package loadgen

import (
	"math"
	"sync/atomic"
	"time"
)

// Schedule is an open-loop arrival schedule at a fixed rate: exchange i
// (counting from 0) is due at Start + i/rate, whether or not earlier
// exchanges have finished. Workers take the next index with Next, wait
// until it is due and measure latency from the due time, not from when
// they got around to starting it: when the server stalls, the exchanges
// that should have started meanwhile are charged the wait (no coordinated
// omission). It is safe for concurrent use.
type Schedule struct {
	start time.Time
	rate  float64
	next  atomic.Int64
}

// NewSchedule returns a schedule of rate exchanges per second starting at
// start. rate must be positive.
func NewSchedule(start time.Time, rate float64) *Schedule {
	return &Schedule{start: start, rate: rate}
}

// Due returns when exchange i is due. Computed from i (not by adding
// intervals), so rounding does not accumulate.
func (s *Schedule) Due(i int64) time.Time {
	return s.start.Add(time.Duration(math.Round(float64(i) * 1e9 / s.rate)))
}

// Next claims the next exchange: its index and due time.
func (s *Schedule) Next() (int64, time.Time) {
	i := s.next.Add(1) - 1
	return i, s.Due(i)
}

// IndexAt returns the number of exchanges due strictly before t: the index
// of the first exchange due at or after t.
func (s *Schedule) IndexAt(t time.Time) int64 {
	d := t.Sub(s.start)
	if d <= 0 {
		return 0
	}
	i := int64(math.Ceil(d.Seconds() * s.rate))
	// Correct for float rounding so that Due(i-1) < t ≤ Due(i).
	for i > 0 && !s.Due(i-1).Before(t) {
		i--
	}
	for s.Due(i).Before(t) {
		i++
	}
	return i
}
