package jwtauth

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine"
)

// FuzzCheck feeds arbitrary tokens to Check (HS256 and RS256 schemes):
// nothing panics, exactly one result comes back, and a pass carries a
// JSON object.
func FuzzCheck(f *testing.F) {
	k := tk(f)
	files, opts := checkProject(f)
	d, ck := compile(f, files, opts)
	hsReq := reqFor(f, d, ck, "/scoped", "GET")
	rsReq := reqFor(f, d, ck, "/rs", "GET")
	f.Add(sign(f, jwt.SigningMethodHS256, k.hmac, jwt.MapClaims{"scope": "read write"}, nil))
	f.Add(sign(f, jwt.SigningMethodRS256, k.rsa, jwt.MapClaims{"sub": "a"}, nil))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJIUzI1NiJ9.W10.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		for _, req := range []Requirements{hsReq, rsReq} {
			for _, hs := range [][]flowengine.Header{
				{{Name: "Authorization", Value: "Bearer " + tok}},
				{{Name: "Authorization", Value: tok}},
				{{Name: "Cookie", Value: tok}},
			} {
				ok, fail := ck.Check(context.Background(), req, hs)
				if (ok == nil) == (fail == nil) {
					t.Fatalf("Check(%q) = %v, %v", tok, ok, fail)
				}
				if ok != nil {
					for _, tk := range ok.Tokens {
						var m map[string]any
						if err := json.Unmarshal(tk.Claims, &m); err != nil {
							t.Fatalf("claims %q: %v", tk.Claims, err)
						}
					}
				}
			}
		}
	})
}

// FuzzPublicKey feeds arbitrary key text to the key parsers.
func FuzzPublicKey(f *testing.F) {
	k := tk(f)
	f.Add(pemPublic(f, &k.rsa.PublicKey))
	f.Add(pemBody(pemPublic(f, &k.ec256.PublicKey)))
	f.Add("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
	f.Add("c2VjcmV0")
	f.Fuzz(func(t *testing.T, s string) {
		for _, alg := range []string{"HS256", "RS", "ES", "PS256", "EdDSA"} {
			a, err := parseAlg(alg)
			if err != nil {
				t.Fatal(err)
			}
			key, got, err := staticKey(a, s)
			if err != nil {
				continue
			}
			if _, err := fitKey(got, key); err != nil {
				t.Fatalf("staticKey(%s) returned a key that does not fit: %v", alg, err)
			}
		}
	})
}

// FuzzParseJWKS feeds arbitrary documents to the key set parser: any key
// it returns is a public signing key.
func FuzzParseJWKS(f *testing.F) {
	k := tk(f)
	f.Add([]byte(jwksJSON(f, jose.JSONWebKey{Key: &k.rsa.PublicKey, KeyID: "k1"}, jose.JSONWebKey{Key: &k.ec256.PublicKey})))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := parseJWKS(data)
		if err != nil {
			return
		}
		if len(keys) == 0 || len(keys) > maxJWKSKeys {
			t.Fatalf("%d keys", len(keys))
		}
		for _, key := range keys {
			if !key.IsPublic() || kindOf(key.Key) == "?" || kindOf(key.Key) == "hmac" {
				t.Fatalf("unusable key %T", key.Key)
			}
		}
	})
}

// FuzzNoDuplicateKeys: the walker never panics, and a document re-encoded
// from a Go value (which cannot repeat keys) always passes.
func FuzzNoDuplicateKeys(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"a":[1,{"c":2}]}}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`[{"x":1},{"x":2}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = noDuplicateKeys(b)
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := noDuplicateKeys(again); err != nil {
			t.Fatalf("noDuplicateKeys(%s) = %v", again, err)
		}
	})
}
