package upstream

import (
	"os"
	"sync"

	"github.com/flowproc/flowproc/flowengine/store"
)

// SharedCacheBytes bounds the in-memory HTTP cache of a client built with
// NewSharedWith and no cache.
const SharedCacheBytes = 64 << 20

var (
	sharedOnce sync.Once
	shared     *HTTP
)

// Shared returns the process-wide HTTP client: one pool of connections for
// every project that is given no client of its own, whose HTTP cache is the
// process's memory state store (store.MemoryStores().Cache), the same cache
// Apigee's cache policies use. Its defaults are StandardDefaults with the
// process environment's FLAT_* timeout variables; a malformed variable is
// ignored here (front ends read the same variables for their own
// defaults and report it at load).
func Shared() *HTTP {
	sharedOnce.Do(func() {
		shared = NewSharedWith(store.MemoryStores().Cache)
	})
	return shared
}

// NewSharedWith returns a client like Shared whose HTTP cache is cache
// (nil: a memory cache of SharedCacheBytes): flowproc serve passes the
// Redis state store's cache, so FLAT's use-http-cache and Apigee's cache
// policies share one store across replicas.
func NewSharedWith(cache store.Cache) *HTTP {
	d, err := DefaultsFromEnv(os.Getenv)
	if err != nil {
		d = StandardDefaults()
	}
	if cache == nil {
		cache = store.NewMemory(SharedCacheBytes, nil)
	}
	return NewHTTP(HTTPOptions{Defaults: d, Cache: cache})
}
