package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions tune a Redis connection.
type RedisOptions struct {
	// Prefix starts every key flowproc writes, so several deployments can
	// share one Redis database. Empty means "flowproc:".
	Prefix string
	// OpTimeout bounds an operation whose context has no deadline, and the
	// dial/read/write timeouts. Zero means 500ms.
	OpTimeout time.Duration
	// Now is the clock windows are computed with (nil means time.Now).
	// Replicas sharing counters need synchronised clocks (NTP).
	Now func() time.Time
	// TLS replaces the TLS configuration of a rediss:// URL (private CA,
	// client certificate). Its ServerName defaults to the URL's host. It
	// is an error with a redis:// URL.
	TLS *tls.Config
}

// Redis is a connection to one Redis server (or a Sentinel-managed
// primary reachable at one address) holding counters, rate limiters, KV
// maps, tokens and cache entries for several flowproc replicas. Its Lua
// scripts make every read-modify-write atomic across replicas. Redis
// Cluster is not supported: the token revocation script touches keys it
// computes.
type Redis struct {
	client  *redis.Client
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

// NewRedis connects to rawURL: redis://[user:password@]host:port[/db] or
// rediss:// for TLS (the go-redis URL options such as ?dial_timeout= are
// accepted too). It does not wait for the server: use Ping. A URL with an
// unknown scheme is ErrInvalid.
func NewRedis(rawURL string, o RedisOptions) (*Redis, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		// The parser's message quotes the URL, password included.
		msg := strings.ReplaceAll(err.Error(), rawURL, redactURL(rawURL))
		return nil, fmt.Errorf("store: redis url %q: %s: %w", redactURL(rawURL), msg, ErrInvalid)
	}
	if o.TLS != nil {
		if opt.TLSConfig == nil {
			return nil, fmt.Errorf("store: redis url: TLS settings need a rediss:// URL: %w", ErrInvalid)
		}
		t := o.TLS.Clone()
		if t.ServerName == "" {
			t.ServerName = opt.TLSConfig.ServerName
		}
		opt.TLSConfig = t
	}
	if o.Prefix == "" {
		o.Prefix = "flowproc:"
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if !strings.Contains(rawURL, "dial_timeout=") {
		opt.DialTimeout = o.OpTimeout
	}
	if !strings.Contains(rawURL, "read_timeout=") {
		opt.ReadTimeout = o.OpTimeout
	}
	if !strings.Contains(rawURL, "write_timeout=") {
		opt.WriteTimeout = o.OpTimeout
	}
	if !strings.Contains(rawURL, "max_retries=") {
		opt.MaxRetries = 1 // an outage must surface fast so policies can fail open or closed
	}
	opt.DialerRetries = 1 // go-redis would otherwise retry a refused dial 5 times
	opt.ContextTimeoutEnabled = true
	return &Redis{client: redis.NewClient(opt), prefix: o.Prefix, timeout: o.OpTimeout, now: o.Now}, nil
}

// Ping checks that the server answers; the error wraps ErrUnavailable.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	if err := r.client.Ping(ctx).Err(); err != nil {
		return r.fail("ping", err)
	}
	return nil
}

// LoadScripts loads the Lua scripts into the server's script cache so that
// the first operations run with EVALSHA; scripts are also re-sent
// automatically if the server lost them.
func (r *Redis) LoadScripts(ctx context.Context) error {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	for _, s := range []*redis.Script{counterScript, rollingScript, gcraScript, tokenPutScript, tokenRevokeScript, tokenRevokeAppScript} {
		if err := s.Load(ctx, r.client).Err(); err != nil {
			return r.fail("script load", err)
		}
	}
	return nil
}

// Close closes the connection pool.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("store: redis close: %w", err)
	}
	return nil
}

// opCtx gives ctx the default operation deadline when it has none.
func (r *Redis) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

// transientPrefixes are Redis error replies that mean "the server cannot
// serve now", not "the command is wrong".
var transientPrefixes = []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY", "NOREPLICAS", "OOM"}

// fail wraps err: a network failure, timeout, cancellation or transient
// server state wraps ErrUnavailable; another error reply does not.
func (r *Redis) fail(op string, err error) error {
	var re redis.Error
	if errors.As(err, &re) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		msg := re.Error()
		for _, p := range transientPrefixes {
			if strings.HasPrefix(msg, p) {
				return fmt.Errorf("store: redis %s: %w: %w", op, ErrUnavailable, err)
			}
		}
		return fmt.Errorf("store: redis %s: %w", op, err)
	}
	return fmt.Errorf("store: redis %s: %w: %w", op, ErrUnavailable, err)
}

// int64s reads a Lua array reply of integers.
func int64s(v any, want int) ([]int64, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) != want {
		return nil, fmt.Errorf("store: redis script reply %T %v", v, v)
	}
	out := make([]int64, want)
	for i, x := range arr {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("store: redis script reply element %d is %T", i, x)
		}
		out[i] = n
	}
	return out, nil
}
