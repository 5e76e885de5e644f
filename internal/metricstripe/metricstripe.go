// Package metricstripe holds a Prometheus histogram that every exchange
// updates from every core, its counts spread over cache-line-sized shards,
// one per P.
//
// client_golang's histogram updates a word shared by all observations
// (countAndHotIdx) and the sum with a compare-and-swap loop on another, so
// when two cores observe at once those lines move between them on every
// observation and the compare-and-swap retries. Measured on the 2-core
// development machine with both cores observing all the time
// (BenchmarkContended): about 150 ns per Observe there, 12 ns striped.
// Reading sums the shards, which only a scrape does.
//
// Counters are not striped: one atomic add on a shared line costs about
// 14 ns contended against 6 ns striped, not worth a collector of their
// own.
//
// A HistogramSet describes and collects itself as the client_golang
// HistogramVec of the same options would: a scrape cannot tell them apart.
package metricstripe

import (
	"sync"
	"sync/atomic"
)

// shards is the number of shards per histogram: one per P up to 8 Ps,
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
