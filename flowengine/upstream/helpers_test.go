package upstream

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package when any test leaves a goroutine behind: a
// side call must never leak one, whatever the upstream does.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newClient returns an HTTP client whose idle connections close when the
// test ends.
func newClient(t testing.TB, o HTTPOptions) *HTTP {
	t.Helper()
	h := NewHTTP(o)
	t.Cleanup(h.CloseIdleConnections)
	return h
}

// do runs one call and fails the test on a contract error.
func do(t testing.TB, h Client, c *Call) *Result {
	t.Helper()
	r, err := h.Do(context.Background(), c)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if r == nil {
		t.Fatal("Do: nil result")
	}
	return r
}

// wantKind fails unless r failed with kind.
func wantKind(t testing.TB, r *Result, kind Kind) {
	t.Helper()
	if r.Err == nil {
		t.Fatalf("want a %s failure, got status %d", kind, r.Status)
	}
	if r.Err.Kind != kind {
		t.Fatalf("want kind %s, got %s (%s)", kind, r.Err.Kind, r.Err.Message)
	}
	if r.Status != 0 {
		t.Fatalf("a failed result has status %d", r.Status)
	}
}

// wantOK fails unless r is a response with status.
func wantOK(t testing.TB, r *Result, status int) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("want status %d, got failure %s: %s", status, r.Err.Kind, r.Err.Message)
	}
	if r.Status != status {
		t.Fatalf("want status %d, got %d", status, r.Status)
	}
}

// server starts a plain httptest server closed at the end of the test.
func server(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// tlsServer starts a TLS httptest server, configured by cfg when given,
// and returns it with a pool trusting its certificate.
func tlsServer(t testing.TB, h http.HandlerFunc, cfg *tls.Config) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are what some tests want
	s.TLS = cfg
	s.StartTLS()
	t.Cleanup(s.Close)
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return s, pool
}

// hold blocks a handler until the client goes away or the test releases
// it, so slow upstreams never block httptest.Server.Close.
type hold struct {
	once sync.Once
	ch   chan struct{}
}

func newHold(t testing.TB) *hold {
	h := &hold{ch: make(chan struct{})}
	t.Cleanup(h.release)
	return h
}

func (h *hold) release() { h.once.Do(func() { close(h.ch) }) }

func (h *hold) wait(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-h.ch:
	}
}

// rawListener accepts connections and hands each to serve in its own
// goroutine; everything closes at the end of the test.
func rawListener(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// pki is a test CA with helpers to issue certificates.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "flowproc test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &pki{cert: cert, key: key, pool: pool}
}

// issue returns a leaf certificate and key in PEM. A non-empty password
// encrypts the key as legacy PEM (Proc-Type: 4,ENCRYPTED).
func (p *pki) issue(t testing.TB, name string, client bool, password string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	block := &pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}
	if password != "" {
		//lint:ignore SA1019 the client must read legacy encrypted keys, so the test makes one
		block, err = x509.EncryptPEMBlock(rand.Reader, block.Type, kder, []byte(password), x509.PEMCipherAES256) //nolint:staticcheck
		if err != nil {
			t.Fatal(err)
		}
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(block)
}

// hostPort strips the scheme of an httptest URL.
func hostPort(u string) string {
	return u[strings.Index(u, "://")+3:]
}
