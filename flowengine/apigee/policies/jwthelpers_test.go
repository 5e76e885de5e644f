package policies

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// jwtKeySet is the keys the JWT tests sign and verify with, generated
// once per test binary.
type jwtKeySet struct {
	rsa, rsa2     *rsa.PrivateKey
	p256, p384    *ecdsa.PrivateKey
	p521          *ecdsa.PrivateKey
	ed            ed25519.PrivateKey
	secret        string // 64 bytes, enough for HS512
	privPEM       map[string]string
	pubPEM        map[string]string
	signerFor     map[string]crypto.Signer
	publicForName map[string]crypto.PublicKey
}

var (
	jwtKeysOnce sync.Once
	jwtKeysVal  *jwtKeySet
)

// jwtTestKeys generates (once) an RSA, P-256/384/521 and Ed25519 key.
func jwtTestKeys(t testing.TB) *jwtKeySet {
	t.Helper()
	jwtKeysOnce.Do(func() {
		k := &jwtKeySet{secret: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			privPEM: map[string]string{}, pubPEM: map[string]string{}, signerFor: map[string]crypto.Signer{}, publicForName: map[string]crypto.PublicKey{}}
		var err error
		if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		k.p256, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		k.p384, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		k.p521, _ = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		_, k.ed, _ = ed25519.GenerateKey(rand.Reader)
		for name, s := range map[string]crypto.Signer{"rsa": k.rsa, "rsa2": k.rsa2, "p256": k.p256, "p384": k.p384, "p521": k.p521, "ed": k.ed} {
			der, _ := x509.MarshalPKCS8PrivateKey(s)
			k.privPEM[name] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
			pub, _ := x509.MarshalPKIXPublicKey(s.Public())
			k.pubPEM[name] = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
			k.signerFor[name] = s
			k.publicForName[name] = s.Public()
		}
		jwtKeysVal = k
	})
	return jwtKeysVal
}

// jwtKeyFor names the test key an algorithm uses.
func jwtKeyFor(alg string) string {
	switch alg[:2] {
	case "RS", "PS":
		return "rsa"
	case "ES":
		return map[string]string{"ES256": "p256", "ES384": "p384", "ES512": "p521"}[alg]
	case "Ed":
		return "ed"
	}
	return "secret"
}

// jwtSign signs claims with alg and the named test key ("secret" for
// HS), adding the extra protected headers.
func jwtSign(t testing.TB, alg, keyName string, hdr map[string]any, claims map[string]any) string {
	t.Helper()
	k := jwtTestKeys(t)
	var key any = []byte(k.secret)
	if keyName != "secret" {
		key = k.signerFor[keyName]
	}
	h := jws.NewHeaders()
	for n, v := range hdr {
		if err := h.Set(n, v); err != nil {
			t.Fatal(err)
		}
	}
	body, _ := json.Marshal(claims)
	a, _ := jwa.LookupSignatureAlgorithm(alg)
	tok, err := jws.Sign(body, jws.WithKey(a, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return string(tok)
}

// jwtRaw builds a compact token from raw JSON parts and a signature
// (unsigned or forged tokens).
func jwtRaw(header, payload, sig string) string {
	e := base64.RawURLEncoding
	return e.EncodeToString([]byte(header)) + "." + e.EncodeToString([]byte(payload)) + "." + e.EncodeToString([]byte(sig))
}

// jwtJWKS renders the named public keys as a JWKS with kid = name.
func jwtJWKS(t testing.TB, names ...string) string {
	t.Helper()
	k := jwtTestKeys(t)
	set := jwk.NewSet()
	for _, n := range names {
		jk, err := jwk.Import(k.publicForName[n])
		if err != nil {
			t.Fatal(err)
		}
		_ = jk.Set(jwk.KeyIDKey, n)
		_ = set.AddKey(jk)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jwtRun is a ProxyRequest run with the given variables set.
func jwtRun(t testing.TB, vars map[string]string, headers ...string) *engine.Run {
	t.Helper()
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil, headers...)
	for n, v := range vars {
		if err := r.Set(n, v); err != nil {
			t.Fatalf("set %s: %v", n, err)
		}
	}
	return r
}

// jwtPolicy compiles a JWT policy or fails.
func jwtPolicy(t testing.TB, src string) engine.Policy {
	t.Helper()
	p, errs := engine.TestPolicy(src, nil, nil)
	if len(errs) > 0 || p == nil {
		t.Fatalf("compile: %v\n%s", errs, src)
	}
	return p
}
