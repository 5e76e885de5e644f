package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// reference is the exact quantile of sorted samples, with the same
// definition as Histogram.Quantile: the ⌈q·n⌉-th smallest value.
func reference(sorted []time.Duration, q float64) time.Duration {
	if q <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func TestHistogramQuantilesMatchSortedReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func(i int) time.Duration
		n    int
	}{
		{"small exact values", func(i int) time.Duration { return time.Duration(i % 200) }, 1000},
		{"uniform 50µs-5ms", func(int) time.Duration {
			return 50*time.Microsecond + time.Duration(rng.Int64N(int64(5*time.Millisecond)))
		}, 20000},
		{"log-normal around 300µs", func(int) time.Duration {
			return time.Duration(300e3 * math.Exp(rng.NormFloat64()))
		}, 50000},
		{"bimodal with a slow tail", func(i int) time.Duration {
			if i%100 == 0 {
				return 250*time.Millisecond + time.Duration(rng.Int64N(int64(time.Second)))
			}
			return 80*time.Microsecond + time.Duration(rng.Int64N(40_000))
		}, 30000},
		{"constant", func(int) time.Duration { return 1234567 * time.Nanosecond }, 500},
		{"one value", func(int) time.Duration { return 42 * time.Millisecond }, 1},
		{"huge", func(i int) time.Duration { return time.Duration(math.MaxInt64 - int64(i)) }, 10},
	}
	quantiles := []float64{0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistogram()
			samples := make([]time.Duration, tc.n)
			var sum float64
			for i := range samples {
				samples[i] = tc.gen(i)
				sum += float64(samples[i])
				h.Record(samples[i])
			}
			slices.Sort(samples)
			if h.Count() != uint64(tc.n) {
				t.Fatalf("Count = %d, want %d", h.Count(), tc.n)
			}
			if h.Min() != samples[0] || h.Max() != samples[len(samples)-1] {
				t.Errorf("Min, Max = %v, %v, want %v, %v", h.Min(), h.Max(), samples[0], samples[len(samples)-1])
			}
			if want := min(sum/float64(tc.n), math.MaxInt64); math.Abs(float64(h.Mean())-want) > want*1e-9+1 {
				t.Errorf("Mean = %v, want %v", h.Mean(), time.Duration(want))
			}
			for _, q := range quantiles {
				want := reference(samples, q)
				got := h.Quantile(q)
				// Never below the sample, above it by less than 1/128.
				limit := want + time.Duration(float64(want)/subCount)
				if limit < want { // overflow near MaxInt64
					limit = math.MaxInt64
				}
				if got < want || got > limit {
					t.Errorf("Quantile(%v) = %d, want %d…%d", q, got, want, limit)
				}
			}
		})
	}
}

func TestHistogramValuesBelow256AreExact(t *testing.T) {
	h := NewHistogram()
	for v := range 256 {
		h.Record(time.Duration(v))
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 127}, {0.25, 63}, {1, 255}, {0.001, 0}} {
		if got := h.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	values := []int64{0, 1, 255, 256, 257, 511, 512, 1000, 123456789, 1 << 40, math.MaxInt64 - 1, math.MaxInt64}
	prev := -1
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0,%d)", v, i, numBuckets)
		}
		if i < prev {
			t.Errorf("bucketOf(%d) = %d is below the bucket of a smaller value (%d)", v, i, prev)
		}
		prev = i
		hi := bucketHigh(i)
		if hi < v || (i > 0 && bucketHigh(i-1) >= v) {
			t.Errorf("value %d in bucket %d: high %d, previous high %d", v, i, hi, bucketHigh(i-1))
		}
		if width := hi - bucketHigh(max(i-1, 0)); v >= 256 && float64(width) > float64(v)/subCount+1 {
			t.Errorf("bucket %d of %d is %d wide, more than 1/%d of the value", i, v, width, subCount)
		}
	}
}

func TestHistogramMergeEqualsRecordingAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 10000 {
		v := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(b)
	a.Merge(nil)
	a.Merge(NewHistogram())
	if a.Summary() != all.Summary() {
		t.Errorf("merged summary %+v, want %+v", a.Summary(), all.Summary())
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	h := NewHistogram()
	if s := h.Summary(); s != (Summary{}) {
		t.Errorf("empty summary = %+v, want zero", s)
	}
	h.Record(-5 * time.Millisecond)
	if h.Count() != 1 || h.Max() != 0 || h.Quantile(0.5) != 0 {
		t.Errorf("negative duration: count %d, max %v, p50 %v; want 1, 0, 0", h.Count(), h.Max(), h.Quantile(0.5))
	}
}

func TestFormatUS(t *testing.T) {
	tests := []struct {
		us   float64
		want string
	}{
		{0.5, "500ns"}, {7, "7µs"}, {87.34, "87.3µs"}, {512.4, "512µs"}, {1234, "1.23ms"}, {56789, "56.8ms"}, {2.5e6, "2.5s"},
	}
	for _, tc := range tests {
		if got := FormatUS(tc.us); got != tc.want {
			t.Errorf("FormatUS(%v) = %q, want %q", tc.us, got, tc.want)
		}
	}
}
