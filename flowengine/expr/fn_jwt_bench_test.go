package expr

import "testing"

// benchDecode measures jwt-decode of a token signed with alg.
func benchDecode(b *testing.B, alg, signKey, verifyKey string) {
	tok, err := encodeJWT(`{"user":"bob","scope":"read write"}`, signKey, 0, alg)
	if err != nil {
		b.Fatal(err)
	}
	e := MustCompile("jwt-decode($tok, $key, $alg)/user")
	c := &Context{Scope: mapScope{"tok": tok, "key": verifyKey, "alg": alg}}
	b.ReportAllocs()
	for b.Loop() {
		v, err := e.Eval(c)
		if err != nil || show(v) != "[user=bob]" {
			b.Fatalf("%s, %v", show(v), err)
		}
	}
}

func BenchmarkJWTDecodeHS256(b *testing.B) {
	k := b64u([]byte("a-secret-of-some-length-0123456789"))
	benchDecode(b, "HS256", k, k)
}

func BenchmarkJWTDecodeRS256(b *testing.B) {
	k := testKeys(b)
	benchDecode(b, "RS256", privPEM(b, k.rsa), pubPEM(b, k.rsa))
}

func BenchmarkJWTDecodeES256JWKS(b *testing.B) {
	k := testKeys(b)
	benchDecode(b, "ES256", privPEM(b, k.p256), `{"keys":[`+jwkOf(b, k.rsa, "r", "RS256", false)+`,`+jwkOf(b, k.p256, "e", "ES256", false)+`]}`)
}

func BenchmarkJWTEncodeRS256(b *testing.B) {
	k := testKeys(b)
	e := MustCompile("jwt-encode($claims, $key, 600, 'RS256')")
	c := &Context{Scope: mapScope{"claims": `{"user":"bob"}`, "key": privPEM(b, k.rsa)}}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := e.Eval(c); err != nil || v == "" {
			b.Fatalf("%v, %v", v, err)
		}
	}
}
