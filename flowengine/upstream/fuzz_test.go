package upstream

import (
	"strings"
	"testing"
)

// FuzzClientCertificate feeds arbitrary PEM to the client-certificate
// loader: it must fail with KindInvalid or succeed, never panic.
func FuzzClientCertificate(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n"), "pw")
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-CBC,zz\n\n\n-----END RSA PRIVATE KEY-----\n"), []byte(nil), "x")
	f.Fuzz(func(t *testing.T, cert, key []byte, password string) {
		_, e := clientCertificate(TLSOptions{ClientCertPEM: cert, ClientKeyPEM: key, ClientKeyPassword: password})
		if e != nil && e.Kind != KindInvalid {
			t.Fatalf("kind %s", e.Kind)
		}
	})
}

// FuzzProxyURL checks the proxy-server parser: an accepted value always
// has a host and a supported scheme.
func FuzzProxyURL(f *testing.F) {
	for _, s := range []string{"proxy:3128", "http://p:1", "socks5://[::1]:1080", "http://", "p:x", "ftp://a:1", "%zz"} {
		f.Add(s, "u", "p")
	}
	f.Fuzz(func(t *testing.T, server, user, pass string) {
		u, e := proxyURL(ProxyOptions{Server: server, Credentials: &Credentials{User: user, Password: pass}})
		if e != nil {
			if e.Kind != KindInvalid {
				t.Fatalf("kind %s", e.Kind)
			}
			return
		}
		if u.Host == "" || !strings.Contains("http https socks5 socks5h", u.Scheme) {
			t.Fatalf("accepted %q as %v", server, u)
		}
	})
}

// FuzzDefaultsFromEnv checks that any FLAT_* value either fails or gives
// non-negative timeouts with a positive total.
func FuzzDefaultsFromEnv(f *testing.F) {
	for _, s := range []string{"3", "0.5", "-1", "NaN", "Inf", "1e6", "0x10", " 2"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, total, other string) {
		env := map[string]string{"FLAT_DEFAULT_TIMEOUT": total, "FLAT_MAX_TIMEOUT": other, "FLAT_DEFAULT_CONNECT_TIMEOUT": other}
		d, err := DefaultsFromEnv(func(k string) string { return env[k] })
		if err != nil {
			return
		}
		if d.Timeout <= 0 || d.MaxTimeout < 0 || d.ConnectTimeout < 0 {
			t.Fatalf("%q/%q gave %+v", total, other, d)
		}
	})
}

// FuzzParseCredentials: user:password splits at the first colon and
// joins back to the input.
func FuzzParseCredentials(f *testing.F) {
	f.Add("u:p")
	f.Add("nocolon")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredentials(s)
		if err != nil {
			return
		}
		if c.User+":"+c.Password != s || strings.Contains(c.User, ":") {
			t.Fatalf("%q gave %+v", s, c)
		}
	})
}
