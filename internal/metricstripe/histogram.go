package metricstripe

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Histogram counts observations into buckets with fixed upper bounds. Get
// one from a HistogramSet.
//
// Each shard is stride words: a count per bucket (not cumulative; the last
// is +Inf), then the sum's float64 bits, padded to whole cache lines.
type Histogram struct {
	bounds []float64
	stride int
	w      []atomic.Uint64
}

// newHistogram returns a histogram with the given upper bounds, sorted and
// finite (NewHistogramSet checks them).
func newHistogram(bounds []float64) *Histogram {
	n := len(bounds) + 2 // the buckets, +Inf and the sum
	linesPerShard := (n + wordsPerLine - 1) / wordsPerLine
	return &Histogram{
		bounds: bounds,
		stride: linesPerShard * wordsPerLine,
		w:      lines(shards * linesPerShard),
	}
}

// Observe adds one observation of v. Like client_golang's histogram, a
// value equal to an upper bound falls in that bucket, NaN is counted only
// in +Inf and makes the sum NaN, and -Inf falls in the first bucket.
func (h *Histogram) Observe(v float64) { h.observe(shard(), v) }

// ObserveAt is Observe on shard s (see Shard).
func (h *Histogram) ObserveAt(s int, v float64) { h.observe(at(s), v) }

func (h *Histogram) observe(shard int, v float64) {
	i := 0
	for i < len(h.bounds) && !(v <= h.bounds[i]) {
		i++
	}
	s := h.w[shard*h.stride:]
	sum := &s[len(h.bounds)+1]
	for {
		old := sum.Load()
		if sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	// The bucket after the sum: a scrape reads the buckets first, so the
	// sum it reports includes every observation its buckets show.
	s[i].Add(1)
}

// snapshot returns the count, the sum and the cumulative counts of the
// finite buckets keyed by upper bound, as prometheus.NewConstHistogram
// takes them. The count is the buckets' total, +Inf included, so it is
// never below the last finite bucket nor above +Inf.
func (h *Histogram) snapshot() (count uint64, sum float64, buckets map[float64]uint64) {
	per := make([]uint64, len(h.bounds)+1)
	for base := 0; base < len(h.w); base += h.stride {
		for b := range per {
			per[b] += h.w[base+b].Load()
		}
	}
	for base := 0; base < len(h.w); base += h.stride {
		sum += math.Float64frombits(h.w[base+len(h.bounds)+1].Load())
	}
	buckets = make(map[float64]uint64, len(h.bounds))
	for b, ub := range h.bounds {
		count += per[b]
		buckets[ub] = count
	}
	count += per[len(h.bounds)]
	return count, sum, buckets
}

// HistogramSet is a histogram family with one label whose values are fixed
// when it is made: what a prometheus.HistogramVec whose children were all
// resolved at once would be, with striped histograms. It is a
// prometheus.Collector.
type HistogramSet struct {
	desc    *prometheus.Desc
	values  []string
	hists   []*Histogram
	created time.Time
}

// NewHistogramSet returns a histogram per label value, named and bucketed
// by opts (no buckets: prometheus.DefBuckets, as client_golang). Bounds
// must be sorted, distinct and finite; a +Inf bound at the end is dropped,
// as client_golang does. Native histograms are not supported: options that
// ask for them are an error, not ignored.
func NewHistogramSet(opts prometheus.HistogramOpts, label string, values []string) (*HistogramSet, error) {
	if opts.NativeHistogramBucketFactor != 0 || opts.NativeHistogramZeroThreshold != 0 || opts.NativeHistogramMaxBucketNumber != 0 {
		return nil, fmt.Errorf("metricstripe: histogram %s: native histograms are not supported", opts.Name)
	}
	bounds := opts.Buckets
	if len(bounds) == 0 {
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
	if len(values) == 0 || len(values) != len(distinct(values)) {
		return nil, fmt.Errorf("metricstripe: histogram %s: label values must be distinct and at least one, got %q", opts.Name, values)
	}
	if label == "" {
		return nil, errors.New("metricstripe: histogram " + opts.Name + ": no label name")
	}
	s := &HistogramSet{
		desc:    prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, []string{label}, opts.ConstLabels),
		values:  slices.Clone(values),
		hists:   make([]*Histogram, len(values)),
		created: time.Now(),
	}
	for i := range values {
		s.hists[i] = newHistogram(bounds)
	}
	return s, nil
}

// distinct returns the distinct values of v.
func distinct(v []string) []string {
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
		ch <- prometheus.MustNewConstHistogramWithCreatedTimestamp(s.desc, count, sum, buckets, s.created, s.values[i])
	}
}
