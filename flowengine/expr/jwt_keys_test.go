package expr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKeys are generated once per test binary.
type testKeySet struct {
	rsa     *rsa.PrivateKey
	rsa2    *rsa.PrivateKey
	p256    *ecdsa.PrivateKey
	p384    *ecdsa.PrivateKey
	p521    *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	rsaCert string // PEM certificate of rsa
}

var (
	keysOnce sync.Once
	tkeys    testKeySet
)

func testKeys(t testing.TB) *testKeySet {
	t.Helper()
	keysOnce.Do(func() {
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		var err error
		tkeys.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		tkeys.rsa2, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		tkeys.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		tkeys.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(err)
		tkeys.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		must(err)
		_, tkeys.ed, err = ed25519.GenerateKey(rand.Reader)
		must(err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4e9, 0)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &tkeys.rsa.PublicKey, tkeys.rsa)
		must(err)
		tkeys.rsaCert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	})
	return &tkeys
}

// pubPEM returns the PKIX PEM of k's public key.
func pubPEM(t testing.TB, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// privPEM returns the PKCS#8 PEM of k.
func privPEM(t testing.TB, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// bare strips the BEGIN/END lines and line breaks of a PEM text (FLAT's
// documented key form).
func bare(p string) string {
	var b strings.Builder
	for _, l := range strings.Split(p, "\n") {
		if !strings.HasPrefix(l, "-----") {
			b.WriteString(strings.TrimSpace(l))
		}
	}
	return b.String()
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkOf returns the JWK JSON of k (private members when priv).
func jwkOf(t testing.TB, k crypto.Signer, kid, alg string, priv bool) string {
	t.Helper()
	m := map[string]string{}
	if kid != "" {
		m["kid"] = kid
	}
	if alg != "" {
		m["alg"] = alg
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		m["kty"], m["n"], m["e"] = "RSA", b64u(k.N.Bytes()), b64u(big.NewInt(int64(k.E)).Bytes())
		if priv {
			m["d"], m["p"], m["q"] = b64u(k.D.Bytes()), b64u(k.Primes[0].Bytes()), b64u(k.Primes[1].Bytes())
		}
	case *ecdsa.PrivateKey:
		raw, _ := k.PublicKey.Bytes()
		size := (k.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"], m["x"], m["y"] = "EC", k.Curve.Params().Name, b64u(raw[1:1+size]), b64u(raw[1+size:])
		if priv {
			d, _ := k.Bytes()
			m["d"] = b64u(d)
		}
	case ed25519.PrivateKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64u(k.Public().(ed25519.PublicKey))
		if priv {
			m["d"] = b64u(k.Seed())
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}
