package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryRateLimiter is the in-process RateLimiter (GCRA).
type MemoryRateLimiter struct {
	mu   sync.Mutex
	now  func() time.Time
	tats map[string]int64 // key -> TAT in Unix microseconds
	ops  int
}

// NewMemoryRateLimiter returns an empty limiter; now is the clock (nil
// means time.Now).
func NewMemoryRateLimiter(now func() time.Time) *MemoryRateLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryRateLimiter{now: now, tats: map[string]int64{}}
}

// TryAcquire implements RateLimiter.
func (m *MemoryRateLimiter) TryAcquire(ctx context.Context, key string, n int64, r Rate) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, fmt.Errorf("store: rate acquire: %w", err)
	}
	if err := checkRateArgs(n, r); err != nil {
		return Decision{}, fmt.Errorf("store: rate acquire: %w", err)
	}
	now := m.now().UnixMicro()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	d, tat := gcra(m.tats[key], now, n, r)
	if d.Allowed {
		m.tats[key] = tat
	}
	return d, nil
}

// sweep drops keys whose TAT has passed (they behave exactly like absent
// keys), amortised over the operations.
func (m *MemoryRateLimiter) sweep(now int64) {
	m.ops++
	if m.ops < len(m.tats) || m.ops < 64 {
		return
	}
	m.ops = 0
	for k, t := range m.tats {
		if t <= now {
			delete(m.tats, k)
		}
	}
}
