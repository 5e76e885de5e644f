package upstream

import (
	"container/list"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// transportKey identifies everything a shared *http.Transport fixes: calls
// with equal keys share connections.
type transportKey struct {
	minV, maxV uint16
	ciphers    string
	insecure   bool
	certID     string // sha256 of cert, key and password; "" without one
	serverName string
	proxy      string
	proxyUser  string
	proxyPass  string
	dialHost   string
	dialPort   string
	// dialFor is the URL authority (host:port) the connect-to override
	// applies to; other authorities (a redirect elsewhere) dial normally.
	dialFor      string
	disableReuse bool
}

// transports caches one *http.Transport per distinct transportKey, least
// recently used first out; an evicted transport's idle connections close.
type transports struct {
	mu      sync.Mutex
	max     int
	lru     *list.List // of *transportEntry, front = most recent
	byKey   map[transportKey]*list.Element
	rootCAs *x509.CertPool
	// backstop bounds every dial and TLS handshake (Defaults.MaxTimeout,
	// else 30 s). net/http finishes a dial for its pool after the call
	// that started it has gone; the call's connect deadline bounds the TCP
	// dial, this the TLS handshake.
	backstop time.Duration
}

// dialDeadlineKey carries a call's *tracker to the dialer, which asks it
// for the current hop's connect deadline.
type dialDeadlineKey struct{}

type transportEntry struct {
	key transportKey
	tr  *http.Transport
}

func newTransports(max int, roots *x509.CertPool, backstop time.Duration) *transports {
	if max <= 0 {
		max = 64
	}
	if backstop <= 0 {
		backstop = time.Minute
	}
	return &transports{max: max, lru: list.New(), byKey: map[transportKey]*list.Element{}, rootCAs: roots, backstop: backstop}
}

// keyFor computes the transport key of a call.
func keyFor(c *Call) transportKey {
	return keyForAddr(c, "")
}

// keyForAddr is keyFor with the call's resolved URL authority (host:port,
// port defaulted from the scheme), needed when ConnectTo overrides where
// that authority is dialled.
func keyForAddr(c *Call, addr string) transportKey {
	k := transportKey{
		minV: c.TLS.MinVersion, maxV: c.TLS.MaxVersion,
		ciphers:      strings.Join(c.TLS.Ciphers, ":"),
		insecure:     c.TLS.InsecureSkipVerify,
		serverName:   c.TLS.ServerName,
		proxy:        c.Proxy.Server,
		dialHost:     c.ConnectTo.Host,
		dialPort:     c.ConnectTo.Port,
		disableReuse: c.DisableConnectionReuse,
	}
	if k.dialHost != "" || k.dialPort != "" {
		k.dialFor = addr
	}
	if c.Proxy.Credentials != nil {
		k.proxyUser, k.proxyPass = c.Proxy.Credentials.User, c.Proxy.Credentials.Password
	}
	if len(c.TLS.ClientCertPEM) > 0 || len(c.TLS.ClientKeyPEM) > 0 {
		k.certID = certID(c.TLS)
	}
	return k
}

// certID fingerprints client credentials without keeping them in the key.
func certID(o TLSOptions) string {
	h := sha256.New()
	h.Write(o.ClientCertPEM)
	h.Write([]byte{0})
	h.Write(o.ClientKeyPEM)
	h.Write([]byte{0})
	h.Write([]byte(o.ClientKeyPassword))
	return hex.EncodeToString(h.Sum(nil))
}

// get returns the transport for c, building and caching it on first use.
func (ts *transports) get(c *Call, addr string) (*http.Transport, *Error) {
	k := keyForAddr(c, addr)
	ts.mu.Lock()
	if el, ok := ts.byKey[k]; ok {
		ts.lru.MoveToFront(el)
		tr := el.Value.(*transportEntry).tr
		ts.mu.Unlock()
		return tr, nil
	}
	ts.mu.Unlock()

	tr, e := ts.build(c, k)
	if e != nil {
		return nil, e
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if el, ok := ts.byKey[k]; ok { // built concurrently by another call
		ts.lru.MoveToFront(el)
		return el.Value.(*transportEntry).tr, nil
	}
	ts.byKey[k] = ts.lru.PushFront(&transportEntry{key: k, tr: tr})
	for ts.lru.Len() > ts.max {
		old := ts.lru.Remove(ts.lru.Back()).(*transportEntry)
		delete(ts.byKey, old.key)
		old.tr.CloseIdleConnections()
	}
	return tr, nil
}

// closeIdle closes idle connections of every cached transport.
func (ts *transports) closeIdle() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for el := ts.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*transportEntry).tr.CloseIdleConnections()
	}
}

// build makes a transport for one key.
func (ts *transports) build(c *Call, k transportKey) (*http.Transport, *Error) {
	cfg := &tls.Config{
		MinVersion:         c.TLS.MinVersion,
		MaxVersion:         c.TLS.MaxVersion,
		InsecureSkipVerify: c.TLS.InsecureSkipVerify, //nolint:gosec // FLAT's ignore-certificate-errors, opt-in per call
		ServerName:         c.TLS.ServerName,
		RootCAs:            ts.rootCAs,
	}
	if cfg.MinVersion != 0 && cfg.MaxVersion != 0 && cfg.MinVersion > cfg.MaxVersion {
		return nil, invalid("tls: minimum version above maximum")
	}
	if len(c.TLS.Ciphers) > 0 {
		ids, e := cipherIDs(c.TLS.Ciphers)
		if e != nil {
			return nil, e
		}
		cfg.CipherSuites = ids
	}
	if k.certID != "" {
		cert, e := clientCertificate(c.TLS)
		if e != nil {
			return nil, e
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	dialer := &net.Dialer{Timeout: ts.backstop, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		// net/http detaches dials from the request's cancellation so a
		// later request can use the connection; the call's connect
		// deadline still bounds the dial.
		if call, ok := ctx.Value(dialDeadlineKey{}).(*tracker); ok {
			if d := call.dialDeadline(); !d.IsZero() {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, d)
				defer cancel()
			}
		}
		if k.dialFor != "" && addr == k.dialFor {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("connect-to: %w", err)
			}
			if k.dialHost != "" {
				host = k.dialHost
			}
			if k.dialPort != "" {
				port = k.dialPort
			}
			addr = net.JoinHostPort(host, port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		DialContext:           dial,
		TLSHandshakeTimeout:   ts.backstop,
		TLSClientConfig:       cfg,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableKeepAlives:     k.disableReuse,
	}
	if k.proxy != "" {
		pu, e := proxyURL(c.Proxy)
		if e != nil {
			return nil, e
		}
		tr.Proxy = http.ProxyURL(pu)
		tr.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, _ *http.Request, resp *http.Response) error {
			if resp.StatusCode != http.StatusOK {
				return &proxyConnectError{status: resp.Status}
			}
			return nil
		}
	}
	return tr, nil
}

// proxyConnectError is a proxy's refusal to open a CONNECT tunnel.
type proxyConnectError struct{ status string }

func (e *proxyConnectError) Error() string { return "proxy refused CONNECT: " + e.status }

// proxyURL parses FLAT's "host:port" or a URL, adding credentials.
func proxyURL(p ProxyOptions) (*url.URL, *Error) {
	s := p.Server
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, invalid("proxy-server %q: want host:port", p.Server)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, invalid("proxy-server %q: unsupported scheme", p.Server)
	}
	if _, port, err := net.SplitHostPort(u.Host); err == nil {
		if _, err := strconv.Atoi(port); err != nil {
			return nil, invalid("proxy-server %q: bad port", p.Server)
		}
	}
	if p.Credentials != nil {
		u.User = url.UserPassword(p.Credentials.User, p.Credentials.Password)
	}
	return u, nil
}

// clientCertificate loads the client certificate and key, decrypting a
// legacy encrypted PEM key with the password.
func clientCertificate(o TLSOptions) (tls.Certificate, *Error) {
	certPEM, keyPEM := o.ClientCertPEM, o.ClientKeyPEM
	if len(keyPEM) == 0 {
		keyPEM = certPEM
	}
	if len(certPEM) == 0 {
		certPEM = keyPEM
	}
	var plain []byte
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" {
			return tls.Certificate{}, invalid("tls: encrypted PKCS#8 client keys are not supported; use a legacy encrypted or plain PEM key")
		}
		//lint:ignore SA1019 legacy PEM encryption is what FLAT's client-certificate-password protects
		if x509.IsEncryptedPEMBlock(b) { //nolint:staticcheck
			if o.ClientKeyPassword == "" {
				return tls.Certificate{}, invalid("tls: client key is encrypted and no password was given")
			}
			der, err := x509.DecryptPEMBlock(b, []byte(o.ClientKeyPassword)) //nolint:staticcheck
			if err != nil {
				return tls.Certificate{}, invalid("tls: client key: %v", err)
			}
			b = &pem.Block{Type: b.Type, Bytes: der}
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			plain = append(plain, pem.EncodeToMemory(b)...)
		}
	}
	if len(plain) == 0 {
		return tls.Certificate{}, invalid("tls: no private key in the client certificate PEM")
	}
	cert, err := tls.X509KeyPair(certPEM, plain)
	if err != nil {
		return tls.Certificate{}, invalid("tls: client certificate: %v", err)
	}
	return cert, nil
}
