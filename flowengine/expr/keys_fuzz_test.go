package expr

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseKey checks that the key parsers (PEM with or without
// boundaries, encrypted PKCS#8, JWK and JWK sets) never panic and that a
// parsed key is usable for its type.
func FuzzParseKey(f *testing.F) {
	k := testKeys(f)
	for _, s := range []string{
		pubPEM(f, k.rsa), bare(pubPEM(f, k.p256)), privPEM(f, k.ed), bare(k.rsaCert), sec1PEM(k.p384), pkcs1PEM(k.rsa),
		jwkOf(f, k.rsa, "a", "RS256", true), jwkOf(f, k.p521, "", "", true), jwkOf(f, k.ed, "", "", false),
		`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----",
		"MIIB", "", "{", `{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}`,
	} {
		f.Add(s, "")
	}
	for _, name := range []string{"rsa_enc_aes.pem", "rsa_enc_des3.pem"} {
		b, err := os.ReadFile(filepath.Join("testdata", "crypto", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "secret")
		f.Add(bare(string(b)), "wrong")
	}
	f.Fuzz(func(t *testing.T, s, pass string) {
		if pub, err := parsePublicKey(s); err == nil && pub == nil {
			t.Fatal("nil public key without error")
		}
		if priv, err := parsePrivateKey(s, pass); err == nil && priv.Public() == nil {
			t.Fatal("private key without public key")
		}
		if keys, err := parseJWKs(s); err == nil {
			for _, k := range keys {
				if k.key == nil {
					t.Fatal("JWK without key")
				}
			}
		}
		_, _ = hmacSecret(s)
	})
}

// FuzzJWTDecode checks that jwt-decode never panics and never accepts a
// token under a key it was not signed with.
func FuzzJWTDecode(f *testing.F) {
	secret := b64u([]byte("secret"))
	good, _ := encodeJWT(`{"a":1}`, secret, 0, "HS256")
	f.Add(good, secret, "")
	f.Add(jwtIO, jwtIOSecret, "HS")
	f.Add("a.b.c", "", "RS256")
	f.Add(good, `{"kty":"oct","k":"c2VjcmV0"}`, "")
	f.Fuzz(func(t *testing.T, tok, key, alg string) {
		root, err := decodeJWT(tok, key, alg)
		if err == nil && root == nil {
			t.Fatal("nil claims without error")
		}
		if err == nil && key == "wrong" {
			t.Fatal("verified with a key that is no valid secret")
		}
	})
}
