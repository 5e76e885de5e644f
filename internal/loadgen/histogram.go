package loadgen

import (
	"fmt"
	"math"
	"math/bits"
	"time"
)

// subBits is the number of bits of precision kept below each power of two:
// 2^subBits linear sub-buckets per octave, so a recorded value is off by
// less than 1/2^subBits (0.78 %) of itself. Values below 2^(subBits+1) are
// exact.
const subBits = 7

const (
	subCount = 1 << subBits
	// numBuckets covers every non-negative int64: the linear range
	// [0, 2·subCount) plus subCount buckets for each of the shifts 1…56.
	numBuckets = (64-subBits-1)*subCount + subCount
)

// Histogram is an HDR-style log-linear histogram of durations (recorded in
// nanoseconds): values below 256 ns are counted exactly, larger ones in 128
// linear sub-buckets per power of two, so every reported percentile is
// within 0.8 % of the true sample (never above the maximum). It uses a
// fixed 58 KiB array, records in O(1) without allocating, and merges by
// adding counts. The zero value is not usable; call NewHistogram. A
// Histogram is not safe for concurrent use.
type Histogram struct {
	counts   []uint64
	total    uint64
	min, max int64
	sum      float64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets), min: math.MaxInt64}
}

// bucketOf returns the bucket index of v (v ≥ 0).
func bucketOf(v int64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	return shift*subCount + int(v>>shift)
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	shift := i/subCount - 1
	top := int64(i - shift*subCount)
	hi := (top+1)<<shift - 1
	if hi < 0 { // the last bucket reaches past MaxInt64
		return math.MaxInt64
	}
	return hi
}

// Record adds one duration; negative durations count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// Merge adds the counts of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest recorded value (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Max returns the largest recorded value, exactly (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the exact arithmetic mean (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	m := h.sum / float64(h.total)
	if m >= math.MaxInt64 { // float rounding near the top of the range
		return math.MaxInt64
	}
	return time.Duration(m)
}

// Quantile returns the value at quantile q (0 ≤ q ≤ 1): the smallest
// recorded value v such that at least ⌈q·count⌉ values are ≤ v, reported as
// the upper end of v's bucket (at most the exact maximum), so the result is
// never below the true sample and exceeds it by less than 0.8 %. Quantile(0)
// is the minimum, Quantile(1) the maximum; an empty histogram gives 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q <= 0 {
		return time.Duration(h.min)
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}

// Summary is a histogram reduced to what reports show. Durations are in
// microseconds.
type Summary struct {
	Count  uint64  `json:"count"`
	MinUS  float64 `json:"min_us"`
	MeanUS float64 `json:"mean_us"`
	P50US  float64 `json:"p50_us"`
	P90US  float64 `json:"p90_us"`
	P99US  float64 `json:"p99_us"`
	P999US float64 `json:"p99_9_us"`
	MaxUS  float64 `json:"max_us"`
}

// Summary returns the count, min, mean, p50, p90, p99, p99.9 and max.
func (h *Histogram) Summary() Summary {
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	return Summary{
		Count:  h.total,
		MinUS:  us(h.Min()),
		MeanUS: us(h.Mean()),
		P50US:  us(h.Quantile(0.50)),
		P90US:  us(h.Quantile(0.90)),
		P99US:  us(h.Quantile(0.99)),
		P999US: us(h.Quantile(0.999)),
		MaxUS:  us(h.Max()),
	}
}

// String formats the summary for logs.
func (s Summary) String() string {
	return fmt.Sprintf("n=%d p50=%s p90=%s p99=%s p99.9=%s max=%s", s.Count,
		FormatUS(s.P50US), FormatUS(s.P90US), FormatUS(s.P99US), FormatUS(s.P999US), FormatUS(s.MaxUS))
}

// FormatUS formats a duration given in microseconds with three significant
// digits and a unit: 87µs, 1.23ms, 2.50s.
func FormatUS(us float64) string {
	switch {
	case us < 1:
		return fmt.Sprintf("%.0fns", us*1e3)
	case us < 100:
		return fmt.Sprintf("%.3gµs", us)
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	case us < 1e6:
		return fmt.Sprintf("%.3gms", us/1e3)
	default:
		return fmt.Sprintf("%.3gs", us/1e6)
	}
}
