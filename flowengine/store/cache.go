// Package store holds the small storage interfaces behind state that
// outlives one request: caches, counters and rate limiters,
// key value maps, OAuth tokens and the developer/app/API product store.
// Each interface has an embedded default (memory, or files for products)
// so one binary works alone, and a Redis implementation, selected by Open,
// for several replicas. docs/state.md describes semantics and outages.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrTooLarge is returned by Cache.Set when one entry can never fit the
// cache's size bound. The entry is not stored.
var ErrTooLarge = errors.New("store: entry larger than the cache bound")

// Cache is a byte-value cache with a per-entry time to live.
//
// Get returns (nil, false, nil) for a missing or expired key. Set replaces
// any existing value; a ttl <= 0 stores nothing and deletes the key.
// Implementations are safe for concurrent use.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}
