package store

import (
	"testing"
	"time"
)

// backend builds one implementation of every interface on a clock, so
// that each semantic test runs against memory and Redis alike.
type backend struct {
	name string
	open func(t *testing.T, now func() time.Time) (Counter, RateLimiter, KV, Tokens)
}

var backends = []backend{
	{"memory", func(t *testing.T, now func() time.Time) (Counter, RateLimiter, KV, Tokens) {
		return NewMemoryCounter(now), NewMemoryRateLimiter(now), NewMemoryKV(now), NewMemoryTokens(now)
	}},
	{"redis", func(t *testing.T, now func() time.Time) (Counter, RateLimiter, KV, Tokens) {
		r := testRedis(t, now)
		return r.Counter(), r.RateLimiter(), r.KV(), r.Tokens()
	}},
}

// eachBackend runs f as a subtest per backend with a fake clock set to
// start (a real, recent instant: Redis expiries are real time).
func eachBackend(t *testing.T, f func(t *testing.T, c *fakeClock, cnt Counter, rl RateLimiter, kv KV, tok Tokens)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c := &fakeClock{t: time.Now().UTC().Truncate(time.Hour)}
			cnt, rl, kv, tok := b.open(t, c.now)
			f(t, c, cnt, rl, kv, tok)
		})
	}
}
