package policies

import (
	"testing"
	"time"
)

// BenchmarkVerifyJWT verifies one token per iteration (PEM key parsed
// per run, as the key comes from a flow variable).
func BenchmarkVerifyJWT(b *testing.B) {
	k := jwtTestKeys(b)
	claims := map[string]any{"iss": "i", "sub": "s", "aud": "a", "exp": time.Now().Add(time.Hour).Unix()}
	for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			name := jwtKeyFor(alg)
			key, vars := `<PublicKey><Value ref="pk"/></PublicKey>`, map[string]string{"pk": k.pubPEM[name]}
			if name == "secret" {
				key, vars = `<SecretKey><Value ref="private.pk"/></SecretKey>`, map[string]string{"private.pk": k.secret}
			}
			vars["in"] = jwtSign(b, alg, name, nil, claims)
			p := jwtPolicy(b, `<VerifyJWT name="VJ"><Algorithm>`+alg+`</Algorithm><Source>in</Source>`+key+`<Issuer>i</Issuer><Audience>a</Audience></VerifyJWT>`)
			r := jwtRun(b, vars)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Execute(r); err != nil {
					b.Fatal(faultOf(err))
				}
			}
		})
	}
}
