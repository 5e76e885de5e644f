package upstream

import (
	"os"
	"sync"

	"github.com/flowproc/flowproc/flowengine/store"
)

// SharedCacheBytes bounds the in-memory HTTP cache of the Shared client.
const SharedCacheBytes = 64 << 20

var (
	sharedOnce sync.Once
	shared     *HTTP
)

// Shared returns the process-wide HTTP client: one pool of connections and
// one in-memory HTTP cache (SharedCacheBytes) for every project that is
// given no client of its own. Its defaults are StandardDefaults with the
// process environment's FLAT_* timeout variables; a malformed variable is
// ignored here (front ends read the same variables for their own
// defaults and report it at load).
func Shared() *HTTP {
	sharedOnce.Do(func() {
		d, err := DefaultsFromEnv(os.Getenv)
		if err != nil {
			d = StandardDefaults()
		}
		shared = NewHTTP(HTTPOptions{Defaults: d, Cache: store.NewMemory(SharedCacheBytes, nil)})
	})
	return shared
}
