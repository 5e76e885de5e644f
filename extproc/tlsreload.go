package extproc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTLSReloadInterval is how often CertReloader.Watch checks the
// files when no interval is given.
const DefaultTLSReloadInterval = 10 * time.Second

// CertReloader serves a TLS configuration from PEM files (server
// certificate and key, and for mTLS the client CA bundle) and reloads it
// without a restart: Reload on demand (serve calls it on SIGHUP), Watch when
// the files' contents change (a Kubernetes Secret update swaps a symlink; a
// cert-manager renewal rewrites the files). New connections get the new
// configuration through tls.Config.GetConfigForClient; connections already
// established keep the one they were accepted with. A reload that fails
// (a half-written file, a key that does not match) keeps the last good
// configuration.
type CertReloader struct {
	cert, key, clientCA string

	mu  sync.Mutex // serialises reloads
	sum [32]byte   // digest of the files the current config came from
	cur atomic.Pointer[tls.Config]
}

// NewCertReloader loads the files (see TLSConfig) and returns a reloader
// serving them.
func NewCertReloader(cert, key, clientCA string) (*CertReloader, error) {
	if _, err := TLSConfig(cert, key, clientCA); err != nil {
		return nil, err // TLSConfig's errors say which file is wrong and how
	}
	r := &CertReloader{cert: cert, key: key, clientCA: clientCA}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Config returns the listener's TLS configuration: TLS ≥ 1.2, ALPN h2, and
// GetConfigForClient handing each new connection the current configuration.
func (r *CertReloader) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.cur.Load(), nil
		},
	}
}

// MutualTLS reports whether client certificates are required.
func (r *CertReloader) MutualTLS() bool { return r.clientCA != "" }

// digest hashes the files' contents.
func (r *CertReloader) digest() ([32]byte, error) {
	h := sha256.New()
	for _, f := range []string{r.cert, r.key, r.clientCA} {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return [32]byte{}, fmt.Errorf("tls: read %s: %w", f, err)
		}
		h.Write(b)
		h.Write([]byte{0})
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// Reload reads the files again and, when they load, serves them to new
// connections. changed reports that their contents differ from the
// configuration served so far. On error the previous configuration stays.
func (r *CertReloader) Reload() (changed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum, err := r.digest()
	if err != nil {
		return false, err
	}
	if r.cur.Load() != nil && bytes.Equal(sum[:], r.sum[:]) {
		return false, nil
	}
	cfg, err := TLSConfig(r.cert, r.key, r.clientCA)
	if err != nil {
		return false, err
	}
	r.cur.Store(cfg)
	r.sum = sum
	return true, nil
}

// Watch reloads the files every interval (DefaultTLSReloadInterval when
// ≤ 0) until ctx ends, calling report after each reload that changed the
// configuration, and once per distinct error while the files do not load.
func (r *CertReloader) Watch(ctx context.Context, interval time.Duration, report func(changed bool, err error)) {
	if interval <= 0 {
		interval = DefaultTLSReloadInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := r.Reload()
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if report != nil && (changed || msg != "" && msg != lastErr) {
				report(changed, err)
			}
			lastErr = msg
		}
	}
}
