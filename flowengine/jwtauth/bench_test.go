package jwtauth

import (
	"context"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine"
)

func benchCheck(b *testing.B, path string, tok string) {
	files, opts := checkProject(b)
	d, ck := compile(b, files, opts)
	req := reqFor(b, d, ck, path, "GET")
	hs := []flowengine.Header{{Name: "Accept", Value: "*/*"}, {Name: "Authorization", Value: "Bearer " + tok}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, fail := ck.Check(ctx, req, hs); fail != nil {
			b.Fatal(fail)
		}
	}
}

var benchClaims = jwt.MapClaims{"aud": "api", "iss": "https://issuer.example", "sub": "alice", "scope": "read write", "exp": testNow.Unix() + 3600}

// BenchmarkCheckHS256 is one request with an HS256 bearer token and two
// configured claims.
func BenchmarkCheckHS256(b *testing.B) {
	benchCheck(b, "/hs", sign(b, jwt.SigningMethodHS256, tk(b).hmac, benchClaims, nil))
}

// BenchmarkCheckRS256 is one request with an RS256 (2048-bit) bearer
// token.
func BenchmarkCheckRS256(b *testing.B) {
	benchCheck(b, "/rs", sign(b, jwt.SigningMethodRS256, tk(b).rsa, benchClaims, nil))
}

// BenchmarkCheckHugeHeader is a rejected 1 MiB Authorization header: the
// work does not depend on its size beyond finding the header.
func BenchmarkCheckHugeHeader(b *testing.B) {
	files, opts := checkProject(b)
	d, ck := compile(b, files, opts)
	req := reqFor(b, d, ck, "/hs", "GET")
	hs := bearerH(strings.Repeat("A", 1<<20) + ".e30.x")
	b.ReportAllocs()
	for b.Loop() {
		if _, fail := ck.Check(context.Background(), req, hs); fail == nil {
			b.Fatal("passed")
		}
	}
}
