package upstream

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/store"
)

// TestSharedCacheIsTheStateStore: the process-wide client caches in the
// process's memory state store, the cache Apigee's cache policies use;
// NewSharedWith takes another (serve passes Redis's) or makes its own.
func TestSharedCacheIsTheStateStore(t *testing.T) {
	if Shared().cache != store.MemoryStores().Cache {
		t.Error("Shared() does not cache in store.MemoryStores().Cache")
	}
	c := store.NewMemory(1<<20, nil)
	if NewSharedWith(c).cache != c {
		t.Error("NewSharedWith ignores its cache")
	}
	if NewSharedWith(nil).cache == nil {
		t.Error("NewSharedWith(nil) has no cache")
	}
}
