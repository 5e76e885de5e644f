package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisKV is the KV shared by replicas through Redis; each entry is one
// string key, so entries expire individually.
type RedisKV struct{ r *Redis }

// KV returns the KV backed by r.
func (r *Redis) KV() *RedisKV { return &RedisKV{r: r} }

// Get implements KV.
func (s *RedisKV) Get(ctx context.Context, scope Scope, mapName, key string) (string, bool, error) {
	k, err := kvArgs(ctx, "get", scope, mapName, key)
	if err != nil {
		return "", false, err
	}
	ctx, cancel := s.r.opCtx(ctx)
	defer cancel()
	v, err := s.r.client.Get(ctx, s.r.prefix+"kv:"+k).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.r.fail("kv get", err)
	}
	return v, true, nil
}

// Put implements KV.
func (s *RedisKV) Put(ctx context.Context, scope Scope, mapName, key, value string, ttl time.Duration, override bool) error {
	k, err := kvArgs(ctx, "put", scope, mapName, key)
	if err != nil {
		return err
	}
	ctx, cancel := s.r.opCtx(ctx)
	defer cancel()
	args := redis.SetArgs{}
	if ttl > 0 {
		args.TTL = ttl
	}
	if !override {
		args.Mode = "NX"
	}
	err = s.r.client.SetArgs(ctx, s.r.prefix+"kv:"+k, value, args).Err()
	if err != nil && !errors.Is(err, redis.Nil) { // NX on an existing key answers nil
		return s.r.fail("kv put", err)
	}
	return nil
}

// Delete implements KV.
func (s *RedisKV) Delete(ctx context.Context, scope Scope, mapName, key string) error {
	k, err := kvArgs(ctx, "delete", scope, mapName, key)
	if err != nil {
		return err
	}
	ctx, cancel := s.r.opCtx(ctx)
	defer cancel()
	if err := s.r.client.Del(ctx, s.r.prefix+"kv:"+k).Err(); err != nil {
		return s.r.fail("kv delete", err)
	}
	return nil
}

// RedisCache is the Cache shared by replicas through Redis. The total size
// bound is the server's maxmemory with an eviction policy (allkeys-lru
// recommended); MaxEntry bounds one entry.
type RedisCache struct {
	r        *Redis
	maxEntry int64
}

// Cache returns the Cache backed by r; an entry (key plus value) larger
// than maxEntry bytes is refused with ErrTooLarge.
func (r *Redis) Cache(maxEntry int64) *RedisCache { return &RedisCache{r: r, maxEntry: maxEntry} }

// Get implements Cache.
func (c *RedisCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := c.r.opCtx(ctx)
	defer cancel()
	v, err := c.r.client.Get(ctx, c.r.prefix+"cache:"+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, c.r.fail("cache get", err)
	}
	return v, true, nil
}

// Set implements Cache.
func (c *RedisCache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return c.Delete(ctx, key)
	}
	if size := int64(len(key) + len(val)); size > c.maxEntry {
		return fmt.Errorf("store: cache set %d bytes (bound %d): %w", size, c.maxEntry, ErrTooLarge)
	}
	ctx, cancel := c.r.opCtx(ctx)
	defer cancel()
	if err := c.r.client.Set(ctx, c.r.prefix+"cache:"+key, val, ttl).Err(); err != nil {
		return c.r.fail("cache set", err)
	}
	return nil
}

// Delete implements Cache.
func (c *RedisCache) Delete(ctx context.Context, key string) error {
	ctx, cancel := c.r.opCtx(ctx)
	defer cancel()
	if err := c.r.client.Del(ctx, c.r.prefix+"cache:"+key).Err(); err != nil {
		return c.r.fail("cache delete", err)
	}
	return nil
}
