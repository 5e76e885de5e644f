// Package metricstripe holds Prometheus metrics that every exchange
// updates from every core: a counter, a gauge and a histogram whose values
// are spread over cache-line-sized shards, one per P as far as the
// scheduler keeps a goroutine on its P.
//
// client_golang keeps a counter's value in one word, and a histogram's in a
// word shared by all observations (countAndHotIdx) plus a sum updated with
// a compare-and-swap loop. When two cores update the same metric, its lines
// move between them on every update. In a profile of
// BenchmarkProcessExampleParallel (extproc: the example's proxied route
// served from both cores of the development machine) an exchange's two
// counter increments took about 270 ns together and a histogram Observe
// about 150 ns. BenchmarkContended, both cores updating in a tight loop,
// puts a client_golang histogram Observe at about 150 ns and a striped one
// at 12 ns. Reading sums the shards, which only a scrape does.
//
// The metrics are prometheus.Collectors that describe and collect
// themselves as the client_golang metric of the same options would, created
// timestamp included. One difference: a histogram scraped while
// observations run may report a sum that already includes an observation
// its count and buckets do not show yet (client_golang swaps hot and cold
// copies to avoid that); the count always equals the buckets' total.
package metricstripe

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// shards is the number of shards per metric: one per P up to 8 Ps,
// shared round robin beyond.
const shards = 8

// cacheLine is the size that shards are aligned and padded to.
const cacheLine = 64

// nextShard hands out shard indexes round robin.
var nextShard atomic.Uint32

// shardIndexes are the values shardIndex hands out: pointers into this
// array, so that refilling the pool never allocates.
var shardIndexes = func() (a [shards]int) {
	for i := range a {
		a[i] = i
	}
	return a
}()

// shardIndex caches a shard index per P: sync.Pool keeps a private item
// per P, so a goroutine gets the index its core used last, and the lines
// of that shard stay in that core's cache. When the collector empties the
// pool (or the race detector drops an item), or a goroutine moves to
// another P between Get and Put, a P gets another index; nothing is lost,
// since the shards live in the metric.
var shardIndex = sync.Pool{New: func() any {
	return &shardIndexes[nextShard.Add(1)%shards]
}}

// shard returns the calling P's shard index.
func shard() int {
	p := shardIndex.Get().(*int)
	i := *p
	shardIndex.Put(p)
	return i
}

// Shard returns the calling P's shard index, for the At methods (IncAt,
// AddAt, ObserveAt) of a short task that updates several metrics: it pays
// for finding the shard once. Any index is correct (the shards are
// summed); one the task got from the core it runs on keeps the updates in
// that core's cache lines.
func Shard() int { return shard() }

// at bounds a shard index a caller passed.
func at(s int) int { return int(uint(s) % shards) }

// wordsPerLine is how many 8-byte words a cache line holds.
const wordsPerLine = cacheLine / 8

// lines returns n cache lines of words, the first word on a line
// boundary: the slice is cut from one a line longer at the first aligned
// word, so alignment does not depend on the allocator's size classes.
func lines(n int) []atomic.Uint64 {
	buf := make([]atomic.Uint64, (n+1)*wordsPerLine)
	off := (cacheLine - int(uintptr(unsafe.Pointer(&buf[0]))%cacheLine)) % cacheLine
	start := off / 8
	return buf[start : start+n*wordsPerLine : start+n*wordsPerLine]
}

// Count is a striped count without a Prometheus identity, for collectors
// that hold many of them (one per label set). Make it with NewCount.
type Count struct{ w []atomic.Uint64 }

// NewCount returns a zero count.
func NewCount() Count { return Count{w: lines(shards)} }

// Inc adds one.
func (c Count) Inc() { c.add(1) }

// IncAt adds one to shard s (see Shard).
func (c Count) IncAt(s int) { c.addAt(s, 1) }

// add adds d to the calling P's shard. Wrapping is intended: a Gauge adds
// negative steps as their two's complement.
func (c Count) add(d uint64) { c.w[shard()*wordsPerLine].Add(d) }

// addAt adds d to shard s.
func (c Count) addAt(s int, d uint64) { c.w[at(s)*wordsPerLine].Add(d) }

// sum returns the shards' total, modulo 2^64.
func (c Count) sum() uint64 {
	var n uint64
	for i := 0; i < len(c.w); i += wordsPerLine {
		n += c.w[i].Load()
	}
	return n
}

// Value returns the count, the sum of the shards.
func (c Count) Value() float64 { return float64(c.sum()) }
