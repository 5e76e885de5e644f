package store

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// Config selects and tunes the shared stores.
type Config struct {
	// URL is "" or "memory://" for the embedded in-process stores, or
	// redis://[user:password@]host:port[/db] / rediss://… for Redis.
	URL string
	// CacheBytes bounds the memory cache (total) or one Redis cache entry.
	// Zero means 64 MiB in memory and 1 MiB per Redis entry.
	CacheBytes int64
	// Prefix, OpTimeout and Now: see RedisOptions. Now is also the memory
	// stores' clock.
	Prefix    string
	OpTimeout time.Duration
	Now       func() time.Time
	// TLS: see RedisOptions.TLS.
	TLS *tls.Config
}

// Stores is the set of shared stores one flowproc process uses.
type Stores struct {
	Counter Counter
	Rate    RateLimiter
	// KV is a *CryptKV over the memory or Redis KV: maps declared
	// encrypted hold ciphertext once SetKVMKey gave it a key.
	KV     KV
	Cache  Cache
	Tokens Tokens
	// Redis is the connection behind the stores, nil for memory.
	Redis *Redis
}

// Close releases the Redis connection, if any.
func (s *Stores) Close() error {
	if s.Redis == nil {
		return nil
	}
	return s.Redis.Close()
}

// Open returns the stores selected by url (see Config.URL) with defaults.
func Open(url string) (*Stores, error) {
	return OpenConfig(context.Background(), Config{URL: url})
}

// OpenConfig returns the stores selected by c. For Redis it pings the
// server and loads the scripts; an unreachable server is an error wrapping
// ErrUnavailable (the caller decides whether to start anyway).
func OpenConfig(ctx context.Context, c Config) (*Stores, error) {
	switch {
	case c.URL == "" || c.URL == "memory://":
		n := c.CacheBytes
		if n <= 0 {
			n = 64 << 20
		}
		return &Stores{
			Counter: NewMemoryCounter(c.Now),
			Rate:    NewMemoryRateLimiter(c.Now),
			KV:      NewCryptKV(NewMemoryKV(c.Now)),
			Cache:   NewMemory(n, c.Now),
			Tokens:  NewMemoryTokens(c.Now),
		}, nil
	case strings.HasPrefix(c.URL, "redis://") || strings.HasPrefix(c.URL, "rediss://"):
		r, err := NewRedis(c.URL, RedisOptions{Prefix: c.Prefix, OpTimeout: c.OpTimeout, Now: c.Now, TLS: c.TLS})
		if err != nil {
			return nil, err
		}
		if err := r.LoadScripts(ctx); err != nil {
			_ = r.Close()
			return nil, err
		}
		n := c.CacheBytes
		if n <= 0 {
			n = 1 << 20
		}
		return &Stores{Counter: r.Counter(), Rate: r.RateLimiter(), KV: NewCryptKV(r.KV()), Cache: r.Cache(n), Tokens: r.Tokens(), Redis: r}, nil
	}
	return nil, fmt.Errorf("store: url %q (want memory:// or redis:// or rediss://): %w", redactURL(c.URL), ErrInvalid)
}

// redactURL drops the user information from a URL for error messages.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.LastIndex(rest, "@"); j >= 0 {
			return u[:i+3] + "…@" + rest[j+1:]
		}
	}
	return u
}
