package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// counterScript runs one Calendar or Flexi counter operation atomically.
// The hash holds s (window start ms), e (window end ms) and c (count).
// KEYS[1] key; ARGV mode ("c" calendar, "f" flexi), n, limit (-1: none),
// get (1/0), now, start, end (ms; the window a fresh count opens).
// Reply {count, end, allowed}.
var counterScript = redis.NewScript(`
local k = KEYS[1]
local mode, n, limit, get = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local now, s, e = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local cur = redis.call('HMGET', k, 's', 'e', 'c')
local cs, ce, cc = tonumber(cur[1]), tonumber(cur[2]), tonumber(cur[3])
local fresh = false
if cs == nil or ce == nil or cc == nil or now >= ce or (mode == 'c' and cs < s) then
  cs, ce, cc, fresh = s, e, 0, true
end
local allowed = limit < 0 or cc + n <= limit
if get or not allowed or n == 0 then
  return {cc, ce, allowed and 1 or 0}
end
if fresh then
  redis.call('DEL', k)
  redis.call('HSET', k, 's', string.format('%.0f', cs), 'e', string.format('%.0f', ce), 'c', string.format('%.0f', n))
  cc = n
else
  cc = redis.call('HINCRBY', k, 'c', string.format('%.0f', n))
end
redis.call('PEXPIRE', k, string.format('%.0f', ce - now))
return {cc, ce, 1}
`)

// rollingScript runs one Rolling counter operation atomically. The hash
// holds w (bucket width ms) and one field per bucket index.
// KEYS[1] key; ARGV n, limit, get, idx (current bucket), nb (buckets before
// it that count), width (ms), ttl (ms). Reply {count, allowed}.
var rollingScript = redis.NewScript(`
local k = KEYS[1]
local n, limit, get = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
local idxs, idx, nb, width, ttl = ARGV[4], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
local w = redis.call('HGET', k, 'w')
if w and w ~= width then redis.call('DEL', k) end
local all = redis.call('HGETALL', k)
local sum = 0
for i = 1, #all, 2 do
  if all[i] ~= 'w' then
    if tonumber(all[i]) < idx - nb then
      redis.call('HDEL', k, all[i])
    else
      sum = sum + tonumber(all[i + 1])
    end
  end
end
local allowed = limit < 0 or sum + n <= limit
if get or not allowed or n == 0 then
  return {sum, allowed and 1 or 0}
end
redis.call('HSET', k, 'w', width)
redis.call('HINCRBY', k, idxs, string.format('%.0f', n))
redis.call('PEXPIRE', k, ttl)
return {sum + n, 1}
`)

// RedisCounter is the Counter shared by replicas through Redis.
type RedisCounter struct{ r *Redis }

// Counter returns the Counter backed by r.
func (r *Redis) Counter() *RedisCounter { return &RedisCounter{r: r} }

// Incr implements Counter.
func (c *RedisCounter) Incr(ctx context.Context, key string, n int64, w Window) (Usage, error) {
	return c.do(ctx, "counter incr", key, counterOp{n: n, limit: -1}, w)
}

// Take implements Counter.
func (c *RedisCounter) Take(ctx context.Context, key string, n, limit int64, w Window) (Usage, error) {
	if limit < 0 {
		return Usage{}, fmt.Errorf("store: take: limit %d: %w", limit, ErrInvalid)
	}
	return c.do(ctx, "counter take", key, counterOp{n: n, limit: limit}, w)
}

// Get implements Counter.
func (c *RedisCounter) Get(ctx context.Context, key string, w Window) (Usage, error) {
	return c.do(ctx, "counter get", key, counterOp{limit: -1, get: true}, w)
}

// Reset implements Counter.
func (c *RedisCounter) Reset(ctx context.Context, key string) error {
	ctx, cancel := c.r.opCtx(ctx)
	defer cancel()
	keys := []string{c.key(Calendar, key), c.key(Flexi, key), c.key(Rolling, key)}
	if err := c.r.client.Del(ctx, keys...).Err(); err != nil {
		return c.r.fail("counter reset", err)
	}
	return nil
}

func (c *RedisCounter) key(k WindowKind, key string) string {
	return c.r.prefix + "cnt:" + kindPrefix(k) + key
}

func (c *RedisCounter) do(ctx context.Context, op, key string, o counterOp, w Window) (Usage, error) {
	if err := checkCounterArgs(o.n, o.limit, w); err != nil {
		return Usage{}, fmt.Errorf("store: %s: %w", op, err)
	}
	ctx, cancel := c.r.opCtx(ctx)
	defer cancel()
	now := c.r.now()
	nowMs := now.UnixMilli()
	get := "0"
	if o.get {
		get = "1"
	}
	if w.Kind == Rolling {
		width, nb := w.buckets()
		wm := width.Milliseconds()
		idx := floorDiv(nowMs, wm)
		ttl := (idx+1+nb)*wm - nowMs
		v, err := rollingScript.Run(ctx, c.r.client, []string{c.key(Rolling, key)},
			o.n, o.limit, get, strconv.FormatInt(idx, 10), nb, strconv.FormatInt(wm, 10), ttl).Result()
		if err != nil {
			return Usage{}, c.r.fail(op, err)
		}
		r, err := int64s(v, 2)
		if err != nil {
			return Usage{}, err
		}
		u := Usage{Count: r[0], Allowed: r[1] == 1}
		if u.Count > 0 {
			u.ResetAt = time.UnixMilli((idx + 1) * wm)
		}
		return u, nil
	}
	mode, start, end := "f", now, w.flexiEnd(now)
	if w.Kind == Calendar {
		mode = "c"
		start, end = w.calendarBounds(now)
	}
	v, err := counterScript.Run(ctx, c.r.client, []string{c.key(w.Kind, key)},
		mode, o.n, o.limit, get, nowMs, start.UnixMilli(), end.UnixMilli()).Result()
	if err != nil {
		return Usage{}, c.r.fail(op, err)
	}
	r, err := int64s(v, 3)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Count: r[0], Allowed: r[2] == 1}
	if u.Count > 0 {
		u.ResetAt = time.UnixMilli(r[1])
	}
	return u, nil
}
