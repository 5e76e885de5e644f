package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryCounter is the in-process Counter. It is exact and atomic within
// one process; use the Redis counter to share counts between replicas.
type MemoryCounter struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]*counterEntry
	ops     int
}

type counterEntry struct {
	start, end time.Time // Calendar/Flexi window
	count      int64
	width      time.Duration   // Rolling bucket width
	buckets    map[int64]int64 // Rolling: bucket index -> count
	expires    time.Time
}

// NewMemoryCounter returns an empty MemoryCounter; now is the clock (nil
// means time.Now).
func NewMemoryCounter(now func() time.Time) *MemoryCounter {
	if now == nil {
		now = time.Now
	}
	return &MemoryCounter{now: now, entries: map[string]*counterEntry{}}
}

// Incr implements Counter.
func (m *MemoryCounter) Incr(ctx context.Context, key string, n int64, w Window) (Usage, error) {
	return m.do(ctx, "incr", key, counterOp{n: n, limit: -1}, w)
}

// Take implements Counter.
func (m *MemoryCounter) Take(ctx context.Context, key string, n, limit int64, w Window) (Usage, error) {
	if limit < 0 {
		return Usage{}, fmt.Errorf("store: take: limit %d: %w", limit, ErrInvalid)
	}
	return m.do(ctx, "take", key, counterOp{n: n, limit: limit}, w)
}

// Get implements Counter.
func (m *MemoryCounter) Get(ctx context.Context, key string, w Window) (Usage, error) {
	return m.do(ctx, "get", key, counterOp{limit: -1, get: true}, w)
}

// Reset implements Counter.
func (m *MemoryCounter) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: counter reset: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range []WindowKind{Calendar, Flexi, Rolling} {
		delete(m.entries, kindPrefix(k)+key)
	}
	return nil
}

// Len returns the number of keys held, expired ones included until swept.
func (m *MemoryCounter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *MemoryCounter) do(ctx context.Context, op, key string, o counterOp, w Window) (Usage, error) {
	if err := ctx.Err(); err != nil {
		return Usage{}, fmt.Errorf("store: counter %s: %w", op, err)
	}
	if err := checkCounterArgs(o.n, o.limit, w); err != nil {
		return Usage{}, fmt.Errorf("store: counter %s: %w", op, err)
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	k := kindPrefix(w.Kind) + key
	e := m.entries[k]
	if e != nil && !now.Before(e.expires) {
		delete(m.entries, k)
		e = nil
	}
	if w.Kind == Rolling {
		return m.rolling(k, e, now, o, w), nil
	}
	var start, end time.Time
	if w.Kind == Calendar {
		start, end = w.calendarBounds(now)
		if e != nil && e.start.Before(start) {
			e = nil
		}
	} else if e == nil {
		start, end = now, w.flexiEnd(now)
	}
	if e == nil {
		if o.get || (o.n == 0 && o.limit < 0) {
			return Usage{Allowed: true}, nil
		}
		e = &counterEntry{start: start, end: end, expires: end}
	}
	if o.limit >= 0 && e.count+o.n > o.limit {
		if e.count == 0 {
			return Usage{Count: 0, Allowed: false}, nil
		}
		m.entries[k] = e
		return Usage{Count: e.count, ResetAt: e.end}, nil
	}
	e.count += o.n
	if e.count == 0 {
		return Usage{Allowed: true}, nil
	}
	m.entries[k] = e
	return Usage{Count: e.count, ResetAt: e.end, Allowed: true}, nil
}

func (m *MemoryCounter) rolling(k string, e *counterEntry, now time.Time, o counterOp, w Window) Usage {
	width, nb := w.buckets()
	if e != nil && e.width != width {
		e = nil
	}
	idx := floorDiv(now.UnixMilli(), width.Milliseconds())
	var sum int64
	if e != nil {
		for b, c := range e.buckets {
			if b < idx-nb {
				delete(e.buckets, b)
				continue
			}
			sum += c
		}
	}
	resetAt := time.UnixMilli((idx + 1) * width.Milliseconds())
	allowed := o.limit < 0 || sum+o.n <= o.limit
	if o.get || !allowed || o.n == 0 {
		if sum == 0 {
			return Usage{Allowed: allowed}
		}
		return Usage{Count: sum, ResetAt: resetAt, Allowed: allowed}
	}
	if e == nil {
		e = &counterEntry{width: width, buckets: map[int64]int64{}}
		m.entries[k] = e
	}
	e.buckets[idx] += o.n
	e.expires = time.UnixMilli((idx + 1 + nb) * width.Milliseconds())
	return Usage{Count: sum + o.n, ResetAt: resetAt, Allowed: true}
}

// sweep drops expired keys once the number of operations since the last
// sweep reaches the number of keys, so memory stays proportional to live
// keys at amortised O(1) cost per operation.
func (m *MemoryCounter) sweep(now time.Time) {
	m.ops++
	if m.ops < len(m.entries) || m.ops < 64 {
		return
	}
	m.ops = 0
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
}
