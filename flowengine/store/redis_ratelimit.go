package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcraScript runs one GCRA step atomically. KEYS[1] holds the TAT in Unix
// microseconds. ARGV now (µs), n, emission (µs), dvt (µs, burst*emission).
// Reply {allowed, retry_after_us}.
var gcraScript = redis.NewScript(`
local k = KEYS[1]
local now, n, t, dvt = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', k) or '0') or 0
if tat < now then tat = now end
local nxt = tat + n * t
local diff = nxt - now
if diff > dvt then
  return {0, diff - dvt}
end
redis.call('SET', k, string.format('%.0f', nxt), 'PX', string.format('%.0f', math.ceil(diff / 1000)))
return {1, 0}
`)

// RedisRateLimiter is the RateLimiter shared by replicas through Redis.
type RedisRateLimiter struct{ r *Redis }

// RateLimiter returns the RateLimiter backed by r.
func (r *Redis) RateLimiter() *RedisRateLimiter { return &RedisRateLimiter{r: r} }

// TryAcquire implements RateLimiter.
func (l *RedisRateLimiter) TryAcquire(ctx context.Context, key string, n int64, r Rate) (Decision, error) {
	if err := checkRateArgs(n, r); err != nil {
		return Decision{}, fmt.Errorf("store: rate acquire: %w", err)
	}
	if n > r.burst() {
		return Decision{RetryAfter: -1}, nil
	}
	ctx, cancel := l.r.opCtx(ctx)
	defer cancel()
	t := r.emission().Microseconds()
	v, err := gcraScript.Run(ctx, l.r.client, []string{l.r.prefix + "rate:" + key},
		l.r.now().UnixMicro(), n, t, t*r.burst()).Result()
	if err != nil {
		return Decision{}, l.r.fail("rate acquire", err)
	}
	res, err := int64s(v, 2)
	if err != nil {
		return Decision{}, err
	}
	return Decision{Allowed: res[0] == 1, RetryAfter: time.Duration(res[1]) * time.Microsecond}, nil
}
