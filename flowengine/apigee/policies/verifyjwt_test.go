package policies

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/upstream"
)

func TestVerifyJWT(t *testing.T) {
	k := jwtTestKeys(t)
	now := time.Now().Unix()
	good := map[string]any{"iss": "urn://issuer", "sub": "alice", "aud": "urn://apigee", "exp": now + 600, "iat": now - 10, "scope": "read", "n": 3}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	rs := func(claims map[string]any) string { return jwtSign(t, "RS256", "rsa", nil, claims) }
	pol := func(alg, key, extra string) string {
		return `<VerifyJWT name="VJ"><Algorithm>` + alg + `</Algorithm><Source>inbound.jwt</Source>` + key + extra + `</VerifyJWT>`
	}
	pub := `<PublicKey><Value ref="public.key"/></PublicKey>`
	sec := `<SecretKey><Value ref="private.secret"/></SecretKey>`
	jwks := `<PublicKey><JWKS ref="jwks"/></PublicKey>`
	allVars := map[string]string{"public.key": k.pubPEM["rsa"], "private.secret": k.secret, "jwks": jwtJWKS(t, "rsa", "p256")}

	tests := []struct {
		name   string
		policy string
		token  string
		vars   map[string]string
		fault  string // fault name; "" = valid
		check  map[string]string
	}{
		{name: "RS256 ok", policy: pol("RS256", pub, `<Issuer>urn://issuer</Issuer><Audience>urn://apigee</Audience><Subject>alice</Subject>`), token: rs(good),
			check: map[string]string{"jwt.VJ.valid": "true", "jwt.VJ.claim.issuer": "urn://issuer", "jwt.VJ.claim.subject": "alice",
				"jwt.VJ.claim.audience": "urn://apigee", "jwt.VJ.claim.scope": "read", "jwt.VJ.decoded.claim.n": "3",
				"jwt.VJ.header.algorithm": "RS256", "jwt.VJ.decoded.header.alg": "RS256", "jwt.VJ.claim.names": "aud,exp,iat,iss,n,scope,sub",
				"jwt.VJ.payload-claim-names": "aud,exp,iat,iss,n,scope,sub", "jwt.VJ.is_expired": "false"}},
		{name: "PEM literal", policy: pol("RS256", `<PublicKey><Value>`+strings.ReplaceAll(k.pubPEM["rsa"], "\n", "\n        ")+`</Value></PublicKey>`, ""), token: rs(good)},
		{name: "RS alg list", policy: pol("RS512,RS256", pub, ""), token: rs(good)},
		{name: "alg not in list", policy: pol("RS512,RS384", pub, ""), token: rs(good), fault: "AlgorithmInTokenNotPresentInConfiguration"},
		{name: "expired", policy: pol("RS256", pub, ""), token: rs(with("exp", now-5)), fault: "TokenExpired"},
		{name: "expired within allowance", policy: pol("RS256", pub, "<TimeAllowance>60s</TimeAllowance>"), token: rs(with("exp", now-5))},
		{name: "not yet valid", policy: pol("RS256", pub, ""), token: rs(with("nbf", now+300)), fault: "TokenNotYetValid"},
		{name: "issued in future", policy: pol("RS256", pub, ""), token: rs(with("iat", now+300)), fault: "TokenNotYetValid"},
		{name: "issued in future ignored", policy: pol("RS256", pub, "<IgnoreIssuedAt>true</IgnoreIssuedAt>"), token: rs(with("iat", now+300))},
		{name: "exp not a number", policy: pol("RS256", pub, ""), token: rs(with("exp", "soon")), fault: "InvalidClaim"},
		{name: "wrong key", policy: pol("RS256", pub, ""), token: jwtSign(t, "RS256", "rsa2", nil, good), fault: "InvalidToken"},
		{name: "tampered payload", policy: pol("RS256", pub, ""), token: func() string {
			p := strings.Split(rs(good), ".")
			forged := strings.Split(jwtRaw(`{}`, `{"sub":"mallory"}`, ""), ".")
			return p[0] + "." + forged[1] + "." + p[2]
		}(), fault: "InvalidToken"},
		{name: "alg none", policy: pol("RS256", pub, ""), token: jwtRaw(`{"alg":"none"}`, `{"sub":"x"}`, ""), fault: "AlgorithmMismatch"},
		{name: "alg none HS policy", policy: pol("HS256", sec, ""), token: jwtRaw(`{"alg":"none"}`, `{"sub":"x"}`, ""), fault: "AlgorithmMismatch"},
		{name: "no alg", policy: pol("RS256", pub, ""), token: jwtRaw(`{"typ":"JWT"}`, `{"sub":"x"}`, "x"), fault: "NoAlgorithmFoundInHeader"},
		{name: "HS token signed with the RSA public key", policy: pol("RS256", pub, ""), token: jwtSignSecret(t, "HS256", k.pubPEM["rsa"], good), fault: "AlgorithmMismatch"},
		{name: "RS token to PS policy", policy: pol("PS256", pub, ""), token: rs(good), fault: "AlgorithmMismatch"},
		{name: "HS256 ok", policy: pol("HS256", sec, ""), token: jwtSign(t, "HS256", "secret", nil, good)},
		{name: "HS256 wrong secret", policy: pol("HS256", sec, ""), token: jwtSignSecret(t, "HS256", strings.Repeat("x", 40), good), fault: "InvalidToken"},
		{name: "HS key too short", policy: pol("HS256", sec, ""), vars: map[string]string{"private.secret": "short"}, token: jwtSign(t, "HS256", "secret", nil, good), fault: "InsufficientKeyLength"},
		{name: "HS base64 key", policy: pol("HS256", `<SecretKey><Value encoding="base64" ref="private.b64"/></SecretKey>`, ""),
			vars: map[string]string{"private.b64": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg=="}, token: jwtSign(t, "HS256", "secret", nil, good)},
		{name: "issuer mismatch", policy: pol("RS256", pub, "<Issuer>urn://other</Issuer>"), token: rs(good), fault: "InvalidClaim"},
		{name: "audience mismatch", policy: pol("RS256", pub, "<Audience>urn://other</Audience>"), token: rs(good), fault: "InvalidClaim"},
		{name: "audience array", policy: pol("RS256", pub, "<Audience>b</Audience>"), token: rs(with("aud", []string{"a", "b"}))},
		{name: "subject mismatch", policy: pol("RS256", pub, `<Subject ref="want.sub"/>`), vars: map[string]string{"want.sub": "bob"}, token: rs(good), fault: "InvalidClaim"},
		{name: "subject ref unresolved", policy: pol("RS256", pub, `<Subject ref="want.sub"/>`), token: rs(good), fault: "FailedToResolveVariable"},
		{name: "subject ref unresolved ignored", policy: pol("RS256", pub, `<Subject ref="want.sub"/><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>`), token: rs(good)},
		{name: "additional claim ok", policy: pol("RS256", pub, `<AdditionalClaims><Claim name="scope">read</Claim><Claim name="n" type="number">3</Claim></AdditionalClaims>`), token: rs(good)},
		{name: "additional claim mismatch", policy: pol("RS256", pub, `<AdditionalClaims><Claim name="scope">write</Claim></AdditionalClaims>`), token: rs(good), fault: "InvalidClaim"},
		{name: "additional header mismatch", policy: pol("RS256", pub, `<AdditionalHeaders><Claim name="x">1</Claim></AdditionalHeaders>`), token: rs(good), fault: "InvalidClaim"},
		{name: "JWKS ok", policy: pol("RS256", jwks, ""), token: jwtSign(t, "RS256", "rsa", map[string]any{"kid": "rsa"}, good)},
		{name: "JWKS ES256 ok", policy: pol("ES256", jwks, ""), token: jwtSign(t, "ES256", "p256", map[string]any{"kid": "p256"}, good)},
		{name: "JWKS no kid", policy: pol("RS256", jwks, ""), token: rs(good), fault: "KeyIdMissing"},
		{name: "JWKS unknown kid", policy: pol("RS256", jwks, ""), token: jwtSign(t, "RS256", "rsa", map[string]any{"kid": "nope"}, good), fault: "NoMatchingPublicKey"},
		{name: "JWKS key of other type", policy: pol("RS256", jwks, ""), token: jwtSign(t, "RS256", "rsa", map[string]any{"kid": "p256"}, good), fault: "WrongKeyType"},
		{name: "JWKS unparsable", policy: pol("RS256", jwks, ""), vars: map[string]string{"jwks": "{"}, token: rs(good), fault: "KeyParsingFailed"},
		{name: "public key unparsable", policy: pol("RS256", pub, ""), vars: map[string]string{"public.key": "nope"}, token: rs(good), fault: "KeyParsingFailed"},
		{name: "public key unresolved", policy: pol("RS256", `<PublicKey><Value ref="nokey"/></PublicKey>`, ""), token: rs(good), fault: "FailedToResolveVariable"},
		{name: "ES256 with P-384 key", policy: pol("ES256", pub, ""), vars: map[string]string{"public.key": k.pubPEM["p384"]}, token: jwtSign(t, "ES256", "p256", nil, good), fault: "InvalidCurve"},
		{name: "crit header", policy: pol("RS256", pub, ""), token: jwtSign(t, "RS256", "rsa", map[string]any{"crit": []string{"x"}, "x": 1}, good), fault: "UnhandledCriticalHeader"},
		{name: "crit header known", policy: pol("RS256", pub, "<KnownHeaders>x</KnownHeaders>"), token: jwtSign(t, "RS256", "rsa", map[string]any{"crit": []string{"x"}, "x": 1}, good)},
		{name: "malformed", policy: pol("RS256", pub, ""), token: "abc.def", fault: "FailedToDecode"},
		{name: "payload not JSON", policy: pol("RS256", pub, ""), token: "eyJhbGciOiJSUzI1NiJ9.bm9wZQ.c2ln", fault: "InvalidJsonFormat"},
		{name: "huge header", policy: pol("RS256", pub, ""), token: jwtRaw(`{"alg":"RS256","x":"`+strings.Repeat("a", 1<<20)+`"}`, `{}`, "s"), fault: "FailedToDecode"},
		{name: "JWE token", policy: pol("RS256", pub, ""), token: "a.b.c.d.e", fault: "InvalidToken"},
		{name: "source unresolved", policy: pol("RS256", pub, ""), token: "", fault: "FailedToResolveVariable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{}
			for n, v := range allVars {
				vars[n] = v
			}
			for n, v := range tc.vars {
				vars[n] = v
			}
			if tc.token != "" {
				vars["inbound.jwt"] = tc.token
			}
			r := jwtRun(t, vars)
			err := jwtPolicy(t, tc.policy).Execute(r)
			got := faultOf(err)
			if tc.fault == "" {
				if err != nil {
					t.Fatalf("want valid, got %s", got)
				}
				if v := get(r, "jwt.VJ.valid"); v != "true" {
					t.Errorf("valid = %s", v)
				}
			} else {
				want := tc.fault + "|steps.jwt." + tc.fault + "|401|"
				if !strings.HasPrefix(got, want) || !strings.Contains(got, "policy(VJ)") {
					t.Fatalf("fault = %q, want %s…policy(VJ)", got, want)
				}
				if v := get(r, "jwt.VJ.valid"); v != "false" {
					t.Errorf("valid = %s after a fault", v)
				}
				if v := get(r, "jwt.VJ.error"); !strings.Contains(v, "policy(VJ)") {
					t.Errorf("error = %q", v)
				}
				if v := get(r, "JWT.failed"); v != "true" {
					t.Errorf("JWT.failed = %s", v)
				}
				if v := get(r, "jwt.VJ.claim.subject"); v != "<null>" {
					t.Errorf("claims set after a fault: subject = %s", v)
				}
			}
			for n, want := range tc.check {
				if v := get(r, n); v != want {
					t.Errorf("%s = %q, want %q", n, v, want)
				}
			}
		})
	}
}

// jwtSignSecret signs with an arbitrary HMAC secret.
func jwtSignSecret(t *testing.T, alg, secret string, claims map[string]any) string {
	t.Helper()
	k := jwtTestKeys(t)
	saved := k.secret
	k.secret = secret
	defer func() { k.secret = saved }()
	return jwtSign(t, alg, "secret", nil, claims)
}

func TestVerifyJWTBearerDefaultSource(t *testing.T) {
	k := jwtTestKeys(t)
	exp := time.Now().Unix() + 60
	tok := jwtSign(t, "ES384", "p384", nil, map[string]any{"sub": "s", "exp": exp})
	p := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithm>ES384</Algorithm><PublicKey><Value ref="k"/></PublicKey></VerifyJWT>`)
	r := jwtRun(t, map[string]string{"k": k.pubPEM["p384"]}, "Authorization", "Bearer "+tok)
	before := time.Now().Unix()
	if err := p.Execute(r); err != nil {
		t.Fatal(faultOf(err))
	}
	after := time.Now().Unix()
	if s := get(r, "jwt.VJ.claim.subject"); s != "s" {
		t.Errorf("subject = %s", s)
	}
	// exp minus the policy's clock reading (whole seconds, truncated), which
	// falls between before and after: a slow machine (the race detector)
	// may take seconds between signing and verifying.
	s := get(r, "jwt.VJ.seconds_remaining")
	if n, err := strconv.ParseInt(s, 10, 64); err != nil || n < exp-after-1 || n > exp-before {
		t.Errorf("seconds_remaining = %s, want %d…%d", s, exp-after-1, exp-before)
	}
}

func TestVerifyJWTJWKSURI(t *testing.T) {
	mock := upstream.NewMock()
	mock.Func = func(_ context.Context, c *upstream.Call) (*upstream.Result, error) {
		if c.URL != "https://idp.example/jwks" {
			return &upstream.Result{Status: 404, Header: http.Header{}}, nil
		}
		return &upstream.Result{Status: 200, Header: http.Header{}, Body: []byte(jwtJWKS(t, "rsa", "ed"))}, nil
	}
	p := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithm>EdDSA</Algorithm><Source>inbound.jwt</Source><PublicKey><JWKS uri="https://idp.example/{idp}"/></PublicKey></VerifyJWT>`)
	for i := 0; i < 3; i++ {
		tok := jwtSign(t, "EdDSA", "ed", map[string]any{"kid": "ed"}, map[string]any{"sub": fmt.Sprint(i)})
		r := jwtRun(t, map[string]string{"inbound.jwt": tok, "idp": "jwks"})
		r.SetTestUpstream(mock)
		if err := p.Execute(r); err != nil {
			t.Fatalf("call %d: %s", i, faultOf(err))
		}
	}
	if n := len(mock.Calls()); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1 (cached)", n)
	}
	r := jwtRun(t, map[string]string{"inbound.jwt": jwtSign(t, "EdDSA", "ed", map[string]any{"kid": "ed"}, map[string]any{}), "idp": "missing"})
	r.SetTestUpstream(mock)
	if got := faultOf(p.Execute(r)); !strings.HasPrefix(got, "KeyParsingFailed|") {
		t.Errorf("404 JWKS: %s", got)
	}
}

func TestVerifyJWTLoadErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`<VerifyJWT name="V"><Algorithms><Key>RSA-OAEP-256</Key></Algorithms><PrivateKey><Value ref="k"/></PrivateKey></VerifyJWT>`, "InvalidVariableNameForSecret"},
		{`<VerifyJWT name="V"><Type>Encrypted</Type><Algorithm>RS256</Algorithm><PublicKey><Value ref="k"/></PublicKey></VerifyJWT>`, "exclude each other"},
		{`<VerifyJWT name="V"><PublicKey><Value ref="k"/></PublicKey></VerifyJWT>`, "AP104"},
		{`<VerifyJWT name="V"><Algorithm>RS256</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey></VerifyJWT>`, "JWE"},
		{`<VerifyJWT name="V"><Algorithm>none</Algorithm><PublicKey><Value ref="k"/></PublicKey></VerifyJWT>`, "not supported"},
		{`<VerifyJWT name="V"><Algorithm>HS256,RS256</Algorithm><SecretKey><Value ref="private.k"/></SecretKey></VerifyJWT>`, "mix"},
		{`<VerifyJWT name="V"><Algorithm>HS256</Algorithm><PublicKey><Value ref="k"/></PublicKey></VerifyJWT>`, "SecretKey"},
		{`<VerifyJWT name="V"><Algorithm>RS256</Algorithm><SecretKey><Value ref="private.k"/></SecretKey></VerifyJWT>`, "PublicKey"},
		{`<VerifyJWT name="V"><Algorithm>RS256</Algorithm><PublicKey/></VerifyJWT>`, "exactly one"},
		{`<VerifyJWT name="V"><Algorithm>RS256</Algorithm><PublicKey><Value ref="k"/></PublicKey><AdditionalClaims><Claim name="iss">x</Claim></AdditionalClaims></VerifyJWT>`, "Invalid name for additional claim"},
		{`<VerifyJWT name="V"><Algorithm>RS256</Algorithm><PublicKey><Value ref="k"/></PublicKey><TimeAllowance>soon</TimeAllowance></VerifyJWT>`, "TimeAllowance"},
		{`<VerifyJWT name="V"><Algorithm>RS256</Algorithm><PublicKey><Value ref="k"/></PublicKey><Bogus/></VerifyJWT>`, "AP103"},
		{`<VerifyJWT name="V"><Algorithm>HS256</Algorithm><SecretKey><Value ref="secret"/></SecretKey></VerifyJWT>`, "InvalidVariableNameForSecret"},
		{`<VerifyJWT name="V"><Algorithm>RS256</Algorithm><PublicKey><Value>-----BEGIN PUBLIC KEY-----
bm9wZQ==
-----END PUBLIC KEY-----</Value></PublicKey></VerifyJWT>`, "does not parse"},
		{`<VerifyJWT name="V"><Algorithm>HS256</Algorithm><SecretKey><Value>literal</Value></SecretKey></VerifyJWT>`, "InvalidSecretInConfig"},
		{`<VerifyJWT name="V"><Algorithm>RS256</Algorithm><Source/><PublicKey><Value ref="k"/></PublicKey></VerifyJWT>`, "InvalidEmptyElement"},
		{`<VerifyJWT name="V"><Algorithm>HS256</Algorithm><SecretKey><Value encoding="rot13" ref="private.k"/></SecretKey></VerifyJWT>`, "encoding"},
	} {
		if got := loadErrors(tc.src); !strings.Contains(got, tc.want) {
			t.Errorf("%s\n got %q, want it to mention %q", tc.src, got, tc.want)
		}
	}
}
