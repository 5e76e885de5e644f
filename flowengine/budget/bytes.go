package budget

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// BodyCostFactor is the estimated peak heap cost of one body byte while an
// exchange holds the body, as a multiple of its size: the raw copies (the
// gRPC receive buffer and the message's body field, 2×) plus the parsed
// form. MeasureParseCost measured JSON parsed by flowengine/oxn at 21–22×
// its size (allocated bytes, 4 KiB to 1 MiB documents of small objects,
// 2026-12-05, TestBodyCostFactorCoversJSON), so 26 covers it with a little
// slack. When the parse gets cheaper, lower this constant: the test says
// by how much.
const BodyCostFactor = 26

// Bytes is a budget of bytes shared by concurrent users, such as every
// exchange of a server holding a request body. Reserve takes bytes from it
// or refuses; Release gives them back. It is safe for concurrent use and
// allocates nothing. A nil *Bytes or a limit ≤ 0 is unlimited.
type Bytes struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64
}

// NewBytes returns a budget of limit bytes (≤ 0: unlimited).
func NewBytes(limit int64) *Bytes { return &Bytes{limit: limit} }

// Limit returns the budget's size in bytes (≤ 0: unlimited).
func (b *Bytes) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// InUse returns the bytes reserved now.
func (b *Bytes) InUse() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Peak returns the most bytes reserved at once since the budget was made.
func (b *Bytes) Peak() int64 {
	if b == nil {
		return 0
	}
	return b.peak.Load()
}

// Reserve takes n bytes from the budget. It returns false, and takes
// nothing, when that would exceed the limit; a request larger than the
// whole budget is always refused. n ≤ 0 always succeeds with an empty
// reservation. Release the reservation exactly once (Reservation.Release
// makes a second call harmless).
func (b *Bytes) Reserve(n int64) (Reservation, bool) {
	if b == nil || n <= 0 {
		return Reservation{}, true
	}
	if b.limit <= 0 {
		b.note(b.used.Add(n))
		return Reservation{b: b, n: n}, true
	}
	for {
		cur := b.used.Load()
		if cur+n > b.limit || cur+n < cur {
			return Reservation{}, false
		}
		if b.used.CompareAndSwap(cur, cur+n) {
			b.note(cur + n)
			return Reservation{b: b, n: n}, true
		}
	}
}

// note raises the peak to v.
func (b *Bytes) note(v int64) {
	for {
		p := b.peak.Load()
		if v <= p || b.peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// Reservation is bytes taken from a Bytes budget. The zero value holds
// nothing.
type Reservation struct {
	b *Bytes
	n int64
}

// Size returns the bytes the reservation holds (0 after Release).
func (r *Reservation) Size() int64 { return r.n }

// Release gives the bytes back to the budget. Calling it again, or on a
// zero Reservation, does nothing.
func (r *Reservation) Release() {
	if r.b != nil && r.n > 0 {
		r.b.used.Add(-r.n)
	}
	r.b, r.n = nil, 0
}

// MeasureParseCost reports what parsing sample costs, as multiples of its
// size: allocated is every byte the parse allocated (an upper bound of its
// peak), retained what the result keeps alive after a garbage collection.
// It is the measurement behind BodyCostFactor; it runs the collector and
// stops the world, so call it from tests and tools, not per request.
//
// A sample under 1 MiB is parsed as many times as it takes to reach about
// 1 MiB (at most 256), with every result kept alive, and the figures are
// the average: the runtime accounts small allocations a span at a time per
// P, so one parse of a few KiB measured alone reads a span high or low
// (a 4 KiB sample varied by 1.3× its size between machines).
func MeasureParseCost(sample []byte, parse func([]byte) (any, error)) (allocated, retained float64, err error) {
	if len(sample) == 0 {
		return 0, 0, fmt.Errorf("measure parse cost: empty sample")
	}
	n := 1
	if len(sample) < 1<<20 {
		n = min(max(1, (1<<20)/len(sample)), 256)
	}
	kept := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range kept {
		v, err := parse(sample)
		if err != nil {
			return 0, 0, fmt.Errorf("measure parse cost: %w", err)
		}
		kept[i] = v
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	ret := int64(after.HeapAlloc) - int64(before.HeapAlloc) - int64(n)*16 // less the slice of results
	size := float64(len(sample)) * float64(n)
	return float64(alloc) / size, float64(max(ret, 0)) / size, nil
}

// Shrink lowers the reservation to n bytes, giving the rest back (a
// reservation made for an estimate, once the real size is known). It never
// grows a reservation: n at or above Size does nothing.
func (r *Reservation) Shrink(n int64) {
	if r.b == nil || n >= r.n {
		return
	}
	n = max(n, 0)
	r.b.used.Add(n - r.n)
	r.n = n
}
