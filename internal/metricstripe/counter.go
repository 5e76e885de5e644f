package metricstripe

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Counter is a striped prometheus.Counter without labels: it collects as
// prometheus.NewCounter with the same options would, created timestamp
// included.
type Counter struct {
	Count
	desc    *prometheus.Desc
	created time.Time
}

// NewCounter returns a zero counter named by opts.
func NewCounter(opts prometheus.CounterOpts) *Counter {
	return &Counter{
		Count:   NewCount(),
		desc:    prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, nil, opts.ConstLabels),
		created: time.Now(),
	}
}

// Describe implements prometheus.Collector.
func (c *Counter) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *Counter) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(c.desc, prometheus.CounterValue, c.Value(), c.created)
}

// Gauge is a striped integer prometheus.Gauge without labels, that goes up
// and down by whole steps. Its shards are a Count's, holding negative
// steps as their two's complement, so that their sum is the gauge.
type Gauge struct {
	c    Count
	desc *prometheus.Desc
}

// NewGauge returns a zero gauge named by opts.
func NewGauge(opts prometheus.GaugeOpts) *Gauge {
	return &Gauge{
		c:    NewCount(),
		desc: prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, nil, opts.ConstLabels),
	}
}

// Add adds d, which may be negative.
func (g *Gauge) Add(d int64) { g.c.add(uint64(d)) }

// AddAt adds d, which may be negative, to shard s (see Shard).
func (g *Gauge) AddAt(s int, d int64) { g.c.addAt(s, uint64(d)) }

// Value returns the gauge, the sum of the shards.
func (g *Gauge) Value() float64 { return float64(int64(g.c.sum())) }

// Describe implements prometheus.Collector.
func (g *Gauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector.
func (g *Gauge) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.Value())
}
