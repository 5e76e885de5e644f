package jwtauth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine"
)

// checkProject is a definition with one path per scheme (and the
// combinations /or and /and).
func checkProject(t testing.TB) (map[string]string, Options) {
	k := tk(t)
	rsaPEM := pemPublic(t, &k.rsa.PublicKey)
	files := map[string]string{
		"swagger.yaml": `swagger: "2.0"
info: {title: t, version: "1"}
basePath: /api
securityDefinitions:
  HS:
    type: apiKey
    in: header
    name: Authorization
    x-flat-jwt:
      key: {env: HS_KEY}
      claims:
        aud: api
        iss: {env: ISSUER}
  Scoped:
    type: apiKey
    in: header
    name: Authorization
    x-flat-jwt:
      key: {env: HS_KEY}
      alg: HS
  RS:
    type: apiKey
    in: header
    name: Authorization
    x-flat-jwt:
      key: {file: keys/rsa.pem}
      alg: RS256
      post-check-flow: check.xml
  RSFamily:
    type: apiKey
    in: header
    name: Authorization
    x-flat-jwt:
      key: ` + pemBody(rsaPEM) + `
      alg: {file: keys/alg.txt}
  PS:
    type: apiKey
    in: header
    name: Authorization
    x-flat-jwt:
      key: {file: keys/rsa.pem}
      alg: PS256
  ES:
    type: apiKey
    in: header
    name: Authorization
    x-flat-jwt:
      key: {file: keys/ec.pem}
      alg: ES
  Ed:
    type: apiKey
    in: header
    name: Authorization
    x-flat-jwt:
      key: {file: keys/ed.pem}
      alg: EdDSA
  Cookie:
    type: apiKey
    in: header
    name: Cookie
    x-flat-cookiename: authtoken
    x-flat-jwt:
      key: {env: HS_KEY}
      out-var: $cookie_token
      out-header: X-JWT
      scope-claim: permission
paths:
  /hs: {get: {security: [{HS: []}]}}
  /scoped: {get: {security: [{Scoped: [read, write]}]}}
  /rs: {get: {security: [{RS: []}]}}
  /rsfamily: {get: {security: [{RSFamily: []}]}}
  /ps: {get: {security: [{PS: []}]}}
  /es: {get: {security: [{ES: []}]}}
  /ed: {get: {security: [{Ed: []}]}}
  /cookie: {get: {security: [{Cookie: [admin]}]}}
  /or: {get: {security: [{HS: []}, {Cookie: []}]}}
  /and: {get: {security: [{Scoped: [], Cookie: []}]}}
`,
		"check.xml":    "<flow/>",
		"keys/rsa.pem": rsaPEM,
		"keys/alg.txt": "RS\n",
		"keys/ec.pem":  pemPublic(t, &k.ec256.PublicKey),
		"keys/ed.pem":  pemPublic(t, k.ed.Public()),
	}
	env := map[string]string{"HS_KEY": b64url(k.hmac), "ISSUER": "https://issuer.example"}
	return files, Options{LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }}
}

func TestCheck(t *testing.T) {
	k := tk(t)
	files, opts := checkProject(t)
	d, ck := compile(t, files, opts)
	now := testNow.Unix()
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, k.hmac, c, nil) }
	good := jwt.MapClaims{"aud": "api", "iss": "https://issuer.example", "sub": "alice", "exp": now + 60}
	with := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range good {
			c[k] = v
		}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	// hs2 signs a raw JSON payload (golang-jwt would re-encode a map).
	hs2 := func(payload string) string {
		head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
		sig, err := jwt.SigningMethodHS256.Sign(head, k.hmac)
		if err != nil {
			t.Fatal(err)
		}
		return head + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	valid := hs(good)
	parts := strings.Split(valid, ".")
	otherPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"api","iss":"https://issuer.example","sub":"mallory"}`))
	sig := []byte(parts[2])
	if sig[5] == 'A' { // still Base64URL, different bytes
		sig[5] = 'B'
	} else {
		sig[5] = 'A'
	}
	rsaDER, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	noneTok := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	cookie := func(v string) []flowengine.Header { return []flowengine.Header{{Name: "Cookie", Value: v}} }
	cookieTok := hs(jwt.MapClaims{"sub": "bob", "permission": []any{"admin", "user"}})

	tests := []struct {
		name, path string
		headers    []flowengine.Header
		wantInfo   []string // nil: success
		wantScheme string
	}{
		// Algorithms and keys.
		{name: "HS256 valid", path: "/hs", headers: bearerH(valid), wantScheme: "HS"},
		{name: "HS384 by family", path: "/scoped", headers: bearerH(sign(t, jwt.SigningMethodHS384, k.hmac, jwt.MapClaims{"scope": "read write"}, nil)), wantScheme: "Scoped"},
		{name: "RS256 valid (PEM file)", path: "/rs", headers: bearerH(sign(t, jwt.SigningMethodRS256, k.rsa, good, nil)), wantScheme: "RS"},
		{name: "RS512 by family (PEM body only)", path: "/rsfamily", headers: bearerH(sign(t, jwt.SigningMethodRS512, k.rsa, good, nil)), wantScheme: "RSFamily"},
		{name: "PS256 valid", path: "/ps", headers: bearerH(sign(t, jwt.SigningMethodPS256, k.rsa, good, nil)), wantScheme: "PS"},
		{name: "ES256 valid (family narrowed by the curve)", path: "/es", headers: bearerH(sign(t, jwt.SigningMethodES256, k.ec256, good, nil)), wantScheme: "ES"},
		{name: "EdDSA valid", path: "/ed", headers: bearerH(sign(t, jwt.SigningMethodEdDSA, k.ed, good, nil)), wantScheme: "Ed"},
		{name: "RS256 signed by another key", path: "/rs", headers: bearerH(sign(t, jwt.SigningMethodRS256, k.rsa2, good, nil)),
			wantInfo: []string{"JWT Security (RS): Invalid JWT: Signature verification failed."}},
		{name: "PS256 token where RS256 is pinned", path: "/rs", headers: bearerH(sign(t, jwt.SigningMethodPS256, k.rsa, good, nil)),
			wantInfo: []string{"JWT Security (RS): Invalid JWT: Algorithm PS256 not allowed."}},
		{name: "RS256 token where PS256 is pinned", path: "/ps", headers: bearerH(sign(t, jwt.SigningMethodRS256, k.rsa, good, nil)),
			wantInfo: []string{"JWT Security (PS): Invalid JWT: Algorithm RS256 not allowed."}},
		{name: "ES384 token for a P-256 key", path: "/es", headers: bearerH(sign(t, jwt.SigningMethodES384, k.ec384, good, nil)),
			wantInfo: []string{"JWT Security (ES): Invalid JWT: Algorithm ES384 not allowed."}},
		{name: "alg none", path: "/hs", headers: bearerH(noneTok),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Algorithm none not allowed."}},
		{name: "alg none on RSA", path: "/rs", headers: bearerH(noneTok),
			wantInfo: []string{"JWT Security (RS): Invalid JWT: Algorithm none not allowed."}},
		{name: "HMAC token keyed with the RSA public key (alg confusion)", path: "/rs",
			headers:  bearerH(sign(t, jwt.SigningMethodHS256, []byte(pemPublic(t, &k.rsa.PublicKey)), good, nil)),
			wantInfo: []string{"JWT Security (RS): Invalid JWT: Algorithm HS256 not allowed."}},
		{name: "HMAC token keyed with the RSA DER (alg confusion)", path: "/rsfamily",
			headers:  bearerH(sign(t, jwt.SigningMethodHS256, rsaDER, good, nil)),
			wantInfo: []string{"JWT Security (RSFamily): Invalid JWT: Algorithm HS256 not allowed."}},
		{name: "unknown alg", path: "/hs", headers: bearerH("eyJhbGciOiJYWDk5In0." + parts[1] + "." + parts[2]),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Algorithm not allowed."}},

		// Tampering and malformed tokens.
		{name: "payload swapped", path: "/hs", headers: bearerH(parts[0] + "." + otherPayload + "." + parts[2]),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Signature verification failed."}},
		{name: "signature flipped", path: "/hs", headers: bearerH(parts[0] + "." + parts[1] + "." + string(sig)),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Signature verification failed."}},
		{name: "malformed base64", path: "/hs", headers: bearerH(parts[0] + ".e30!*." + parts[2]),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Malformed token."}},
		{name: "padded base64", path: "/hs", headers: bearerH(parts[0] + "=." + parts[1] + "." + parts[2]),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Malformed token."}},
		{name: "two segments", path: "/hs", headers: bearerH(parts[0] + "." + parts[1]),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Malformed token."}},
		{name: "duplicate claim", path: "/hs", headers: bearerH(hs2(`{"aud":"api","iss":"https://issuer.example","aud":"evil"}`)),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Malformed token."}},
		{name: "payload not an object", path: "/hs", headers: bearerH(parts[0] + ".WzFd." + parts[2]),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Malformed token."}},
		{name: "huge token", path: "/hs", headers: bearerH(strings.Repeat("a", DefaultMaxTokenBytes) + "." + parts[1] + "." + parts[2]),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Token too large."}},

		// Time claims (leeway 30 s).
		{name: "expired", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"exp": now - 3600}))),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Token has expired."}},
		{name: "expired within the leeway", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"exp": now - 20}))), wantScheme: "HS"},
		{name: "no exp", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"exp": nil}))), wantScheme: "HS"},
		{name: "not yet valid", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"nbf": now + 3600}))),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Token is not yet valid."}},
		{name: "nbf within the leeway", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"nbf": now + 20}))), wantScheme: "HS"},
		{name: "issued in the future", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"iat": now + 3600}))),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Token issued in the future."}},
		{name: "exp not a number", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"exp": "tomorrow"}))),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Invalid claims."}},

		// Configured claims.
		{name: "aud array containing the value", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"aud": []any{"other", "api"}}))), wantScheme: "HS"},
		{name: "wrong aud", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"aud": "web"}))),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Claim aud does not match."}},
		{name: "aud array without the value", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"aud": []any{"web"}}))),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Claim aud does not contain the expected value."}},
		{name: "wrong iss (from env)", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"iss": "https://evil.example"}))),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Claim iss does not match."}},
		{name: "missing iss", path: "/hs", headers: bearerH(hs(with(jwt.MapClaims{"iss": nil}))),
			wantInfo: []string{"JWT Security (HS): Invalid JWT: Claim iss missing."}},

		// Scopes.
		{name: "scopes as a string", path: "/scoped", headers: bearerH(hs(jwt.MapClaims{"scope": "write  read admin"})), wantScheme: "Scoped"},
		{name: "scopes as an array", path: "/scoped", headers: bearerH(hs(jwt.MapClaims{"scope": []any{"read", "write"}})), wantScheme: "Scoped"},
		{name: "missing scope", path: "/scoped", headers: bearerH(hs(jwt.MapClaims{"scope": "read"})),
			wantInfo: []string{"JWT Security (Scoped): Missing scope write"}},
		{name: "no scope claim", path: "/scoped", headers: bearerH(hs(jwt.MapClaims{"sub": "x"})),
			wantInfo: []string{"JWT Security (Scoped): Scope claim scope missing"}},
		{name: "scope claim of the wrong type", path: "/scoped", headers: bearerH(hs(jwt.MapClaims{"scope": 7})),
			wantInfo: []string{"JWT Security (Scoped): Scope claim scope must be a string or a list of strings"}},

		// Token location.
		{name: "no Authorization header", path: "/hs",
			wantInfo: []string{"JWT Security (HS): No Authorization header sent"}},
		{name: "Basic instead of Bearer", path: "/hs", headers: []flowengine.Header{{Name: "Authorization", Value: "Basic dTpw"}},
			wantInfo: []string{"JWT Security (HS): No Bearer token in Authorization header"}},
		{name: "bearer in lower case", path: "/hs", headers: []flowengine.Header{{Name: "authorization", Value: "bearer " + valid}}, wantScheme: "HS"},
		{name: "no Cookie header", path: "/cookie", headers: bearerH(valid),
			wantInfo: []string{"JWT Security (Cookie): No Cookie header sent"}},
		{name: "other cookies only", path: "/cookie", headers: cookie("a=b; session=x"),
			wantInfo: []string{"JWT Security (Cookie): No authtoken cookie sent"}},
		{name: "cookie with scope claim permission", path: "/cookie", headers: cookie("a=b; authtoken=" + cookieTok), wantScheme: "Cookie"},
		{name: "cookie in a second Cookie header", path: "/cookie",
			headers: []flowengine.Header{{Name: "cookie", Value: "a=b"}, {Name: "cookie", Value: "authtoken=" + cookieTok}}, wantScheme: "Cookie"},
		{name: "cookie without the scope", path: "/cookie", headers: cookie("authtoken=" + hs(jwt.MapClaims{"permission": "user"})),
			wantInfo: []string{"JWT Security (Cookie): Missing scope admin"}},

		// Combinations.
		{name: "OR: nothing sent", path: "/or",
			wantInfo: []string{"JWT Security (HS): No Authorization header sent", "JWT Security (Cookie): No Cookie header sent"}},
		{name: "OR: second alternative", path: "/or", headers: cookie("authtoken=" + cookieTok), wantScheme: "Cookie"},
		{name: "AND: one of two", path: "/and", headers: bearerH(valid),
			wantInfo: []string{"JWT Security (Cookie): No Cookie header sent"}},
		{name: "AND: both", path: "/and", headers: append(bearerH(valid), cookie("authtoken="+cookieTok)...), wantScheme: "Cookie,Scoped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := reqFor(t, d, ck, tt.path, "GET")
			ok, fail := ck.Check(context.Background(), req, tt.headers)
			if (ok == nil) == (fail == nil) {
				t.Fatalf("Check = %v, %v: want exactly one result", ok, fail)
			}
			if tt.wantInfo != nil {
				if fail == nil {
					t.Fatalf("Check passed (%+v), want failure %q", ok, tt.wantInfo)
				}
				want := &Failure{Status: 403, Code: 3206, Message: "Security violation", Info: tt.wantInfo}
				if !reflect.DeepEqual(fail, want) {
					t.Fatalf("Failure = %#v\nwant %#v", fail, want)
				}
				return
			}
			if fail != nil {
				t.Fatalf("Check failed: %v", fail)
			}
			var names []string
			for _, tok := range ok.Tokens {
				names = append(names, tok.Scheme)
				var m map[string]any
				if err := json.Unmarshal(tok.Claims, &m); err != nil {
					t.Fatalf("Claims %q: %v", tok.Claims, err)
				}
			}
			if got := strings.Join(names, ","); got != tt.wantScheme {
				t.Fatalf("schemes = %q, want %q", got, tt.wantScheme)
			}
		})
	}
}

// TestCheckSuccess checks what a passed check carries.
func TestCheckSuccess(t *testing.T) {
	k := tk(t)
	files, opts := checkProject(t)
	d, ck := compile(t, files, opts)
	claims := jwt.MapClaims{"sub": "bob", "permission": "admin", "n": json.Number("12345678901234567890")}
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, claims, nil)
	ok, fail := ck.Check(context.Background(), reqFor(t, d, ck, "/cookie", "GET"), []flowengine.Header{{Name: "Cookie", Value: `authtoken="` + tok + `"`}})
	if fail != nil {
		t.Fatal(fail)
	}
	want := Token{Scheme: "Cookie", Claims: []byte(`{"n":12345678901234567890,"permission":"admin","sub":"bob"}`), OutVar: "cookie_token", OutHeader: "X-JWT"}
	if len(ok.Tokens) != 1 || !reflect.DeepEqual(ok.Tokens[0], want) {
		t.Fatalf("Tokens = %+v\nwant %+v", ok.Tokens, want)
	}

	rs := sign(t, jwt.SigningMethodRS256, k.rsa, jwt.MapClaims{"sub": "carol"}, nil)
	ok, fail = ck.Check(context.Background(), reqFor(t, d, ck, "/rs", "GET"), bearerH(rs))
	if fail != nil {
		t.Fatal(fail)
	}
	got := ok.Tokens[0]
	if got.OutVar != "jwt" || got.OutHeader != "" || got.PostCheckFlow == nil || got.PostCheckFlow.Path != filepath.Join(d.Dir, "check.xml") {
		t.Fatalf("Token = %+v (flow %+v), want out-var jwt, no out-header, post-check-flow check.xml", got, got.PostCheckFlow)
	}

	if flows := ck.PostCheckFlows(); len(flows) != 1 || flows[0].Path != filepath.Join(d.Dir, "check.xml") {
		t.Fatalf("PostCheckFlows = %v", flows)
	}
	var none *Checker
	if none.PostCheckFlows() != nil {
		t.Fatal("nil Checker has post-check flows")
	}

	// Nothing required: an empty success.
	ok, fail = ck.Check(context.Background(), Requirements{}, nil)
	if fail != nil || ok == nil || len(ok.Tokens) != 0 {
		t.Fatalf("Check(empty) = %+v, %v", ok, fail)
	}
}

// TestCheckFLATCookbook verifies the RS256 tokens of FLAT's cookbook
// "Protecting Access using JWT Tokens" against its 1024-bit public key:
// the first has expired in 2020, the second has no exp and passes.
func TestCheckFLATCookbook(t *testing.T) {
	const pub = `-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDGSd+sSTss2uOuVJKpumpFAaml
t1CWLMTAZNAabF71Ur0P6u833RhAIjXDSA/QeVitzvqvCZpNtbOJVegaREqLMJqv
FOUkFdLNRP3f9XjYFFvubo09tcjX6oGEREKDqLG2MfZ2Z8LVzuJc6SwZMgVFk/63
rdAOci3W9u3zOSGj4QIDAQAB
-----END PUBLIC KEY-----
`
	const (
		expired = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzb21lX3VzZXIiLCJpc3MiOiJzb21lX3Byb3ZpZGVyIiwiZXhwIjoxNTkwNDkxNTI4fQ.lJnUpBzMx84_5yigeHeLw4f8sbdSdu_7fWr1--t7EAp8v8K-kSmVYUGnR0Jx4o_ZE84N2M72Kn1pKssrzgTHsFi7txcZHHz_JqgnPgKqsZwjrmWDC-XVvdrSXjAsPO6wn0qy3KEMT1y6Z8YQA4ZyzA1dDsRRIUFiNrgF6_b5pC4"
		valid   = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzb21lX3VzZXIiLCJpc3MiOiJzb21lX3Byb3ZpZGVyIn0.bNXv28XmnFBjirPbCzBqyfpqHKo6PpoFORHsQ-80IJLi3IhBh1y0pFR0wm-2hiz_F7PkGQLTsnFiSXxCt1DZvMstbQeklZIh7O3tQGJyCAi-HRVASHKKYqZ_-eqQQhNr8Ex00qqJWD9BsWVJr7Q526Gua7ghcttmVgTYrfSNDzU"
	)
	d, ck := compile(t, map[string]string{
		"swagger.yaml": `swagger: "2.0"
basePath: /
securityDefinitions:
  JWTCookie:
    type: apiKey
    in: header
    name: Cookie
    x-flat-cookiename: authtoken
    x-flat-jwt:
      key:
        file: pubkey.pem
      alg: RS256
      out-var: $the_claims
      out-header: JWT
paths:
  /httpbin/**:
    security:
      - JWTCookie: []
`,
		"pubkey.pem": pub,
	}, Options{})
	req := reqFor(t, d, ck, "/httpbin/**", "")
	tests := []struct {
		name     string
		headers  []flowengine.Header
		wantInfo string
		wantJSON string
	}{
		{name: "no cookie", wantInfo: "JWT Security (JWTCookie): No Cookie header sent"},
		{name: "expired", headers: []flowengine.Header{{Name: "Cookie", Value: "authtoken=" + expired}},
			wantInfo: "JWT Security (JWTCookie): Invalid JWT: Token has expired."},
		{name: "valid", headers: []flowengine.Header{{Name: "Cookie", Value: "authtoken=" + valid}},
			wantJSON: `{"sub":"some_user","iss":"some_provider"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, fail := ck.Check(context.Background(), req, tt.headers)
			if tt.wantInfo != "" {
				if fail == nil || len(fail.Info) != 1 || fail.Info[0] != tt.wantInfo || fail.Status != 403 || fail.Code != 3206 {
					t.Fatalf("Check = %+v, %+v; want %q", ok, fail, tt.wantInfo)
				}
				return
			}
			if fail != nil {
				t.Fatal(fail)
			}
			if got := string(ok.Tokens[0].Claims); got != tt.wantJSON || ok.Tokens[0].OutVar != "the_claims" || ok.Tokens[0].OutHeader != "JWT" {
				t.Fatalf("Token = %+v (claims %s), want %s in $the_claims and header JWT", ok.Tokens[0], got, tt.wantJSON)
			}
		})
	}
}

// TestCheckClock: Options.Now and Options.Leeway decide expiry.
func TestCheckClock(t *testing.T) {
	k := tk(t)
	files, opts := checkProject(t)
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, jwt.MapClaims{"aud": "api", "iss": "https://issuer.example", "exp": testNow.Unix()}, nil)
	tests := []struct {
		name   string
		now    time.Time
		leeway time.Duration
		pass   bool
	}{
		{"before exp", testNow.Add(-time.Second), -1, true},
		{"at exp, no leeway", testNow, -1, false},
		{"29 s after exp, default leeway", testNow.Add(29 * time.Second), 0, true},
		{"31 s after exp, default leeway", testNow.Add(31 * time.Second), 0, false},
		{"2 min after exp, leeway 5 min", testNow.Add(2 * time.Minute), 5 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			o.Now = func() time.Time { return tt.now }
			o.Leeway = tt.leeway
			d, ck := compile(t, files, o)
			_, fail := ck.Check(context.Background(), reqFor(t, d, ck, "/hs", "GET"), bearerH(tok))
			if (fail == nil) != tt.pass {
				t.Fatalf("pass = %v (%v), want %v", fail == nil, fail, tt.pass)
			}
		})
	}
}

// TestCheckOpenAPI3: components.securitySchemes with OpenAPI 3's
// http/bearer scheme read the Authorization header.
func TestCheckOpenAPI3(t *testing.T) {
	k := tk(t)
	d, ck := compile(t, map[string]string{"openapi.yaml": `openapi: "3.0.3"
info: {title: t, version: "1"}
components:
  securitySchemes:
    Bearer:
      type: http
      scheme: bearer
      bearerFormat: JWT
      x-flat-jwt: {key: ` + b64url(k.hmac) + `}
security: [{Bearer: []}]
paths:
  /a:
    get:
      responses: {"200": {description: ok}}
`}, Options{})
	req := reqFor(t, d, ck, "/a", "GET")
	if _, fail := ck.Check(context.Background(), req, bearerH(sign(t, jwt.SigningMethodHS256, k.hmac, jwt.MapClaims{"sub": "a"}, nil))); fail != nil {
		t.Fatal(fail)
	}
	if _, fail := ck.Check(context.Background(), req, nil); fail == nil || fail.Info[0] != "JWT Security (Bearer): No Authorization header sent" {
		t.Fatalf("no header: %+v", fail)
	}
}

// TestCheckConcurrent runs checks of all schemes in parallel (for -race).
func TestCheckConcurrent(t *testing.T) {
	k := tk(t)
	files, opts := checkProject(t)
	d, ck := compile(t, files, opts)
	cases := []struct {
		req Requirements
		tok string
	}{
		{reqFor(t, d, ck, "/hs", "GET"), sign(t, jwt.SigningMethodHS256, k.hmac, jwt.MapClaims{"aud": "api", "iss": "https://issuer.example"}, nil)},
		{reqFor(t, d, ck, "/rs", "GET"), sign(t, jwt.SigningMethodRS256, k.rsa, jwt.MapClaims{}, nil)},
		{reqFor(t, d, ck, "/es", "GET"), sign(t, jwt.SigningMethodES256, k.ec256, jwt.MapClaims{}, nil)},
	}
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cases[i%len(cases)]
			if _, fail := ck.Check(context.Background(), c.req, bearerH(c.tok)); fail != nil {
				errs <- fail
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
