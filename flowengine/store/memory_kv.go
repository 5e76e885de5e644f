package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryKV is the in-process KV.
type MemoryKV struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]kvEntry
}

type kvEntry struct {
	value   string
	expires time.Time // zero: never
}

// NewMemoryKV returns an empty MemoryKV; now is the clock (nil means
// time.Now).
func NewMemoryKV(now func() time.Time) *MemoryKV {
	if now == nil {
		now = time.Now
	}
	return &MemoryKV{now: now, entries: map[string]kvEntry{}}
}

func (e kvEntry) live(now time.Time) bool { return e.expires.IsZero() || now.Before(e.expires) }

// Get implements KV.
func (m *MemoryKV) Get(ctx context.Context, scope Scope, mapName, key string) (string, bool, error) {
	k, err := kvArgs(ctx, "get", scope, mapName, key)
	if err != nil {
		return "", false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[k]
	if !ok {
		return "", false, nil
	}
	if !e.live(m.now()) {
		delete(m.entries, k)
		return "", false, nil
	}
	return e.value, true, nil
}

// Put implements KV.
func (m *MemoryKV) Put(ctx context.Context, scope Scope, mapName, key, value string, ttl time.Duration, override bool) error {
	k, err := kvArgs(ctx, "put", scope, mapName, key)
	if err != nil {
		return err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[k]; ok && !override && e.live(now) {
		return nil
	}
	e := kvEntry{value: value}
	if ttl > 0 {
		e.expires = now.Add(ttl)
	}
	m.entries[k] = e
	return nil
}

// Delete implements KV.
func (m *MemoryKV) Delete(ctx context.Context, scope Scope, mapName, key string) error {
	k, err := kvArgs(ctx, "delete", scope, mapName, key)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, k)
	return nil
}

func kvArgs(ctx context.Context, op string, scope Scope, mapName, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("store: kv %s: %w", op, err)
	}
	k, err := kvKey(scope, mapName, key)
	if err != nil {
		return "", fmt.Errorf("store: kv %s: %w", op, err)
	}
	return k, nil
}
