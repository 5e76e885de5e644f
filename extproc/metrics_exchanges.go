package extproc

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowproc/flowproc/internal/metricstripe"
)

// maxCachedExchangeCounters bounds exchangeCounters' striped counters:
// label sets beyond it are counted in a client_golang CounterVec, as
// without the cache.
const maxCachedExchangeCounters = 1024

// exchangeLabels are flowproc_exchanges_total's label values.
type exchangeLabels struct{ project, flow, outcome string }

// exchangeSeries is one label set's striped count and the time it was
// first counted (its created timestamp, as a CounterVec child has).
type exchangeSeries struct {
	n       metricstripe.Count
	created time.Time
	l       exchangeLabels // its key in the map
}

// seriesHint is the series an exchange counted last. A pooled exchange
// keeps it (recycle): the next stream it serves mostly has the same
// labels, and then skips the map lookup, which hashes and compares the
// three strings.
type seriesHint struct {
	c *exchangeCounters
	e *exchangeSeries
}

// incHinted is inc through h, which it updates.
func (c *exchangeCounters) incHinted(h *seriesHint, sh int, l exchangeLabels) {
	if h.c == c && h.e.l == l {
		h.e.n.IncAt(sh)
		return
	}
	if e := c.inc(sh, l); e != nil {
		*h = seriesHint{c, e}
	}
}

// exchangeCounters is flowproc_exchanges_total, which every exchange
// increments. A CounterVec's WithLabelValues validates the values as
// UTF-8, hashes them and takes the vec's read lock on every call (about
// 170 ns per exchange on one core, more with two recording), and its
// counter is one word shared by every core. Here a label set resolves to a
// striped count (internal/metricstripe) through a map read with one atomic
// load and replaced whole on a miss. Series are never deleted, as the vec
// never deletes one. It is a prometheus.Collector that describes and
// collects itself as that vec would.
type exchangeCounters struct {
	desc *prometheus.Desc
	m    atomic.Pointer[map[exchangeLabels]*exchangeSeries]
	mu   sync.Mutex // serialises additions to m
	// overflow counts the label sets beyond maxCachedExchangeCounters. It
	// is not registered: Collect collects it.
	overflow *prometheus.CounterVec
}

// newExchangeCounters returns flowproc_exchanges_total for opts.
func newExchangeCounters(opts prometheus.CounterOpts) *exchangeCounters {
	labels := []string{"project", "flow", "outcome"}
	return &exchangeCounters{
		desc:     prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, labels, opts.ConstLabels),
		overflow: prometheus.NewCounterVec(opts, labels),
	}
}

// inc counts one exchange with labels l, on metric shard sh
// (metricstripe.Shard), and returns the series it counted in; nil when l
// went to the overflow vec. A label value that is not UTF-8 panics, as
// WithLabelValues does (record's caller recovers it).
func (c *exchangeCounters) inc(sh int, l exchangeLabels) *exchangeSeries {
	m := c.m.Load()
	if m != nil {
		if e, ok := (*m)[l]; ok {
			e.n.IncAt(sh)
			return e
		}
		if len(*m) >= maxCachedExchangeCounters {
			// Full for good (series are never removed): no lock.
			c.overflow.WithLabelValues(l.project, l.flow, l.outcome).Inc()
			return nil
		}
	}
	return c.miss(sh, l)
}

// miss counts l through the overflow vec when the cache is full (and
// returns nil), and otherwise adds l to a copy of the map.
func (c *exchangeCounters) miss(sh int, l exchangeLabels) *exchangeSeries {
	for _, v := range [...]string{l.project, l.flow, l.outcome} {
		if !utf8.ValidString(v) {
			// As WithLabelValues does; safeRecord recovers it.
			panic(fmt.Sprintf("flowproc_exchanges_total: label value %q is not valid UTF-8", v))
		}
	}
	c.mu.Lock()
	old := c.m.Load()
	n := 0
	if old != nil {
		n = len(*old)
		if e, ok := (*old)[l]; ok { // added since inc looked
			c.mu.Unlock()
			e.n.IncAt(sh)
			return e
		}
	}
	if n >= maxCachedExchangeCounters {
		c.mu.Unlock()
		c.overflow.WithLabelValues(l.project, l.flow, l.outcome).Inc()
		return nil
	}
	m := make(map[exchangeLabels]*exchangeSeries, n+1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	// The key outlives the exchange: copies, not views of a run's memory.
	key := exchangeLabels{strings.Clone(l.project), strings.Clone(l.flow), strings.Clone(l.outcome)}
	e := &exchangeSeries{n: metricstripe.NewCount(), created: time.Now(), l: key}
	m[key] = e
	c.m.Store(&m)
	c.mu.Unlock()
	e.n.IncAt(sh)
	return e
}

// Describe implements prometheus.Collector.
func (c *exchangeCounters) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *exchangeCounters) Collect(ch chan<- prometheus.Metric) {
	if m := c.m.Load(); m != nil {
		for l, e := range *m {
			ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(c.desc, prometheus.CounterValue, e.n.Value(), e.created, l.project, l.flow, l.outcome)
		}
	}
	c.overflow.Collect(ch)
}
