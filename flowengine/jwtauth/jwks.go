package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/flowproc/flowproc/flowengine/upstream"
)

// JWKS defaults.
const (
	// DefaultJWKSMaxAge is how long a fetched key set is used.
	DefaultJWKSMaxAge = time.Hour
	// DefaultJWKSTimeout bounds one key set fetch.
	DefaultJWKSTimeout = 5 * time.Second
	// jwksRetry is how long a failed fetch is remembered: requests in that
	// window are rejected without another fetch.
	jwksRetry = 5 * time.Second
	// jwksMinRefresh is the minimum age of a key set before a token with
	// an unknown kid makes it fetch again (key rotation).
	jwksMinRefresh = 30 * time.Second
	// maxJWKSBytes bounds the key set document.
	maxJWKSBytes = 1 << 20
	// maxJWKSKeys bounds the keys kept from one document.
	maxJWKSKeys = 100
)

// errJWKS wraps every key set failure: the request is rejected.
var errJWKS = errors.New("key set unavailable")

// jwks is one key set URL with its cache. Fetches run detached from the
// request that triggered them (bounded by timeout); waiting requests give
// up when their own context ends.
type jwks struct {
	url     string
	maxAge  time.Duration
	timeout time.Duration
	client  upstream.Client
	now     func() time.Time

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	fetched  time.Time
	ttl      time.Duration // maxAge, or less when the response says so
	failErr  error
	failedAt time.Time
	inflight chan struct{}
}

// checkJWKSURL validates a jwks URL at load time.
func checkJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("jwks URL %q: %w", s, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("jwks URL %q must be an absolute http or https URL", s)
	}
	return nil
}

// get returns the key set, fetching it when it is missing, older than
// maxAge, or (refresh) older than jwksMinRefresh.
func (j *jwks) get(ctx context.Context, refresh bool) ([]jose.JSONWebKey, error) {
	j.mu.Lock()
	now := j.now()
	if j.keys != nil {
		age := now.Sub(j.fetched)
		if age < j.ttl && !(refresh && age >= jwksMinRefresh) {
			k := j.keys
			j.mu.Unlock()
			return k, nil
		}
	}
	if j.failErr != nil && now.Sub(j.failedAt) < jwksRetry {
		err := j.failErr
		j.mu.Unlock()
		return nil, err
	}
	if j.inflight == nil {
		j.inflight = make(chan struct{})
		go j.fetch(j.inflight)
	}
	ch := j.inflight
	j.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for %s: %w", errJWKS, j.url, ctx.Err())
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failErr != nil && !j.failedAt.Before(j.fetched) {
		return nil, j.failErr
	}
	return j.keys, nil
}

// fetch loads the key set once and wakes the waiters by closing done.
func (j *jwks) fetch(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), j.timeout)
	defer cancel()
	keys, ttl, err := j.load(ctx)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.failErr, j.failedAt = fmt.Errorf("%w: %w", errJWKS, err), j.now()
	} else {
		j.keys, j.fetched, j.ttl, j.failErr = keys, j.now(), ttl, nil
	}
	j.inflight = nil
	close(done)
}

// load fetches and parses the key set. The set is used for maxAge, or
// for the response's Cache-Control max-age when that is shorter (but at
// least jwksMinRefresh, so an upstream cannot make every request fetch).
func (j *jwks) load(ctx context.Context) ([]jose.JSONWebKey, time.Duration, error) {
	res, err := j.client.Do(ctx, &upstream.Call{
		ID:           "jwks",
		Method:       "GET",
		URL:          j.url,
		Headers:      []upstream.Field{{Name: "Accept", Value: "application/json"}},
		Timeout:      j.timeout,
		MaxBodyBytes: maxJWKSBytes,
	})
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("%s: %w", j.url, err)
	case res == nil:
		return nil, 0, fmt.Errorf("%s: no result", j.url)
	case res.Failed():
		return nil, 0, fmt.Errorf("%s: %w", j.url, res.Err)
	case res.Status != 200:
		return nil, 0, fmt.Errorf("%s: status %d", j.url, res.Status)
	}
	keys, err := parseJWKS(res.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", j.url, err)
	}
	ttl := j.maxAge
	if age, ok := cacheMaxAge(res.Header); ok && age < ttl {
		ttl = max(age, jwksMinRefresh)
	}
	return keys, ttl, nil
}

// cacheMaxAge returns the max-age of a Cache-Control header (no-store and
// no-cache count as 0).
func cacheMaxAge(h http.Header) (time.Duration, bool) {
	found, age := false, time.Duration(0)
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-store" || d == "no-cache":
				return 0, true
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64)
				if err == nil && n >= 0 && n < 1<<31 {
					found, age = true, time.Duration(n)*time.Second
				}
			}
		}
	}
	return age, found
}

// parseJWKS reads the public signing keys of a JSON Web Key Set. Keys of
// unknown types, private and symmetric keys and keys for encryption are
// skipped; a set without a usable key is an error.
func parseJWKS(data []byte) ([]jose.JSONWebKey, error) {
	if len(data) > maxJWKSBytes {
		return nil, fmt.Errorf("key set larger than %d bytes", maxJWKSBytes)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("key set is not JSON: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var probe struct {
			D, K string
		}
		if json.Unmarshal(raw, &probe) != nil || probe.D != "" || probe.K != "" {
			continue // private or symmetric key material: never used
		}
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			continue
		}
		keys = append(keys, k)
		if len(keys) == maxJWKSKeys {
			break
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("key set has no usable public signing key")
	}
	return keys, nil
}

// candidates returns the keys that may verify a token with this kid and
// alg: same kid (when the token names one), a key type that fits alg and
// no different alg on the key.
func candidates(keys []jose.JSONWebKey, a algSpec, kid, alg string) []any {
	var out []any
	for _, k := range keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		fit, err := fitKey(a, k.Key)
		if err != nil || !fit.allows(alg) {
			continue
		}
		out = append(out, k.Key)
	}
	return out
}
