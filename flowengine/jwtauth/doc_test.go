package jwtauth

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// docExample is one example of docs/security.md.
type docExample struct {
	yaml     string
	requests []string
}

var exampleRE = regexp.MustCompile("(?s)<!-- example: ([a-z-]+) -->\\s*```yaml\\n(.*?)```\\s*```text requests\\n(.*?)```")

// readDocExamples extracts the examples of docs/security.md.
func readDocExamples(t *testing.T) map[string]docExample {
	t.Helper()
	b, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]docExample{}
	for _, m := range exampleRE.FindAllStringSubmatch(string(b), -1) {
		var reqs []string
		for _, l := range strings.Split(m[3], "\n") {
			if strings.TrimSpace(l) != "" {
				reqs = append(reqs, l)
			}
		}
		out[m[1]] = docExample{yaml: m[2], requests: reqs}
	}
	return out
}

var docTokenRE = regexp.MustCompile(`(HS256|RS256|none) (\{.*\})`)

// TestDocExamples loads every example of docs/security.md, sends its
// requests and compares the results with the documented ones.
func TestDocExamples(t *testing.T) {
	k := tk(t)
	mock := upstream.NewMock()
	mock.AnswerStatus("jwks", 200, nil, []byte(jwksJSON(t, jose.JSONWebKey{Key: &k.rsa.PublicKey, Use: "sig"})))
	env := map[string]string{"JWT_SECRET": b64url(k.hmac), "JWT_ISSUER": "https://login.example.com"}
	setup := map[string]struct {
		files map[string]string
	}{
		"bearer": {},
		"cookie": {files: map[string]string{"pubkey.pem": pemPublic(t, &k.rsa.PublicKey)}},
		"levels": {},
		"jwks":   {},
	}
	examples := readDocExamples(t)
	if len(examples) != len(setup) {
		t.Fatalf("docs/security.md has examples %v, the test knows %d", examples, len(setup))
	}
	sign := func(t *testing.T, alg, claimsJSON string) string {
		d := json.NewDecoder(strings.NewReader(claimsJSON))
		d.UseNumber()
		var c jwt.MapClaims
		if err := d.Decode(&c); err != nil {
			t.Fatalf("claims %s: %v", claimsJSON, err)
		}
		switch alg {
		case "HS256":
			return sign(t, jwt.SigningMethodHS256, k.hmac, c, nil)
		case "RS256":
			return sign(t, jwt.SigningMethodRS256, k.rsa, c, nil)
		}
		return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c, nil)
	}
	for name, ex := range examples {
		t.Run(name, func(t *testing.T) {
			su, ok := setup[name]
			if !ok {
				t.Fatalf("no setup for example %s", name)
			}
			files := map[string]string{"swagger.yaml": ex.yaml}
			for n, c := range su.files {
				files[n] = c
			}
			d, ck := compile(t, files, Options{Client: mock, LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }})
			for _, line := range ex.requests {
				parts := strings.Split(line, " | ")
				if len(parts) != 3 {
					t.Fatalf("bad request line %q", line)
				}
				mp := strings.Fields(parts[0])
				var headers []flowengine.Header
				if h := strings.TrimSpace(parts[1]); h != "-" {
					name, value, _ := strings.Cut(h, ": ")
					value = docTokenRE.ReplaceAllStringFunc(value, func(s string) string {
						m := docTokenRE.FindStringSubmatch(s)
						return sign(t, m[1], m[2])
					})
					headers = append(headers, flowengine.Header{Name: name, Value: value})
				}
				m := d.Match(mp[0], mp[1])
				okRes, fail := ck.Check(context.Background(), ck.ForMatch(m), headers)
				want := strings.TrimSpace(parts[2])
				if strings.HasPrefix(want, "pass") {
					if fail != nil {
						t.Fatalf("%s: %v", line, fail)
					}
					got := "pass"
					for _, tok := range okRes.Tokens {
						got += " $" + tok.OutVar
						if tok.OutHeader != "" {
							got += " " + tok.OutHeader
						}
					}
					if got != want {
						t.Fatalf("%s: got %q", line, got)
					}
					continue
				}
				info, isFail := strings.CutPrefix(want, "403 ")
				if !isFail {
					t.Fatalf("bad result in %q", line)
				}
				if fail == nil || fail.Status != 403 || fail.Code != 3206 || strings.Join(fail.Info, " || ") != info {
					t.Fatalf("%s:\n got %+v, %+v", line, okRes, fail)
				}
			}
		})
	}
}
