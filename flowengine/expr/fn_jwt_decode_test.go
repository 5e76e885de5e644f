package expr

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// evalIn compiles and evaluates src with the variables of sc.
func evalIn(t *testing.T, src string, sc mapScope) Value {
	t.Helper()
	e, err := Compile(src)
	if err != nil {
		t.Fatalf("Compile(%s): %v", src, err)
	}
	v, err := e.Eval(&Context{Scope: sc})
	if err != nil {
		t.Fatalf("Eval(%s): %v", src, err)
	}
	return v
}

// fixClock sets the JWT/unixtime clock to unix seconds for one test.
func fixClock(t *testing.T, unix int64) {
	old := now
	now = func() time.Time { return time.Unix(unix, 0) }
	t.Cleanup(func() { now = old })
}

// jwtIO is the HS256 example token of jwt.io (secret "your-256-bit-secret").
const (
	jwtIO       = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	jwtIOSecret = "eW91ci0yNTYtYml0LXNlY3JldA" // Base64URL of the secret
)

func TestFnJWTDecodeHS(t *testing.T) {
	fixClock(t, 1700000000)
	secret := b64u([]byte("secret"))
	sc := mapScope{"tok": jwtIO, "key": jwtIOSecret, "secret": secret,
		"padded": base64.URLEncoding.EncodeToString([]byte("your-256-bit-secret")),
		"jwk":    `{"kty":"oct","k":"` + jwtIOSecret + `"}`,
		"jwks":   `{"keys":[{"kty":"oct","kid":"a","k":"` + secret + `"},{"kty":"oct","kid":"b","k":"` + jwtIOSecret + `"}]}`,
		"jwkRS":  `{"kty":"oct","alg":"HS512","k":"` + jwtIOSecret + `"}`,
	}
	// Tokens signed here with other claims.
	mk := func(claims string) string {
		s, err := encodeJWT(claims, secret, 0, "HS256")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sc["expired"] = mk(`{"u":1,"exp":1699999999}`)
	sc["valid"] = mk(`{"u":1,"exp":1700000001,"nbf":1700000000,"iat":1700000000}`)
	sc["notyet"] = mk(`{"u":1,"nbf":1700000001}`)
	sc["future"] = mk(`{"u":1,"iat":1700000100}`)
	sc["expstr"] = mk(`{"u":1,"exp":"never"}`)
	hdr := b64u([]byte(`{"alg":"HS256","typ":"JWT"}`))
	sc["array"] = signedHS(t, hdr, b64u([]byte(`[1,2]`)), "secret")
	sc["notjson"] = signedHS(t, hdr, b64u([]byte(`{"a":`)), "secret")
	sc["none"] = b64u([]byte(`{"alg":"none"}`)) + "." + b64u([]byte(`{"u":1}`)) + "."
	sc["hs512"], _ = encodeJWT(`{"u":5}`, secret, 0, "HS512")
	sc["crit"] = signedHS(t, b64u([]byte(`{"alg":"HS256","crit":["exp"],"exp":1}`)), b64u([]byte(`{"u":1}`)), "secret")
	sc["nocrit"] = signedHS(t, b64u([]byte(`{"alg":"HS256","x":1}`)), b64u([]byte(`{"u":1}`)), "secret")

	for _, tc := range []fnCase{
		{"jwt-decode($tok, $key)/name", "[name=John Doe]"},
		{"jwt-decode($tok, $key)/iat", "[iat=1516239022]"},
		{"name(jwt-decode($tok, $key))", `"json"`},
		{"jwt-decode($tok, $key, 'HS256')/sub", "[sub=1234567890]"},
		{"jwt-decode($tok, $key, 'HS')/sub", "[sub=1234567890]"},
		{"jwt-decode(concat(' ', $tok, '\n'), $key)/sub", "[sub=1234567890]"},
		{"jwt-decode($tok, $padded)/sub", "[sub=1234567890]"},
		{"jwt-decode($tok, $jwk)/sub", "[sub=1234567890]"},
		{"jwt-decode($tok, $jwks)/sub", "[sub=1234567890]"},
		{"jwt-decode($hs512, $secret)/u", "[u=5]"},
		{"jwt-decode($hs512, $secret, 'HS385')", "[]"},
		{"jwt-decode($hs512, $secret, 'HS512')/u", "[u=5]"},
		{"jwt-decode($valid, $secret)/u", "[u=1]"},
		{"jwt-decode($nocrit, $secret)/u", "[u=1]"},
		{"jwt-decode($crit, $secret)", "[]"}, // crit is not understood
		// Failures: empty node-set.
		{"jwt-decode($tok, $secret)", "[]"},           // wrong secret
		{"jwt-decode($tok, $key, 'HS512')", "[]"},     // wrong alg
		{"jwt-decode($tok, $key, 'RS256')", "[]"},     // secret is no public key
		{"jwt-decode($tok, $key, 'HS999')", "[]"},     // unknown alg
		{"jwt-decode($tok, $key, 'none')", "[]"},      // never accepted
		{"jwt-decode($none, $key)", "[]"},             // alg none
		{"jwt-decode($tok, '')", "[]"},                // empty key
		{"jwt-decode($tok, '!!!')", "[]"},             // key not Base64URL
		{"jwt-decode($tok, $jwkRS)", "[]"},            // JWK alg HS512 only
		{"jwt-decode($expired, $secret)", "[]"},       // exp passed
		{"jwt-decode($notyet, $secret)", "[]"},        // nbf ahead
		{"jwt-decode($future, $secret)", "[]"},        // iat ahead
		{"jwt-decode($expstr, $secret)", "[]"},        // exp not a number
		{"jwt-decode($array, $secret)", "[]"},         // claims not an object
		{"jwt-decode($notjson, $secret)", "[]"},       // claims not JSON
		{"jwt-decode('', $secret)", "[]"},             // empty token
		{"jwt-decode('a.b', $secret)", "[]"},          // two parts
		{"jwt-decode('a.b.c', $secret)", "[]"},        // not Base64 JSON
		{"jwt-decode(concat($tok, 'x'), $key)", "[]"}, // signature changed
		{"jwt-decode($tok, '{')", "[]"},               // malformed JWK
		{"jwt-decode($tok, '{\"keys\":[]}')", "[]"},   // empty JWK set
		{"jwt-decode($tok, '{\"kty\":\"oct\",\"k\":\"\"}')", "[]"},
		{"jwt-decode($tok, '{\"kty\":\"xx\"}')", "[]"},
		{"jwt-decode($undefined, $undefined)", "[]"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			if got := show(evalIn(t, tc.src, sc)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// signedHS returns header.payload signed with HS256 and the raw secret.
func signedHS(t *testing.T, hdr, payload, secret string) string {
	t.Helper()
	tok, err := encodeRawHS(hdr+"."+payload, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestFnJWTDecodeAsymmetric(t *testing.T) {
	fixClock(t, 1700000000)
	k := testKeys(t)
	claims := `{"user":"bob","n":1.50}`
	type tcase struct {
		name, alg, signKey, verifyKey, verifyAlg string
		ok                                       bool
	}
	rsaPriv, rsaPub := privPEM(t, k.rsa), pubPEM(t, k.rsa)
	cases := []tcase{
		{"RS256 pem", "RS256", rsaPriv, rsaPub, "RS256", true},
		{"RS384 bare", "RS384", bare(rsaPriv), bare(rsaPub), "RS384", true},
		{"RS512 family", "RS512", rsaPriv, rsaPub, "RS", true},
		{"RS256 cert", "RS256", rsaPriv, k.rsaCert, "RS256", true},
		{"RS256 bare cert", "RS256", rsaPriv, bare(k.rsaCert), "RS", true},
		{"RS256 private as public", "RS256", rsaPriv, rsaPriv, "RS256", true},
		{"RS256 pkcs1", "RS256", pkcs1PEM(k.rsa), pkcs1PubPEM(k.rsa), "RS256", true},
		{"RS256 jwk", "RS256", jwkOf(t, k.rsa, "r1", "RS256", true), jwkOf(t, k.rsa, "r1", "RS256", false), "", true},
		{"RS256 jwk no alg", "RS256", rsaPriv, jwkOf(t, k.rsa, "", "", false), "RS256", true},
		{"RS256 jwks kid", "RS256", jwkOf(t, k.rsa, "r1", "", true),
			`{"keys":[` + jwkOf(t, k.rsa2, "r2", "RS256", false) + `,` + jwkOf(t, k.rsa, "r1", "RS256", false) + `]}`, "", true},
		{"RS256 jwks no kid tries all", "RS256", rsaPriv,
			`{"keys":[` + jwkOf(t, k.rsa2, "", "RS256", false) + `,` + jwkOf(t, k.rsa, "", "RS256", false) + `]}`, "", true},
		{"PS256", "PS256", rsaPriv, rsaPub, "PS256", true},
		{"PS384 family", "PS384", rsaPriv, rsaPub, "PS", true},
		{"PS512", "PS512", rsaPriv, bare(rsaPub), "PS512", true},
		{"ES256", "ES256", privPEM(t, k.p256), pubPEM(t, k.p256), "ES256", true},
		{"ES384 sec1", "ES384", sec1PEM(k.p384), pubPEM(t, k.p384), "ES", true},
		{"ES512", "ES512", privPEM(t, k.p521), bare(pubPEM(t, k.p521)), "ES512", true},
		{"ES256 jwk", "ES256", jwkOf(t, k.p256, "e", "ES256", true), jwkOf(t, k.p256, "e", "ES256", false), "", true},
		{"EdDSA", "EdDSA", privPEM(t, k.ed), pubPEM(t, k.ed), "EdDSA", true},
		{"EdDSA jwk", "EdDSA", jwkOf(t, k.ed, "", "EdDSA", true), jwkOf(t, k.ed, "", "", false), "EdDSA", true},
		// Failures.
		{"RS without alg", "RS256", rsaPriv, rsaPub, "", false},
		{"RS jwk without alg", "RS256", rsaPriv, jwkOf(t, k.rsa, "", "", false), "", false},
		{"RS wrong key", "RS256", rsaPriv, pubPEM(t, k.rsa2), "RS256", false},
		{"RS256 token, RS512 expected", "RS256", rsaPriv, rsaPub, "RS512", false},
		{"RS token, PS expected", "RS256", rsaPriv, rsaPub, "PS", false},
		{"RS token, HS expected", "RS256", rsaPriv, bare(rsaPub), "HS", false},
		{"RS token, EC key", "RS256", rsaPriv, pubPEM(t, k.p256), "RS256", false},
		{"ES256 token, P-384 key", "ES256", privPEM(t, k.p256), pubPEM(t, k.p384), "ES", false},
		{"jwks kid mismatch", "RS256", jwkOf(t, k.rsa, "r1", "", true), `{"keys":[` + jwkOf(t, k.rsa, "r9", "RS256", false) + `]}`, "", false},
		{"jwk alg mismatch", "RS256", rsaPriv, jwkOf(t, k.rsa, "", "RS512", false), "RS256", false},
		{"garbage key", "RS256", rsaPriv, "MIIBIjAN", "RS256", false},
		{"bad PEM", "RS256", rsaPriv, "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----", "RS256", false},
		{"jwk enc use", "RS256", rsaPriv, strings.Replace(jwkOf(t, k.rsa, "", "RS256", false), "{", `{"use":"enc",`, 1), "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := encodeJWT(claims, tc.signKey, 0, tc.alg)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			sc := mapScope{"tok": tok, "key": tc.verifyKey, "alg": tc.verifyAlg}
			src := "jwt-decode($tok, $key, $alg)/user"
			if tc.verifyAlg == "" {
				src = "jwt-decode($tok, $key)/user"
			}
			got := show(evalIn(t, src, sc))
			want := "[]"
			if tc.ok {
				want = "[user=bob]"
			}
			if got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
	// Algorithm confusion: an HS256 token whose secret is the RSA public
	// key text must not verify when RS is expected.
	tok, err := encodeRawHS(b64u([]byte(`{"alg":"HS256"}`))+"."+b64u([]byte(`{"user":"eve"}`)), []byte(rsaPub))
	if err != nil {
		t.Fatal(err)
	}
	if got := show(evalIn(t, "jwt-decode($tok, $key, 'RS')", mapScope{"tok": tok, "key": rsaPub})); got != "[]" {
		t.Errorf("alg confusion accepted: %s", got)
	}
}
