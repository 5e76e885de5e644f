package metricstripe

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCounterAndGauge(t *testing.T) {
	c, g := NewCounter(), NewGauge()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				c.Inc()
				g.Add(2)
				g.Add(-1)
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
		name string
		obs  map[string][]float64
	}{
		{"empty", nil},
		{"within bounds", map[string][]float64{"a": {0.0005, 0.002, 0.05, 0.5}}},
		{"on a bound", map[string][]float64{"a": {.001, .01, .1, 1}, "b": {1}}},
		{"above every bound", map[string][]float64{"b": {2, 3e9}}},
		{"negative and infinities", map[string][]float64{"a": {-1, math.Inf(1), math.Inf(-1)}}},
		{"NaN", map[string][]float64{"b": {math.NaN(), 0.5}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := prometheus.HistogramOpts{Name: "x_seconds", Help: "X.", Buckets: bounds}
			want := prometheus.NewHistogramVec(opts, []string{"phase"})
			got, err := NewHistogramSet(opts, "phase", []string{"a", "b"})
			if err != nil {
				t.Fatal(err)
			}
			want.WithLabelValues("a")
			want.WithLabelValues("b")
			for v, obs := range c.obs {
				for _, o := range obs {
					want.WithLabelValues(v).Observe(o)
					got.Histogram(v).Observe(o)
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
				if _, err := writeText(&exp, mf); err != nil {
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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewHistogramSet(prometheus.HistogramOpts{Name: "x", Help: "x", Buckets: c.buckets}, "l", c.values)
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

// TestHistogramConcurrentScrape: scrapes while observations run report a
// count never below the last finite bucket, and the totals add up.
func TestHistogramConcurrentScrape(t *testing.T) {
	s, err := NewHistogramSet(prometheus.HistogramOpts{Name: "x", Help: "x", Buckets: []float64{1, 2}}, "l", []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Histogram("a")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				h.Observe(float64((i + w) % 3))
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for scraping := true; scraping; {
		select {
		case <-done:
			scraping = false
		default:
		}
		count, _, buckets := h.snapshot()
		if buckets[2] > count || buckets[1] > buckets[2] {
			t.Fatalf("count %d, buckets %v: not cumulative", count, buckets)
		}
	}
	count, sum, buckets := h.snapshot()
	if count != 20000 || buckets[2] != 20000 {
		t.Fatalf("count %d, buckets %v; want 20000 everywhere", count, buckets)
	}
	if sum < 19990 || sum > 20010 {
		t.Fatalf("sum %v, want about 20000", sum)
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
	pc, sc := prometheus.NewCounter(prometheus.CounterOpts{Name: "c", Help: "c"}), NewCounter()
	pg, sg := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"}), NewGauge()
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
