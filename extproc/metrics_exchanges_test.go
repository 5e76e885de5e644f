package extproc

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

var exchangesOpts = prometheus.CounterOpts{Name: "x_total", Help: "X."}

// scrapeText is c's exposition, gathered through a pedantic registry.
func scrapeText(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	r := prometheus.NewPedanticRegistry()
	r.MustRegister(c)
	mfs, err := r.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestExchangeCountersMatchVec: exchangeCounters scrapes as a CounterVec
// given the same increments would, with few label sets, and with more
// than the cache holds (the rest counted in the overflow vec).
func TestExchangeCountersMatchVec(t *testing.T) {
	cases := []struct {
		name string
		sets int
	}{
		{"none", 0},
		{"a few", 3},
		{"beyond the cache", maxCachedExchangeCounters + 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := newExchangeCounters(exchangesOpts)
			want := prometheus.NewCounterVec(exchangesOpts, []string{"project", "flow", "outcome"})
			var hint seriesHint // as an exchange object carries it from stream to stream
			for i := range c.sets {
				l := exchangeLabels{"shop", fmt.Sprintf("api/%d.xml", i), []string{outcomeForwarded, outcomeAnswered}[i%2]}
				for range 1 + i%3 {
					got.incHinted(&hint, i, l)
					want.WithLabelValues(l.project, l.flow, l.outcome).Inc()
				}
			}
			if c.sets > 0 {
				got.inc(0, exchangeLabels{"", "", outcomeCancelled})
				want.WithLabelValues("", "", outcomeCancelled).Inc()
			}
			if err := testutil.CollectAndCompare(got, strings.NewReader(scrapeText(t, want))); err != nil {
				t.Fatal(err)
			}
			if m := got.m.Load(); c.sets > maxCachedExchangeCounters && len(*m) != maxCachedExchangeCounters {
				t.Fatalf("cache holds %d label sets, want %d", len(*m), maxCachedExchangeCounters)
			}
		})
	}
}

// TestSeriesHint: a hint counts for its own counters and labels only; an
// exchange object that moves to another server's counters, or to other
// labels, counts there.
func TestSeriesHint(t *testing.T) {
	a, b := newExchangeCounters(exchangesOpts), newExchangeCounters(exchangesOpts)
	wantA := prometheus.NewCounterVec(exchangesOpts, []string{"project", "flow", "outcome"})
	wantB := prometheus.NewCounterVec(exchangesOpts, []string{"project", "flow", "outcome"})
	var hint seriesHint
	for i, step := range []struct {
		c    *exchangeCounters
		want *prometheus.CounterVec
		l    exchangeLabels
	}{
		{a, wantA, exchangeLabels{"p", "f.xml", outcomeForwarded}},
		{a, wantA, exchangeLabels{"p", "f.xml", outcomeForwarded}},
		{b, wantB, exchangeLabels{"p", "f.xml", outcomeForwarded}},
		{a, wantA, exchangeLabels{"p", "f.xml", outcomeForwarded}},
		{a, wantA, exchangeLabels{"p", "f.xml", outcomeAnswered}},
		{a, wantA, exchangeLabels{"q", "f.xml", outcomeAnswered}},
		{a, wantA, exchangeLabels{"q", "g.xml", outcomeAnswered}},
		{b, wantB, exchangeLabels{"q", "g.xml", outcomeAnswered}},
		{b, wantB, exchangeLabels{"q", "g.xml", outcomeAnswered}},
	} {
		step.c.incHinted(&hint, i, step.l)
		step.want.WithLabelValues(step.l.project, step.l.flow, step.l.outcome).Inc()
	}
	if err := testutil.CollectAndCompare(a, strings.NewReader(scrapeText(t, wantA))); err != nil {
		t.Error(err)
	}
	if err := testutil.CollectAndCompare(b, strings.NewReader(scrapeText(t, wantB))); err != nil {
		t.Error(err)
	}
}

// TestExchangeCountersInvalidUTF8: a label value that is not UTF-8 panics
// as WithLabelValues does (safeRecord recovers it) and is never cached.
func TestExchangeCountersInvalidUTF8(t *testing.T) {
	c := newExchangeCounters(exchangesOpts)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic for a label value that is not UTF-8")
			}
		}()
		c.inc(0, exchangeLabels{"p", "\xff", outcomeAnswered})
	}()
	if c.m.Load() != nil {
		t.Fatal("an invalid label set was cached")
	}
}

// TestExchangeCountersConcurrentMisses: goroutines counting the same and
// different new label sets at once, past the cache's bound, lose no
// increment and make no duplicate series.
func TestExchangeCountersConcurrentMisses(t *testing.T) {
	c := newExchangeCounters(exchangesOpts)
	const workers, rounds, sets = 16, 3, maxCachedExchangeCounters + 64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				for i := range sets {
					// Every worker counts every set once a round, starting
					// at a different one, so misses on the same set and on
					// different sets overlap.
					c.inc(w, exchangeLabels{"p", fmt.Sprint((i + w*97 + r) % sets), outcomeForwarded})
				}
			}
		})
	}
	wg.Wait()
	r := prometheus.NewPedanticRegistry()
	r.MustRegister(c)
	mfs, err := r.Gather() // a duplicate series is a Gather error
	if err != nil {
		t.Fatal(err)
	}
	ms := mfs[0].GetMetric()
	if len(ms) != sets {
		t.Fatalf("%d series, want %d", len(ms), sets)
	}
	cached := 0
	for _, m := range ms {
		if v := m.GetCounter().GetValue(); v != workers*rounds {
			t.Fatalf("%v: %v, want %d", m.GetLabel(), v, workers*rounds)
		}
		if m.GetCounter().GetCreatedTimestamp() != nil {
			cached++
		}
	}
	// Every series has a created timestamp, as a CounterVec child has:
	// the cached ones from the cache, the rest from the overflow vec.
	if cached != sets {
		t.Fatalf("%d of %d series have a created timestamp", cached, sets)
	}
}
