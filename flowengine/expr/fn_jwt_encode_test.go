package expr

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// encodeRawHS signs the signing input s with HS256 and secret.
func encodeRawHS(s string, secret []byte) (string, error) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(s))
	return s + "." + b64u(m.Sum(nil)), nil
}

func pkcs1PEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func pkcs1PubPEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}))
}

func sec1PEM(k *ecdsa.PrivateKey) string {
	der, _ := x509.MarshalECPrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

func TestFnJWTEncode(t *testing.T) {
	fixClock(t, 1700000000)
	k := testKeys(t)
	secret := b64u([]byte("secret"))
	sc := mapScope{
		"secret": secret,
		"claims": NodeSet{mustJSON(t, `{"user":"bob","exp":1,"a":[1,{"b":null}]}`).FirstChild},
		"doc":    NodeSet{mustJSON(t, `{"user":"doc"}`)},
		"rsa":    privPEM(t, k.rsa),
		"rsaPub": pubPEM(t, k.rsa),
		"ec":     bare(privPEM(t, k.p256)),
		"ecPub":  pubPEM(t, k.p256),
		"jwk":    jwkOf(t, k.rsa, "k1", "", true),
		"jwkPub": jwkOf(t, k.rsa, "k1", "", false),
		"oct":    `{"kty":"oct","kid":"o","k":"` + secret + `"}`,
	}
	for _, tc := range []fnCase{
		// The jwt.io example, re-encoded: same claims, same header, same signature.
		{"jwt-encode('{\"sub\":\"1234567890\",\"name\":\"John Doe\",\"iat\":1516239022}', '" + jwtIOSecret + "') = '" + jwtIO + "'", "true"},
		{"jwt-decode(jwt-encode('{\"a\":1}', $secret), $secret)/a", "[a=1]"},
		{"jwt-decode(jwt-encode($claims, $secret, 1), $secret)/a/value[2]/b", "[b=]"},
		{"jwt-decode(jwt-encode($doc, $secret), $secret)/user", "[user=doc]"},
		{"jwt-decode(jwt-encode($claims, $secret, 60), $secret)/exp", "[exp=1700000060]"},
		{"jwt-decode(jwt-encode($claims, $secret, 0), $secret)", "[]"}, // exp 1 kept: expired
		{"jwt-decode(jwt-encode('{\"a\":1}', $secret, 10, 'HS384'), $secret, 'HS384')/exp", "[exp=1700000010]"},
		{"jwt-decode(jwt-encode('{\"a\":1}', $secret, 0, 'HS512'), $secret, 'HS')/a", "[a=1]"},
		{"jwt-decode(jwt-encode('{\"a\":1}', $rsa, 0, 'RS256'), $rsaPub, 'RS256')/a", "[a=1]"},
		{"jwt-decode(jwt-encode('{\"a\":1}', $ec, 0, 'ES256'), $ecPub, 'ES256')/a", "[a=1]"},
		{"jwt-decode(jwt-encode('{\"a\":1}', $jwk, 0, 'PS256'), $jwkPub, 'PS256')/a", "[a=1]"},
		{"jwt-decode(jwt-encode('{\"a\":1}', $oct), $secret)/a", "[a=1]"},
		{"contains(base64-decode(substring-before(jwt-encode('{}', $jwk, 0, 'RS256'), '.')), '\"kid\":\"k1\"')", "true"},
		// Failures: "".
		{"jwt-encode('{\"a\":1}', $secret, 0, 'HS')", `""`},         // a family cannot sign
		{"jwt-encode('{\"a\":1}', $secret, 0, 'none')", `""`},       // never
		{"jwt-encode('{\"a\":1}', $secret, 0, 'XX256')", `""`},      // unknown
		{"jwt-encode('{\"a\":1}', '', 0)", `""`},                    // empty secret
		{"jwt-encode('{\"a\":1}', '%%', 0)", `""`},                  // not Base64URL
		{"jwt-encode('[1]', $secret)", `""`},                        // not an object
		{"jwt-encode('{', $secret)", `""`},                          // not JSON
		{"jwt-encode($undefined, $secret)", `""`},                   // no claims
		{"jwt-encode('{}', $secret, number('x'))", `""`},            // NaN ttl
		{"jwt-encode('{}', $rsaPub, 0, 'RS256')", `""`},             // public key cannot sign
		{"jwt-encode('{}', $jwkPub, 0, 'RS256')", `""`},             // public JWK cannot sign
		{"jwt-encode('{}', $ec, 0, 'ES384')", `""`},                 // wrong curve
		{"jwt-encode('{}', $ec, 0, 'RS256')", `""`},                 // wrong key type
		{"jwt-encode('{}', $rsa, 0, 'HS256')", `""`},                // PEM text is no Base64URL secret
		{"jwt-encode('{}', 'garbage', 0, 'RS256')", `""`},           // not a key
		{"jwt-encode('{}', '{\"kty\":\"RSA\"}', 0, 'RS256')", `""`}, // incomplete JWK
	} {
		t.Run(tc.src, func(t *testing.T) {
			if got := show(evalIn(t, tc.src, sc)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if !strings.HasPrefix(show(evalIn(t, "jwt-encode('{}', $secret)", sc)), `"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.`) {
		t.Error("header or payload of jwt-encode('{}') changed")
	}
}
