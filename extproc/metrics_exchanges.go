package extproc

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// maxCachedExchangeCounters bounds counterCache: label sets beyond it are
// resolved through the vec on every exchange, as without the cache.
const maxCachedExchangeCounters = 1024

// exchangeLabels are flowproc_exchanges_total's label values.
type exchangeLabels struct{ project, flow, outcome string }

// counterCache resolves flowproc_exchanges_total's counter for an
// exchange's labels. CounterVec.WithLabelValues validates the values as
// UTF-8, hashes them and takes the vec's read lock on every call: about
// 170 ns per exchange on one core, 250 ns with both cores recording (the
// lock's reader count moves between them). The cache is a map replaced
// whole on a miss, read with one atomic load and no lock. The vec never
// deletes a series, so a cached counter stays the one the vec exports.
type counterCache struct {
	vec *prometheus.CounterVec
	m   atomic.Pointer[map[exchangeLabels]prometheus.Counter]
	mu  sync.Mutex // serialises misses
}

// counter returns the counter for l.
func (c *counterCache) counter(l exchangeLabels) prometheus.Counter {
	if m := c.m.Load(); m != nil {
		if ctr, ok := (*m)[l]; ok {
			return ctr
		}
	}
	return c.miss(l)
}

// miss resolves l through the vec (which validates the values) and adds it
// to a copy of the map, unless the map is full.
func (c *counterCache) miss(l exchangeLabels) prometheus.Counter {
	ctr := c.vec.WithLabelValues(l.project, l.flow, l.outcome)
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	n := 0
	if old != nil {
		n = len(*old)
	}
	if n >= maxCachedExchangeCounters {
		return ctr
	}
	m := make(map[exchangeLabels]prometheus.Counter, n+1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	// The key outlives the exchange: copies, not views of a run's memory.
	m[exchangeLabels{strings.Clone(l.project), strings.Clone(l.flow), strings.Clone(l.outcome)}] = ctr
	c.m.Store(&m)
	return ctr
}
