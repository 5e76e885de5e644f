package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestStaticKey(t *testing.T) {
	k := tk(t)
	rsaPEM := pemPublic(t, &k.rsa.PublicKey)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: testNow, NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.rsa.PublicKey, k.rsa)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	privDER, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
	ecPEM := pemPublic(t, &k.ec384.PublicKey)
	edPEM := pemPublic(t, k.ed.Public())
	// A PEM body split over indented lines, as it is pasted into YAML.
	body := pemBody(rsaPEM)
	wrapped := body[:64] + "\n  " + body[64:]

	tests := []struct {
		name, alg, key string
		want           string // key kind, or "" on error
		methods        string
		err            string
	}{
		{name: "HMAC Base64URL", alg: "HS256", key: b64url(k.hmac), want: "hmac", methods: "HS256"},
		{name: "HMAC with padding", alg: "HS", key: "c2VjcmV0eA==", want: "hmac", methods: "HS256, HS384, HS512"},
		{name: "HMAC with - and _", alg: "HS256", key: "-_-_", want: "hmac", methods: "HS256"},
		{name: "HMAC standard Base64 with +", alg: "HS256", key: "ab+c", err: "must be Base64URL-encoded"},
		{name: "HMAC empty", alg: "HS256", key: "  ", err: "empty"},
		{name: "HMAC given a PEM", alg: "HS256", key: rsaPEM, err: "but the key is PEM"},
		{name: "RSA PKIX PEM", alg: "RS256", key: rsaPEM, want: "rsa", methods: "RS256"},
		{name: "RSA body only (FLAT's form)", alg: "RS", key: pemBody(rsaPEM), want: "rsa", methods: "RS256, RS384, RS512"},
		{name: "RSA body with line breaks", alg: "RS256", key: wrapped, want: "rsa", methods: "RS256"},
		{name: "RSA PKCS#1", alg: "PS256", key: pkcs1, want: "rsa", methods: "PS256"},
		{name: "RSA PKCS#1 body", alg: "RS256", key: pemBody(pkcs1), want: "rsa", methods: "RS256"},
		{name: "certificate", alg: "RS256", key: cert, want: "rsa", methods: "RS256"},
		{name: "EC P-384, family narrowed", alg: "ES", key: ecPEM, want: "ec", methods: "ES384"},
		{name: "EC P-384 for ES256", alg: "ES256", key: ecPEM, err: "needs ES384"},
		{name: "Ed25519", alg: "EdDSA", key: edPEM, want: "ed", methods: "EdDSA"},
		{name: "Ed25519 for RS", alg: "RS256", key: edPEM, err: "needs an RSA public key, but the key is an Ed25519 public key"},
		{name: "RSA for EdDSA", alg: "EdDSA", key: rsaPEM, err: "needs an Ed25519 public key"},
		{name: "private key PEM", alg: "RS256", key: priv, err: "private key"},
		{name: "private key body", alg: "RS256", key: pemBody(priv), err: "private key"},
		{name: "broken PEM", alg: "RS256", key: "-----BEGIN PUBLIC KEY-----\n!!!\n", err: "not valid PEM"},
		{name: "unknown PEM block", alg: "RS256", key: string(pem.EncodeToMemory(&pem.Block{Type: "FOO", Bytes: []byte{1}})), err: "unsupported PEM block"},
		{name: "not Base64", alg: "RS256", key: "not a key!", err: "neither PEM nor a Base64 PEM body"},
		{name: "Base64 but not a key", alg: "RS256", key: "c2VjcmV0", err: "does not parse"},
		{name: "too long", alg: "RS256", key: strings.Repeat("A", maxKeyBytes+1), err: "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseAlg(tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			key, got, err := staticKey(a, tt.key)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("staticKey = %T, %v; want error %q", key, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kindOf(key) != tt.want || got.String() != tt.methods {
				t.Fatalf("key %T with %s, want %s with %s", key, got, tt.want, tt.methods)
			}
		})
	}
}

func kindOf(key any) string {
	switch key.(type) {
	case []byte:
		return "hmac"
	case *rsa.PublicKey:
		return "rsa"
	case *ecdsa.PublicKey:
		return "ec"
	case ed25519.PublicKey:
		return "ed"
	}
	return "?"
}
