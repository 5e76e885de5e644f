package metricstripe

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// histShard is one shard of a Histogram: its count, its sum (float64 bits)
// and a count per bucket (not cumulative; the last is +Inf), padded to a
// cache line. The bucket counts live in an allocation of their own.
type histShard struct {
	count  atomic.Uint64
	sum    atomic.Uint64
	counts []atomic.Uint64
	_      [cacheLine - 16 - 24]byte
}

// Histogram counts observations into buckets with fixed upper bounds. Get
// one from a HistogramSet.
type Histogram struct {
	// The shards first: the Histogram's size class (a multiple of the
	// cache line, see newHistogram) starts it on a line boundary.
	s      [shards]histShard
	bounds []float64
}

// newHistogram returns a histogram with the given upper bounds, sorted and
// finite (NewHistogramSet checks them).
func newHistogram(bounds []float64) *Histogram {
	h := &Histogram{bounds: bounds}
	// Each shard's bucket counts are an allocation of whole cache lines
	// (a size class that is a multiple of 64 bytes), so no two shards'
	// counts share one.
	n := (len(bounds) + 1 + 7) / 8 * 8
	for i := range h.s {
		h.s[i].counts = make([]atomic.Uint64, n)[:len(bounds)+1]
	}
	return h
}

// Observe adds one observation of v. Like client_golang's histogram, a
// value equal to an upper bound falls in that bucket, and NaN is counted
// only in +Inf and makes the sum NaN.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.bounds) && !(v <= h.bounds[i]) {
		i++
	}
	s := &h.s[shard()]
	// The count first, the bucket last: a scrape reads the buckets before
	// the count, so the count it reports covers every bucket increment it
	// saw, and +Inf (the count) is never below the last finite bucket.
	s.count.Add(1)
	for {
		old := s.sum.Load()
		if s.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	s.counts[i].Add(1)
}

// snapshot returns the count, the sum and the cumulative counts of the
// finite buckets keyed by upper bound, as prometheus.NewConstHistogram
// takes them.
func (h *Histogram) snapshot() (count uint64, sum float64, buckets map[float64]uint64) {
	per := make([]uint64, len(h.bounds))
	for i := range h.s {
		for b := range per {
			per[b] += h.s[i].counts[b].Load()
		}
	}
	for i := range h.s {
		count += h.s[i].count.Load()
		sum += math.Float64frombits(h.s[i].sum.Load())
	}
	buckets = make(map[float64]uint64, len(h.bounds))
	var cum uint64
	for b, ub := range h.bounds {
		cum += per[b]
		buckets[ub] = cum
	}
	return count, sum, buckets
}

// HistogramSet is a histogram family with one label whose values are fixed
// when it is made: what a prometheus.HistogramVec resolved once per label
// value would be, with striped histograms. It is a prometheus.Collector.
type HistogramSet struct {
	desc   *prometheus.Desc
	values []string
	hists  []*Histogram
}

// NewHistogramSet returns a histogram per label value, named and bucketed
// by opts (opts.Buckets nil: prometheus.DefBuckets). Bounds must be sorted,
// distinct and finite; a +Inf bound at the end is dropped, as client_golang
// does.
func NewHistogramSet(opts prometheus.HistogramOpts, label string, values []string) (*HistogramSet, error) {
	bounds := opts.Buckets
	if bounds == nil {
		bounds = prometheus.DefBuckets
	}
	bounds = slices.Clone(bounds)
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], 1) {
		bounds = bounds[:n-1]
	}
	for i, b := range bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= bounds[i-1]) {
			return nil, fmt.Errorf("metricstripe: histogram %s: bucket bounds must be sorted, distinct and finite, got %v", opts.Name, opts.Buckets)
		}
	}
	if len(values) == 0 || len(values) != len(slicesCompact(values)) {
		return nil, fmt.Errorf("metricstripe: histogram %s: label values must be distinct and at least one, got %q", opts.Name, values)
	}
	s := &HistogramSet{
		desc:   prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, []string{label}, opts.ConstLabels),
		values: slices.Clone(values),
		hists:  make([]*Histogram, len(values)),
	}
	for i := range values {
		s.hists[i] = newHistogram(bounds)
	}
	return s, nil
}

// slicesCompact returns the distinct values of v.
func slicesCompact(v []string) []string {
	c := slices.Clone(v)
	slices.Sort(c)
	return slices.Compact(c)
}

// Histogram returns the histogram for a label value, or nil when the set
// has no such value.
func (s *HistogramSet) Histogram(value string) *Histogram {
	if i := slices.Index(s.values, value); i >= 0 {
		return s.hists[i]
	}
	return nil
}

// Describe implements prometheus.Collector.
func (s *HistogramSet) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector.
func (s *HistogramSet) Collect(ch chan<- prometheus.Metric) {
	for i, h := range s.hists {
		count, sum, buckets := h.snapshot()
		ch <- prometheus.MustNewConstHistogram(s.desc, count, sum, buckets, s.values[i])
	}
}
