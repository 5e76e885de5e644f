// Package metricstripe holds Prometheus metrics that every exchange
// updates from every core: a counter, a gauge and a histogram whose values
// are spread over cache-line-sized shards, one per P.
//
// client_golang keeps a counter's value in one word, and a histogram's in a
// word shared by all observations (countAndHotIdx) plus a sum updated with
// a compare-and-swap loop. When two cores update the same metric, its lines
// move between them on every update. In BenchmarkProcessExampleParallel
// (the example's proxied route from both cores of the development machine)
// the two counter increments of an exchange took about 270 ns together,
// and a histogram Observe about 150 ns; striped, each is a few nanoseconds
// (BenchmarkContended). Reading sums the shards, which only a scrape does.
//
// A HistogramSet describes and collects itself as the client_golang
// HistogramVec of the same options would: a scrape cannot tell them apart.
// A Counter or Gauge is exported through prometheus.NewCounterFunc or
// NewGaugeFunc with its Value method.
package metricstripe

import (
	"sync"
	"sync/atomic"
)

// shards is the number of shards per metric: one per P up to 8 Ps,
// shared round robin beyond.
const shards = 8

// cacheLine is the padding unit that keeps shards on separate lines.
const cacheLine = 64

// nextShard hands out shard indexes round robin.
var nextShard atomic.Uint32

// shardIndex caches a shard index per P: sync.Pool keeps a private item
// per P, so a goroutine gets the index its core used last, and the lines
// of that shard stay in that core's cache. When the collector empties the
// pool a P gets the next index round robin; nothing is lost, since the
// shards themselves live in the metric.
var shardIndex = sync.Pool{New: func() any {
	i := int(nextShard.Add(1)-1) % shards
	return &i
}}

// shard returns the calling P's shard index.
func shard() int {
	p := shardIndex.Get().(*int)
	i := *p
	shardIndex.Put(p)
	return i
}

// paddedUint is a uint64 alone on its cache line.
type paddedUint struct {
	v atomic.Uint64
	_ [cacheLine - 8]byte
}

// paddedInt is an int64 alone on its cache line.
type paddedInt struct {
	v atomic.Int64
	_ [cacheLine - 8]byte
}

// Counter is a count that only goes up. Make it with NewCounter: inside
// another struct its first and last shards could share lines with the
// struct's other fields.
type Counter struct{ s [shards]paddedUint }

// NewCounter returns a zero counter. Its size, a multiple of the cache
// line, puts it in a size class whose objects start on a line boundary.
func NewCounter() *Counter { return new(Counter) }

// Inc adds one.
func (c *Counter) Inc() { c.s[shard()].v.Add(1) }

// Value returns the count, the sum of the shards.
func (c *Counter) Value() float64 {
	var n uint64
	for i := range c.s {
		n += c.s[i].v.Load()
	}
	return float64(n)
}

// Gauge is an integer that goes up and down. Make it with NewGauge, for
// the reason given at Counter.
type Gauge struct{ s [shards]paddedInt }

// NewGauge returns a zero gauge.
func NewGauge() *Gauge { return new(Gauge) }

// Add adds d, which may be negative.
func (g *Gauge) Add(d int64) { g.s[shard()].v.Add(d) }

// Value returns the gauge, the sum of the shards.
func (g *Gauge) Value() float64 {
	var n int64
	for i := range g.s {
		n += g.s[i].v.Load()
	}
	return float64(n)
}
