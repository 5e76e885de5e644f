package store

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"
)

// entryOverhead is the bookkeeping cost charged per entry on top of the key
// and value lengths, so that many tiny entries cannot grow memory unbounded.
const entryOverhead = 64

// Memory is an in-process Cache bounded by a number of bytes. Entries
// expire after their TTL; when the bound is reached the least recently used
// entries are evicted. The zero value is not usable: call NewMemory.
type Memory struct {
	mu       sync.Mutex
	maxBytes int64
	used     int64
	lru      *list.List // front = most recently used; values are *memEntry
	items    map[string]*list.Element
	now      func() time.Time
}

type memEntry struct {
	key     string
	val     []byte
	expires time.Time
	size    int64
}

// NewMemory returns a Memory cache holding at most maxBytes bytes of keys,
// values and per-entry overhead. now is the clock; nil means time.Now.
func NewMemory(maxBytes int64, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{maxBytes: maxBytes, lru: list.New(), items: map[string]*list.Element{}, now: now}
}

// Get returns a copy of the value stored under key if it has not expired.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("store: get: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.items[key]
	if !ok {
		return nil, false, nil
	}
	e := el.Value.(*memEntry)
	if !m.now().Before(e.expires) {
		m.remove(el)
		return nil, false, nil
	}
	m.lru.MoveToFront(el)
	return append([]byte(nil), e.val...), true, nil
}

// Set stores a copy of val under key for ttl. A ttl <= 0 deletes the key.
// An entry larger than the whole bound returns ErrTooLarge.
func (m *Memory) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: set: %w", err)
	}
	size := int64(len(key)+len(val)) + entryOverhead
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.items[key]; ok {
		m.remove(el)
	}
	if ttl <= 0 {
		return nil
	}
	if size > m.maxBytes {
		return fmt.Errorf("store: set %d bytes (bound %d): %w", size, m.maxBytes, ErrTooLarge)
	}
	now := m.now()
	if m.used+size > m.maxBytes {
		m.evictExpired(now)
	}
	for m.used+size > m.maxBytes {
		m.remove(m.lru.Back())
	}
	e := &memEntry{key: key, val: append([]byte(nil), val...), expires: now.Add(ttl), size: size}
	m.items[key] = m.lru.PushFront(e)
	m.used += size
	return nil
}

// Delete removes key. Deleting a missing key is not an error.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: delete: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.items[key]; ok {
		m.remove(el)
	}
	return nil
}

// Len returns the number of entries held, expired ones included until they
// are noticed.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// Bytes returns the bytes currently charged against the bound.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used
}

// evictExpired drops every expired entry. It runs only when a Set would
// otherwise evict live entries, so expired data never pushes out live data.
func (m *Memory) evictExpired(now time.Time) {
	for el := m.lru.Back(); el != nil; {
		prev := el.Prev()
		if !now.Before(el.Value.(*memEntry).expires) {
			m.remove(el)
		}
		el = prev
	}
}

func (m *Memory) remove(el *list.Element) {
	e := m.lru.Remove(el).(*memEntry)
	delete(m.items, e.key)
	m.used -= e.size
}
