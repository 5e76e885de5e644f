package policies

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkVerifyJWE decrypts and verifies one encrypted JWT per
// iteration (the private key parsed per run, as it comes from a flow
// variable), for each kind of key-management algorithm.
func BenchmarkVerifyJWE(b *testing.B) {
	claims := `{"iss":"i","sub":"s","aud":"a","exp":` + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + `}`
	for _, alg := range []string{"A256KW", "dir", "RSA-OAEP-256", "ECDH-ES+A128KW", "PBES2-HS256+A128KW"} {
		b.Run(alg, func(b *testing.B) {
			_, key, vars := jweKeyElems(b, alg)
			vars["in"] = jweGenerate(b, alg, "A256GCM", claims, nil)
			p := jwtPolicy(b, `<VerifyJWT name="VJ"><Algorithms><Key>`+alg+`</Key></Algorithms><Source>in</Source>`+key+`<Issuer>i</Issuer><Audience>a</Audience></VerifyJWT>`)
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
