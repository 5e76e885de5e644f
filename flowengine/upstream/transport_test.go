package upstream

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// tlsInfo is what a TLS test server saw of the handshake.
func tlsEcho(w http.ResponseWriter, r *http.Request) {
	cn := ""
	if len(r.TLS.PeerCertificates) > 0 {
		cn = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	w.Header().Set("X-TLS-Version", tls.VersionName(r.TLS.Version))
	w.Header().Set("X-TLS-Cipher", tls.CipherSuiteName(r.TLS.CipherSuite))
	w.Header().Set("X-Client-CN", cn)
	w.Header().Set("X-Host", r.Host)
}

func TestTLSOptions(t *testing.T) {
	tls12, pool12 := tlsServer(t, tlsEcho, &tls.Config{
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
	})
	tls13, pool13 := tlsServer(t, tlsEcho, &tls.Config{MinVersion: tls.VersionTLS13})
	roots := pool12.Clone()
	for _, c := range []*httptest.Server{tls13} {
		roots.AddCert(c.Certificate())
	}
	_ = pool13
	h := newClient(t, HTTPOptions{RootCAs: roots})
	untrusted := newClient(t, HTTPOptions{})

	tests := []struct {
		name       string
		client     *HTTP
		call       Call
		wantKind   Kind
		wantHeader map[string]string
	}{
		{"default negotiates TLS 1.3", h, Call{URL: tls13.URL}, "", map[string]string{"X-TLS-Version": "TLS 1.3"}},
		{"max 1.2 against a 1.3-only server", h, Call{URL: tls13.URL, TLS: TLSOptions{MaxVersion: tls.VersionTLS12}}, KindTLS, nil},
		{"min 1.3 against a 1.2 server", h, Call{URL: tls12.URL, TLS: TLSOptions{MinVersion: tls.VersionTLS13}}, KindTLS, nil},
		{"1.2 exactly", h, Call{URL: tls12.URL, TLS: TLSOptions{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}}, "", map[string]string{"X-TLS-Version": "TLS 1.2"}},
		{"cipher chosen", h, Call{URL: tls12.URL, TLS: TLSOptions{Ciphers: []string{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}}}, "",
			map[string]string{"X-TLS-Cipher": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}},
		{"cipher by its OpenSSL name", h, Call{URL: tls12.URL, TLS: TLSOptions{Ciphers: ParseCipherList("ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA")}}, "",
			map[string]string{"X-TLS-Cipher": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}},
		{"no common cipher", h, Call{URL: tls12.URL, TLS: TLSOptions{Ciphers: []string{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}}}, KindTLS, nil},
		{"untrusted certificate", untrusted, Call{URL: tls12.URL}, KindTLS, nil},
		{"ignore-certificate-errors", untrusted, Call{URL: tls12.URL, TLS: TLSOptions{InsecureSkipVerify: true}}, "", map[string]string{"X-TLS-Version": "TLS 1.2"}},
		{"wrong server name", h, Call{URL: tls12.URL, TLS: TLSOptions{ServerName: "other.test"}}, KindTLS, nil},
		{"server name the certificate has", h, Call{URL: tls12.URL, TLS: TLSOptions{ServerName: "example.com"}}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.client, &tt.call)
			if tt.wantKind != "" {
				wantKind(t, r, tt.wantKind)
				return
			}
			wantOK(t, r, 200)
			for k, v := range tt.wantHeader {
				if r.Header.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, r.Header.Get(k), v)
				}
			}
		})
	}
}

func TestClientCertificate(t *testing.T) {
	ca := newPKI(t)
	srvCert, srvKey := ca.issue(t, "upstream.test", false, "")
	kp, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := tlsServer(t, tlsEcho, &tls.Config{
		Certificates: []tls.Certificate{kp},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.pool,
	})
	cert, key := ca.issue(t, "flowproc-client", true, "")
	encCert, encKey := ca.issue(t, "flowproc-encrypted", true, "s3cret")
	other := newPKI(t)
	strangerCert, strangerKey := other.issue(t, "stranger", true, "")
	h := newClient(t, HTTPOptions{RootCAs: ca.pool})

	both := append(append([]byte{}, encCert...), encKey...)
	tests := []struct {
		name     string
		tls      TLSOptions
		wantKind Kind
		wantCN   string
	}{
		{"plain key", TLSOptions{ClientCertPEM: cert, ClientKeyPEM: key}, "", "flowproc-client"},
		{"encrypted key", TLSOptions{ClientCertPEM: encCert, ClientKeyPEM: encKey, ClientKeyPassword: "s3cret"}, "", "flowproc-encrypted"},
		{"one PEM holding both", TLSOptions{ClientCertPEM: both, ClientKeyPassword: "s3cret"}, "", "flowproc-encrypted"},
		{"one PEM as the key", TLSOptions{ClientKeyPEM: both, ClientKeyPassword: "s3cret"}, "", "flowproc-encrypted"},
		{"wrong password", TLSOptions{ClientCertPEM: encCert, ClientKeyPEM: encKey, ClientKeyPassword: "nope"}, KindInvalid, ""},
		{"missing password", TLSOptions{ClientCertPEM: encCert, ClientKeyPEM: encKey}, KindInvalid, ""},
		{"key of another cert", TLSOptions{ClientCertPEM: cert, ClientKeyPEM: strangerKey}, KindInvalid, ""},
		{"certificate without key", TLSOptions{ClientCertPEM: cert}, KindInvalid, ""},
		{"no client certificate", TLSOptions{}, KindTLS, ""},
		{"certificate from another CA", TLSOptions{ClientCertPEM: strangerCert, ClientKeyPEM: strangerKey}, KindTLS, ""},
		{"encrypted PKCS#8", TLSOptions{ClientCertPEM: cert, ClientKeyPEM: []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")}, KindInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, &Call{URL: srv.URL, TLS: tt.tls})
			if tt.wantKind != "" {
				wantKind(t, r, tt.wantKind)
				return
			}
			wantOK(t, r, 200)
			if got := r.Header.Get("X-Client-CN"); got != tt.wantCN {
				t.Errorf("server saw client %q, want %q", got, tt.wantCN)
			}
		})
	}
}

// forwardProxy is an httptest forward proxy: absolute-URI requests for
// http targets and CONNECT tunnels for https, with optional basic
// Proxy-Authorization.
type forwardProxy struct {
	*httptest.Server
	user, pass string
	tr         *http.Transport
	mu         sync.Mutex
	seen       []string // "GET http://…" or "CONNECT host:port"
	wg         sync.WaitGroup
}

func newForwardProxy(t *testing.T, user, pass string) *forwardProxy {
	p := &forwardProxy{user: user, pass: pass, tr: &http.Transport{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		p.Server.Close()
		p.tr.CloseIdleConnections()
		p.wg.Wait()
	})
	return p
}

func (p *forwardProxy) log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

func (p *forwardProxy) serve(w http.ResponseWriter, r *http.Request) {
	if p.user != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
		if r.Header.Get("Proxy-Authorization") != want {
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
	}
	p.mu.Lock()
	if r.Method == http.MethodConnect {
		p.seen = append(p.seen, "CONNECT "+r.Host)
	} else {
		p.seen = append(p.seen, r.Method+" "+r.URL.String())
	}
	p.mu.Unlock()
	if r.Method == http.MethodConnect {
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(up, buf); up.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(conn, up); conn.Close() }()
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.Header().Set("X-Via-Proxy", "1")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func TestProxy(t *testing.T) {
	origin := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proxy-Auth-Leaked", r.Header.Get("Proxy-Authorization"))
		_, _ = w.Write([]byte("origin"))
	})
	tlsOrigin, pool := tlsServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("tls origin")) }, nil)
	open := newForwardProxy(t, "", "")
	authed := newForwardProxy(t, "pu", "pp")
	h := newClient(t, HTTPOptions{RootCAs: pool})

	tests := []struct {
		name       string
		call       Call
		proxy      *forwardProxy
		wantStatus int
		wantKind   Kind
		wantSeen   string
		wantBody   string
	}{
		{"http through a proxy (host:port)", Call{URL: origin.URL + "/a", Proxy: ProxyOptions{Server: hostPort(open.URL)}}, open, 200, "", "GET " + origin.URL + "/a", "origin"},
		{"http through a proxy (URL)", Call{URL: origin.URL + "/b", Proxy: ProxyOptions{Server: open.URL}}, open, 200, "", "GET " + origin.URL + "/b", "origin"},
		{"https tunnelled", Call{URL: tlsOrigin.URL + "/c", Proxy: ProxyOptions{Server: hostPort(open.URL)}}, open, 200, "", "CONNECT " + hostPort(tlsOrigin.URL), "tls origin"},
		{"credentials sent", Call{URL: origin.URL + "/d", Proxy: ProxyOptions{Server: hostPort(authed.URL), Credentials: &Credentials{User: "pu", Password: "pp"}}}, authed, 200, "", "GET " + origin.URL + "/d", "origin"},
		{"credentials sent on CONNECT", Call{URL: tlsOrigin.URL + "/e", Proxy: ProxyOptions{Server: hostPort(authed.URL), Credentials: &Credentials{User: "pu", Password: "pp"}}}, authed, 200, "", "CONNECT " + hostPort(tlsOrigin.URL), "tls origin"},
		{"missing credentials", Call{URL: origin.URL + "/f", Proxy: ProxyOptions{Server: hostPort(authed.URL)}}, authed, 407, "", "", ""},
		{"missing credentials on CONNECT", Call{URL: tlsOrigin.URL + "/g", Proxy: ProxyOptions{Server: hostPort(authed.URL)}}, authed, 0, KindConnect, "", ""},
		{"proxy down", Call{URL: origin.URL, Proxy: ProxyOptions{Server: closedAddr(t)}}, nil, 0, KindConnect, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call.Timeout = 5 * time.Second
			r := do(t, h, &tt.call)
			if tt.wantKind != "" {
				wantKind(t, r, tt.wantKind)
				return
			}
			wantOK(t, r, tt.wantStatus)
			if tt.wantBody != "" && string(r.Body) != tt.wantBody {
				t.Errorf("body %q", r.Body)
			}
			if r.Header.Get("X-Proxy-Auth-Leaked") != "" {
				t.Error("Proxy-Authorization reached the origin")
			}
			if tt.wantSeen != "" {
				log := tt.proxy.log()
				if len(log) == 0 || log[len(log)-1] != tt.wantSeen {
					t.Errorf("proxy saw %q, want last %q", log, tt.wantSeen)
				}
			}
		})
	}
}

func TestProxyIgnoresEnvironment(t *testing.T) {
	p := newForwardProxy(t, "", "")
	t.Setenv("HTTP_PROXY", p.URL)
	t.Setenv("http_proxy", p.URL)
	origin := server(t, func(w http.ResponseWriter, r *http.Request) {})
	h := newClient(t, HTTPOptions{})
	wantOK(t, do(t, h, &Call{URL: origin.URL}), 200)
	if log := p.log(); len(log) != 0 {
		t.Errorf("the environment proxy was used: %q", log)
	}
}

func TestConnectTo(t *testing.T) {
	plain := server(t, tlsEchoPlain)
	secure, pool := tlsServer(t, tlsEcho, nil)
	other := server(t, func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Other", "1") })
	_, plainPort, _ := net.SplitHostPort(hostPort(plain.URL))
	_, securePort, _ := net.SplitHostPort(hostPort(secure.URL))
	redirector := server(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	})
	_, redirPort, _ := net.SplitHostPort(hostPort(redirector.URL))
	h := newClient(t, HTTPOptions{RootCAs: pool})

	tests := []struct {
		name     string
		call     Call
		wantHost string
		wantKind Kind
		check    func(t *testing.T, r *Result)
	}{
		{"port override keeps the Host", Call{URL: "http://api.example:81/x", ConnectTo: ConnectTo{Host: "127.0.0.1", Port: plainPort}}, "api.example:81", "", nil},
		{"host only", Call{URL: "http://127.0.0.1:" + plainPort + "/x", ConnectTo: ConnectTo{Host: "127.0.0.1"}}, "127.0.0.1:" + plainPort, "", nil},
		{"https keeps SNI and verification on the URL host", Call{URL: "https://example.com/x", ConnectTo: ConnectTo{Host: "127.0.0.1", Port: securePort}}, "example.com", "", nil},
		{"certificate checked against the URL host", Call{URL: "https://not-in-cert.test/x", ConnectTo: ConnectTo{Host: "127.0.0.1", Port: securePort}}, "", KindTLS, nil},
		{"scheme override", Call{URL: "http://example.com/x", ConnectTo: ConnectTo{Scheme: "https", Host: "127.0.0.1", Port: securePort}}, "example.com", "", nil},
		{"a redirect elsewhere dials normally", Call{URL: "http://front.example/x", FollowRedirects: true, ConnectTo: ConnectTo{Host: "127.0.0.1", Port: redirPort}}, "", "", func(t *testing.T, r *Result) {
			wantOK(t, r, 200)
			if r.Header.Get("X-Other") != "1" || r.Redirects != 1 {
				t.Errorf("redirect did not reach the other server: %v, %d redirects", r.Header, r.Redirects)
			}
		}},
		{"override to a closed port", Call{URL: "http://api.example/x", ConnectTo: ConnectTo{Host: "127.0.0.1", Port: portOf(closedAddr(t))}}, "", KindConnect, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, &tt.call)
			if tt.check != nil {
				tt.check(t, r)
				return
			}
			if tt.wantKind != "" {
				wantKind(t, r, tt.wantKind)
				return
			}
			wantOK(t, r, 200)
			if got := r.Header.Get("X-Host"); got != tt.wantHost {
				t.Errorf("Host %q, want %q", got, tt.wantHost)
			}
			if !strings.HasPrefix(r.URL, strings.Split(tt.call.URL, ":")[0]) && tt.call.ConnectTo.Scheme == "" {
				t.Errorf("result URL %q", r.URL)
			}
		})
	}
}

func tlsEchoPlain(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Host", r.Host) }

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func TestTransportsBounded(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {})
	h := newClient(t, HTTPOptions{MaxTransports: 2})
	for _, sn := range []string{"a", "b", "c", "a"} {
		wantOK(t, do(t, h, &Call{URL: srv.URL, TLS: TLSOptions{ServerName: sn}}), 200)
	}
	h.transports.mu.Lock()
	n := h.transports.lru.Len()
	h.transports.mu.Unlock()
	if n != 2 {
		t.Errorf("%d transports kept, want 2", n)
	}
}

func TestDialBoundedByCallDeadline(t *testing.T) {
	addr := hostPort(server(t, func(w http.ResponseWriter, r *http.Request) {}).URL)
	ts := newTransports(0, nil, time.Minute)
	tr, e := ts.get(&Call{}, "")
	if e != nil {
		t.Fatal(e)
	}
	defer tr.CloseIdleConnections()
	tests := []struct {
		name    string
		k       *tracker
		wantErr bool
	}{
		{"no tracker", nil, false},
		{"future deadline", &tracker{deadline: time.Now().Add(time.Minute)}, false},
		{"deadline passed", &tracker{deadline: time.Now().Add(-time.Second)}, true},
		{"connect timeout of this hop passed", &tracker{connectTO: time.Millisecond, hopStart: time.Now().Add(-time.Second)}, true},
		{"connect timeout of this hop left", &tracker{connectTO: time.Minute, hopStart: time.Now(), deadline: time.Now().Add(time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if tt.k != nil {
				ctx = context.WithValue(ctx, dialDeadlineKey{}, tt.k)
			}
			conn, err := tr.DialContext(ctx, "tcp", addr)
			if conn != nil {
				conn.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestHTTP2(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		_, _ = io.Copy(w, r.Body)
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	pool := s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	h := newClient(t, HTTPOptions{RootCAs: pool})
	for i, disable := range []bool{false, false, true} {
		r := do(t, h, &Call{URL: s.URL, Body: []byte("h2 body"), DisableConnectionReuse: disable})
		wantOK(t, r, 200)
		if r.Header.Get("X-Proto") != "HTTP/2.0" || string(r.Body) != "h2 body" {
			t.Errorf("call %d: proto %q body %q", i, r.Header.Get("X-Proto"), r.Body)
		}
		if i == 1 && !r.ConnReused {
			t.Error("second HTTP/2 call did not reuse the connection")
		}
	}
}
