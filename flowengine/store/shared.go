package store

import (
	"context"
	"sync"
)

var (
	memoryOnce   sync.Once
	memoryStores *Stores
)

// MemoryStores returns the process-wide embedded stores: what a single flowproc
// uses when no Redis URL is configured. Every caller shares them, so two
// projects' quotas with one identifier count together, as they would in
// Redis.
func MemoryStores() *Stores {
	memoryOnce.Do(func() {
		memoryStores, _ = OpenConfig(context.Background(), Config{})
	})
	return memoryStores
}
