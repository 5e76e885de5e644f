package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		url     string
		redis   bool
		invalid bool
	}{
		{"", false, false},
		{"memory://", false, false},
		{"mysql://x", false, true},
		{"redis://user:secret@[::1", false, true},
	}
	for _, tt := range tests {
		s, err := Open(tt.url)
		if tt.invalid {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Open(%q): %v, want ErrInvalid", tt.url, err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("Open(%q) error leaks the password: %v", tt.url, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Open(%q): %v", tt.url, err)
		}
		if (s.Redis != nil) != tt.redis || s.Counter == nil || s.Rate == nil || s.KV == nil || s.Cache == nil || s.Tokens == nil {
			t.Errorf("Open(%q) = %+v", tt.url, s)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestOpenRedis(t *testing.T) {
	if sharedRedis == "" {
		t.Skip(skipNoRedis)
	}
	s, err := Open(sharedRedis)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Redis == nil {
		t.Fatal("redis:// URL did not open Redis stores")
	}
	ctx := context.Background()
	if err := s.Cache.Set(ctx, "open-test", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Cache.Get(ctx, "open-test"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("cache: %q %v %v", v, ok, err)
	}
}

// TestRedisUnavailable stops the server under the store: every operation
// fails quickly with an error wrapping ErrUnavailable.
func TestRedisUnavailable(t *testing.T) {
	if sharedRedis == "" {
		t.Skip(skipNoRedis)
	}
	srv, err := startRedisServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	r, err := NewRedis(srv.url, RedisOptions{OpTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	w := Window{Kind: Calendar, Interval: 1, Unit: Minute}
	if _, err := r.Counter().Incr(ctx, "k", 1, w); err != nil {
		t.Fatalf("before the outage: %v", err)
	}
	srv.stop()
	scope := Scope{Kind: Organization}
	ops := map[string]func() error{
		"ping": func() error { return r.Ping(ctx) },
		"incr": func() error { _, err := r.Counter().Incr(ctx, "k", 1, w); return err },
		"rolling": func() error {
			_, err := r.Counter().Take(ctx, "k", 1, 5, Window{Kind: Rolling, Interval: 1, Unit: Minute})
			return err
		},
		"reset": func() error { return r.Counter().Reset(ctx, "k") },
		"rate": func() error {
			_, err := r.RateLimiter().TryAcquire(ctx, "k", 1, Rate{Count: 1, Per: time.Second})
			return err
		},
		"kv get":    func() error { _, _, err := r.KV().Get(ctx, scope, "m", "k"); return err },
		"kv put":    func() error { return r.KV().Put(ctx, scope, "m", "k", "v", 0, true) },
		"kv delete": func() error { return r.KV().Delete(ctx, scope, "m", "k") },
		"token get": func() error { _, _, err := r.Tokens().Get(ctx, AccessToken, "t"); return err },
		"token put": func() error {
			return r.Tokens().Put(ctx, Token{Kind: AccessToken, Value: "t", ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)})
		},
		"revoke":     func() error { return r.Tokens().Revoke(ctx, AccessToken, "t") },
		"revoke app": func() error { _, err := r.Tokens().RevokeApp(ctx, "c"); return err },
		"cache get":  func() error { _, _, err := r.Cache(1024).Get(ctx, "k"); return err },
		"scripts":    func() error { return r.LoadScripts(ctx) },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %s to fail", name, d)
		}
	}
	if _, err := OpenConfig(ctx, Config{URL: srv.url, OpTimeout: 100 * time.Millisecond}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("OpenConfig on a stopped server: %v", err)
	}
}

func TestRedisAuth(t *testing.T) {
	if sharedRedis == "" {
		t.Skip(skipNoRedis)
	}
	srv, err := startRedisServer(t.TempDir(), "--requirepass", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	host := strings.TrimPrefix(strings.TrimSuffix(srv.url, "/0"), "redis://")
	ctx := context.Background()
	tests := []struct {
		url string
		ok  bool
	}{
		{"redis://:s3cret@" + host + "/2", true},
		{"redis://default:s3cret@" + host + "/0", true},
		{"redis://:wrong@" + host + "/0", false},
		{"redis://" + host + "/0", false},
	}
	for _, tt := range tests {
		r, err := NewRedis(tt.url, RedisOptions{})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Ping(ctx)
		if (err == nil) != tt.ok {
			t.Errorf("%s: ping %v", tt.url, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error leaks the password: %v", err)
		}
		r.Close()
	}
}

func TestRedisTLS(t *testing.T) {
	if sharedRedis == "" {
		t.Skip(skipNoRedis)
	}
	dir := t.TempDir()
	pool := writeTestCert(t, dir)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startTLSRedis(dir, port)
	if err != nil {
		t.Skipf("redis-server without TLS support: %v", err)
	}
	defer srv.stop()
	url := "rediss://localhost:" + strconv.Itoa(port) + "/0"
	ctx := context.Background()
	r, err := NewRedis(url, RedisOptions{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("TLS ping: %v", err)
	}
	untrusted, err := NewRedis(url, RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer untrusted.Close()
	if err := untrusted.Ping(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ping with an unknown CA: %v, want ErrUnavailable", err)
	}
	if _, err := NewRedis("redis://localhost:1/0", RedisOptions{TLS: &tls.Config{}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("TLS options on redis://: %v", err)
	}
}

// startTLSRedis starts a TLS-only redis-server with the certificate in dir.
func startTLSRedis(dir string, port int) (*redisServer, error) {
	srv, err := startRedisServerArgs(dir, "--port", "0", "--tls-port", strconv.Itoa(port),
		"--tls-cert-file", filepath.Join(dir, "cert.pem"), "--tls-key-file", filepath.Join(dir, "key.pem"),
		"--tls-auth-clients", "no")
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return srv, nil
		}
		if srv.cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.stop()
	return nil, errors.New(srv.out.String())
}

// writeTestCert writes a self-signed certificate for localhost into dir and
// returns a pool trusting it.
func writeTestCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool
}

func TestRedisCacheEntryBound(t *testing.T) {
	r := testRedis(t, nil)
	c := r.Cache(16)
	ctx := context.Background()
	if err := c.Set(ctx, "k", make([]byte, 32), time.Minute); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big entry: %v", err)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, "k"); err != nil || ok {
		t.Fatalf("ttl 0 did not delete: %v %v", ok, err)
	}
}

// TestRedisScriptsReloaded flushes the server's script cache: the next
// operations re-send their scripts (EVALSHA falls back to EVAL).
func TestRedisScriptsReloaded(t *testing.T) {
	r := testRedis(t, nil)
	ctx := context.Background()
	if err := r.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	w := Window{Kind: Rolling, Interval: 1, Unit: Minute}
	if u, err := r.Counter().Incr(ctx, "k", 2, w); err != nil || u.Count != 2 {
		t.Fatalf("after SCRIPT FLUSH: %+v %v", u, err)
	}
	if d, err := r.RateLimiter().TryAcquire(ctx, "k", 1, Rate{Count: 1, Per: time.Second}); err != nil || !d.Allowed {
		t.Fatalf("rate after SCRIPT FLUSH: %+v %v", d, err)
	}
}
