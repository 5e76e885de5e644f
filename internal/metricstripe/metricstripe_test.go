package metricstripe

import (
	"maps"
	"math"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

func TestCounterAndGauge(t *testing.T) {
	c := NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "c"})
	g := NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				if i%2 == 0 {
					c.Inc()
					g.Add(2)
					g.Add(-1)
					continue
				}
				// The At forms, on any index: negative and beyond
				// the shards included.
				s := i*7 - 500
				c.IncAt(s)
				g.AddAt(s, 2)
				g.AddAt(Shard(), -1)
			}
		}()
	}
	wg.Wait()
	if c.Value() != 8000 || g.Value() != 8000 {
		t.Fatalf("counter %v, gauge %v; want 8000 and 8000", c.Value(), g.Value())
	}
	g.Add(-9000)
	if g.Value() != -1000 {
		t.Fatalf("gauge %v, want -1000", g.Value())
	}
}

// TestHistogramSetMatchesClientGolang: the same observations into a
// HistogramSet and a client_golang HistogramVec scrape identically,
// including values on a bound, above every bound, negative, ±Inf and NaN.
func TestHistogramSetMatchesClientGolang(t *testing.T) {
	bounds := []float64{.001, .01, .1, 1}
	cases := []struct {
		name    string
		buckets []float64 // nil: bounds
		obs     map[string][]float64
	}{
		{"empty", nil, nil},
		{"within bounds", nil, map[string][]float64{"a": {0.0005, 0.002, 0.05, 0.5}}},
		{"on a bound", nil, map[string][]float64{"a": {.001, .01, .1, 1}, "b": {1}}},
		{"above every bound", nil, map[string][]float64{"b": {2, 3e9}}},
		{"negative and infinities", nil, map[string][]float64{"a": {-1, math.Inf(1), math.Inf(-1)}}},
		{"NaN", nil, map[string][]float64{"b": {math.NaN(), 0.5}}},
		{"no buckets: the default ones", []float64{}, map[string][]float64{"a": {0.003, 7}}},
		{"a trailing +Inf bound", []float64{1, math.Inf(1)}, map[string][]float64{"a": {0.5, 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.buckets
			if b == nil {
				b = bounds
			}
			opts := prometheus.HistogramOpts{Name: "x_seconds", Help: "X.", Buckets: b}
			want := prometheus.NewHistogramVec(opts, []string{"phase"})
			got, err := NewHistogramSet(opts, "phase", []string{"a", "b"})
			if err != nil {
				t.Fatal(err)
			}
			want.WithLabelValues("a")
			want.WithLabelValues("b")
			for v, obs := range c.obs {
				for i, o := range obs {
					want.WithLabelValues(v).Observe(o)
					if i%2 == 0 {
						got.Histogram(v).Observe(o)
					} else {
						got.Histogram(v).ObserveAt(i*37-50, o) // any index
					}
				}
			}
			var exp strings.Builder
			wr := prometheus.NewPedanticRegistry()
			wr.MustRegister(want)
			mfs, err := wr.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if _, err := expfmt.MetricFamilyToText(&exp, mf); err != nil {
					t.Fatal(err)
				}
			}
			if err := testutil.CollectAndCompare(got, strings.NewReader(exp.String())); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewHistogramSetErrors(t *testing.T) {
	cases := []struct {
		name    string
		buckets []float64
		values  []string
		want    string
	}{
		{"unsorted", []float64{1, 0.5}, []string{"a"}, "sorted"},
		{"repeated bound", []float64{1, 1}, []string{"a"}, "distinct"},
		{"NaN bound", []float64{math.NaN()}, []string{"a"}, "finite"},
		{"no values", []float64{1}, nil, "label values"},
		{"repeated value", []float64{1}, []string{"a", "a"}, "label values"},
		{"native", nil, []string{"a"}, "native histograms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := prometheus.HistogramOpts{Name: "x", Help: "x", Buckets: c.buckets}
			if c.name == "native" {
				opts.NativeHistogramBucketFactor = 1.1
			}
			_, err := NewHistogramSet(opts, "l", c.values)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one mentioning %q", err, c.want)
			}
		})
	}
	s, err := NewHistogramSet(prometheus.HistogramOpts{Name: "x", Help: "x", Buckets: []float64{1, math.Inf(1)}}, "l", []string{"a"})
	if err != nil {
		t.Fatalf("a trailing +Inf bound is dropped, as client_golang does: %v", err)
	}
	if s.Histogram("b") != nil {
		t.Fatal("Histogram of an unknown value is not nil")
	}
}

// TestHistogramConcurrentScrape: scrapes while observations run report
// cumulative buckets, a count equal to their total (never a +Inf above the
// last finite bucket when every value is within the bounds), and a sum that
// covers at least what the buckets show; the totals add up at the end.
func TestHistogramConcurrentScrape(t *testing.T) {
	s, err := NewHistogramSet(prometheus.HistogramOpts{Name: "x", Help: "x", Buckets: []float64{1, 5}}, "l", []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Histogram("a")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50000 {
				h.Observe([]float64{0.5, 2}[(i+w)%2])
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	snapshots := 0
	for scraping := true; scraping; snapshots++ {
		select {
		case <-done:
			scraping = false
		default:
		}
		count, sum, buckets := h.snapshot()
		if buckets[1] > buckets[5] || count != buckets[5] {
			t.Fatalf("snapshot %d: count %d, buckets %v: want cumulative buckets and count = le=5", snapshots, count, buckets)
		}
		if min := 0.5*float64(buckets[1]) + 2*float64(buckets[5]-buckets[1]); sum < min-1e-9 {
			t.Fatalf("snapshot %d: sum %v below the %v the buckets show", snapshots, sum, min)
		}
	}
	count, sum, buckets := h.snapshot()
	if count != 200000 || buckets[1] != 100000 || sum != 250000 {
		t.Fatalf("count %d, sum %v, buckets %v; want 200000, 250000 and 100000 at le=1", count, sum, buckets)
	}
	t.Logf("%d snapshots taken while observing", snapshots)
}

// TestCreatedTimestamps: like client_golang's, the striped counter and
// histogram carry a created timestamp (protobuf scrapes send it); gauges
// have none in either.
func TestCreatedTimestamps(t *testing.T) {
	hs, err := NewHistogramSet(prometheus.HistogramOpts{Name: "h", Help: "h"}, "l", []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	r := prometheus.NewPedanticRegistry()
	r.MustRegister(NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "c"}), NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"}), hs)
	mfs, err := r.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		got[mf.GetName()] = m.GetCounter().GetCreatedTimestamp() != nil || m.GetHistogram().GetCreatedTimestamp() != nil
	}
	if want := map[string]bool{"c_total": true, "g": false, "h": true}; !maps.Equal(got, want) {
		t.Fatalf("created timestamps %v, want %v", got, want)
	}
}

// TestShardsAligned: every shard starts on a cache line, whatever the
// number of buckets, so no two shards share a line.
func TestShardsAligned(t *testing.T) {
	aligned := func(p unsafe.Pointer) bool { return uintptr(p)%cacheLine == 0 }
	for range 20 {
		c := NewCount()
		g := NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"})
		if !aligned(unsafe.Pointer(&c.w[0])) || !aligned(unsafe.Pointer(&g.c.w[0])) || len(c.w) != shards*wordsPerLine {
			t.Fatal("a counter or gauge shard is not on a cache line")
		}
	}
	for n := range 40 {
		bounds := make([]float64, n)
		for i := range bounds {
			bounds[i] = float64(i + 1)
		}
		h := newHistogram(bounds)
		if h.stride%wordsPerLine != 0 || h.stride < n+2 || len(h.w) != shards*h.stride {
			t.Fatalf("%d bounds: stride %d, %d words", n, h.stride, len(h.w))
		}
		for base := 0; base < len(h.w); base += h.stride {
			if !aligned(unsafe.Pointer(&h.w[base])) {
				t.Fatalf("%d bounds: shard at word %d is not on a cache line", n, base)
			}
		}
	}
}

// BenchmarkContended updates each metric from every core at once: the
// striped ones against client_golang's (the package comment's numbers).
func BenchmarkContended(b *testing.B) {
	opts := prometheus.HistogramOpts{Name: "h", Help: "h", Buckets: prometheus.DefBuckets}
	set, err := NewHistogramSet(opts, "l", []string{"a"})
	if err != nil {
		b.Fatal(err)
	}
	striped := set.Histogram("a")
	plain := prometheus.NewHistogram(opts)
	pc, sc := prometheus.NewCounter(prometheus.CounterOpts{Name: "c", Help: "c"}), NewCounter(prometheus.CounterOpts{Name: "c", Help: "c"})
	pg, sg := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"}), NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"})
	cases := []struct {
		name string
		f    func()
	}{
		{"histogram/client_golang", func() { plain.Observe(0.0003) }},
		{"histogram/striped", func() { striped.Observe(0.0003) }},
		{"counter/client_golang", pc.Inc},
		{"counter/striped", sc.Inc},
		{"gauge/client_golang", func() { pg.Inc(); pg.Dec() }},
		{"gauge/striped", func() { sg.Add(1); sg.Add(-1) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.f()
				}
			})
		})
	}
}

// TestUpdatesAllocateNothing: updates allocate nothing, and neither does
// refilling the shard index pool (the race detector drops pooled items at
// random, and every collection empties the pool). After a collection
// sync.Pool itself makes its per-P slots again, once per cycle.
func TestUpdatesAllocateNothing(t *testing.T) {
	hs, err := NewHistogramSet(prometheus.HistogramOpts{Name: "h", Help: "h"}, "l", []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	h, c, g := hs.Histogram("a"), NewCount(), NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"})
	if n := testing.AllocsPerRun(1000, func() {
		h.Observe(0.01)
		c.Inc()
		g.Add(1)
		s := Shard()
		h.ObserveAt(s, 0.01)
		c.IncAt(s)
		g.AddAt(s, 1)
	}); n != 0 {
		t.Errorf("%v allocations per update", n)
	}
	if n := testing.AllocsPerRun(1000, func() { _ = shardIndex.New() }); n != 0 {
		t.Errorf("%v allocations per pool refill", n)
	}
}
