package extproc

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCounterCache(t *testing.T) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"project", "flow", "outcome"})
	c := counterCache{vec: vec}
	cases := []struct {
		labels exchangeLabels
		times  int
	}{
		{exchangeLabels{"shop", "api/orders.xml", outcomeForwarded}, 3},
		{exchangeLabels{"shop", "api/orders.xml", outcomeAnswered}, 2},
		{exchangeLabels{"", "", outcomeCancelled}, 1},
		{exchangeLabels{"shop", "api/orders.xml", outcomeForwarded}, 1}, // cached
	}
	want := map[exchangeLabels]float64{}
	for _, tc := range cases {
		for range tc.times {
			c.counter(tc.labels).Inc()
		}
		want[tc.labels] += float64(tc.times)
	}
	for l, n := range want {
		if got := testutil.ToFloat64(vec.WithLabelValues(l.project, l.flow, l.outcome)); got != n {
			t.Errorf("%v: %v, want %v", l, got, n)
		}
	}
	if m := c.m.Load(); m == nil || len(*m) != 3 {
		t.Fatalf("cache holds %v, want the 3 label sets", m)
	}
}

// TestCounterCacheBound: beyond maxCachedExchangeCounters label sets the
// cache stops growing and the counters still count.
func TestCounterCacheBound(t *testing.T) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"project", "flow", "outcome"})
	c := counterCache{vec: vec}
	for i := range maxCachedExchangeCounters + 10 {
		c.counter(exchangeLabels{"p", fmt.Sprint(i), outcomeAnswered}).Inc()
	}
	c.counter(exchangeLabels{"p", fmt.Sprint(maxCachedExchangeCounters + 5), outcomeAnswered}).Inc()
	if n := len(*c.m.Load()); n != maxCachedExchangeCounters {
		t.Fatalf("cache holds %d label sets, want %d", n, maxCachedExchangeCounters)
	}
	if got := testutil.ToFloat64(vec.WithLabelValues("p", fmt.Sprint(maxCachedExchangeCounters+5), outcomeAnswered)); got != 2 {
		t.Fatalf("uncached label set counted %v, want 2", got)
	}
}

// TestCounterCacheInvalidUTF8: a label value that is not UTF-8 panics as
// WithLabelValues does (safeRecord recovers it) and is never cached.
func TestCounterCacheInvalidUTF8(t *testing.T) {
	c := counterCache{vec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"project", "flow", "outcome"})}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic for a label value that is not UTF-8")
			}
		}()
		c.counter(exchangeLabels{"p", "\xff", outcomeAnswered})
	}()
	if c.m.Load() != nil {
		t.Fatal("an invalid label set was cached")
	}
}
