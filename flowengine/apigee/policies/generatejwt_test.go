package policies

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

// TestGenerateJWTRoundTrip signs with every algorithm and verifies the
// token with VerifyJWT (PEM keys for asymmetric algorithms).
func TestGenerateJWTRoundTrip(t *testing.T) {
	k := jwtTestKeys(t)
	for _, alg := range []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			name := jwtKeyFor(alg)
			gkey, vkey := `<PrivateKey><Value ref="private.key"/><Id>kid-1</Id></PrivateKey>`, `<PublicKey><Value ref="public.key"/></PublicKey>`
			if name == "secret" {
				gkey, vkey = `<SecretKey><Value ref="private.key"/><Id>kid-1</Id></SecretKey>`, `<SecretKey><Value ref="private.key"/></SecretKey>`
			}
			g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithm>`+alg+`</Algorithm>`+gkey+`
			  <Issuer>urn://iss</Issuer><Subject ref="who"/><Audience>a1,a2</Audience><ExpiresIn>1h</ExpiresIn><NotBefore/><Id/>
			  <AdditionalClaims><Claim name="scope" array="true">read,write</Claim><Claim name="n" type="number">7</Claim>
			    <Claim name="ok" type="boolean">true</Claim><Claim name="m" type="map" ref="mapvar"/></AdditionalClaims>
			  <AdditionalHeaders><Claim name="h1">v1</Claim></AdditionalHeaders>
			  <OutputVariable>out.jwt</OutputVariable></GenerateJWT>`)
			vars := map[string]string{"who": "alice", "mapvar": `{"a":1}`, "private.key": k.secret}
			if name != "secret" {
				vars["private.key"], vars["public.key"] = k.privPEM[name], k.pubPEM[name]
			}
			r := jwtRun(t, vars)
			if err := g.Execute(r); err != nil {
				t.Fatal(faultOf(err))
			}
			tok := get(r, "out.jwt")
			v := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithm>`+alg+`</Algorithm><Source>out.jwt</Source>`+vkey+`
			  <Issuer>urn://iss</Issuer><Subject>alice</Subject><Audience>a2</Audience>
			  <AdditionalClaims><Claim name="scope" array="true">write</Claim><Claim name="n" type="number">7</Claim><Claim name="ok" type="boolean">true</Claim></AdditionalClaims>
			  <AdditionalHeaders><Claim name="h1">v1</Claim></AdditionalHeaders></VerifyJWT>`)
			if err := v.Execute(r); err != nil {
				t.Fatalf("verify %s: %s", tok, faultOf(err))
			}
			for n, want := range map[string]string{
				"jwt.VJ.header.algorithm": alg, "jwt.VJ.header.typ": "JWT", "jwt.VJ.header.kid": "kid-1", "jwt.VJ.header.h1": "v1",
				"jwt.VJ.claim.audience": "a1,a2", "jwt.VJ.claim.scope": "read,write", "jwt.VJ.decoded.claim.m": `{"a":1}`,
				"jwt.VJ.decoded.claim.scope": `["read","write"]`, "jwt.VJ.claim.ok": "true",
			} {
				if got := get(r, n); got != want {
					t.Errorf("%s = %q, want %q", n, got, want)
				}
			}
			exp, iat := get(r, "jwt.VJ.claim.expiry"), get(r, "jwt.VJ.claim.issuedat")
			if len(exp) < 10 || len(iat) < 10 || get(r, "jwt.VJ.claim.notbefore") != iat {
				t.Errorf("times: exp %s iat %s nbf %s", exp, iat, get(r, "jwt.VJ.claim.notbefore"))
			}
			if id := get(r, "jwt.VJ.claim.id"); len(id) != 36 {
				t.Errorf("generated jti %q is not a UUID", id)
			}
		})
	}
}

func TestGenerateJWT(t *testing.T) {
	k := jwtTestKeys(t)
	rsaLegacy, _ := x509.EncryptPEMBlock(strings.NewReader(strings.Repeat("r", 64)), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa), []byte("pw"), x509.PEMCipherAES256) //nolint:staticcheck
	encrypted := string(pem.EncodeToMemory(rsaLegacy))
	rs := `<GenerateJWT name="GJ"><Algorithm>RS256</Algorithm><PrivateKey><Value ref="private.key"/><Password ref="private.pw"/></PrivateKey>`
	for _, tc := range []struct {
		name, src string
		vars      map[string]string
		fault     string
		out       string
	}{
		{name: "default output variable", src: rs + `</GenerateJWT>`, vars: map[string]string{"private.key": k.privPEM["rsa"]}, out: "jwt.GJ.generated_jwt"},
		{name: "encrypted PEM with password", src: rs + `</GenerateJWT>`, vars: map[string]string{"private.key": encrypted, "private.pw": "pw"}, out: "jwt.GJ.generated_jwt"},
		{name: "wrong password", src: rs + `</GenerateJWT>`, vars: map[string]string{"private.key": encrypted, "private.pw": "nope"}, fault: "InvalidPrivateKey"},
		{name: "no password", src: rs + `</GenerateJWT>`, vars: map[string]string{"private.key": encrypted}, fault: "InvalidPrivateKey"},
		{name: "bad private key", src: rs + `</GenerateJWT>`, vars: map[string]string{"private.key": "junk"}, fault: "InvalidPrivateKey"},
		{name: "EC key for RS256", src: rs + `</GenerateJWT>`, vars: map[string]string{"private.key": k.privPEM["p256"]}, fault: "WrongKeyType"},
		{name: "key unresolved", src: rs + `</GenerateJWT>`, fault: "FailedToResolveVariable"},
		{name: "subject unresolved", src: rs + `<Subject ref="nope"/></GenerateJWT>`, vars: map[string]string{"private.key": k.privPEM["rsa"]}, fault: "FailedToResolveVariable"},
		{name: "subject unresolved ignored", src: rs + `<Subject ref="nope"/><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></GenerateJWT>`, vars: map[string]string{"private.key": k.privPEM["rsa"]}, out: "jwt.GJ.generated_jwt"},
		{name: "number claim not a number", src: rs + `<AdditionalClaims><Claim name="n" type="number">x</Claim></AdditionalClaims></GenerateJWT>`, vars: map[string]string{"private.key": k.privPEM["rsa"]}, fault: "InvalidClaim"},
		{name: "claims ref not JSON", src: rs + `<AdditionalClaims ref="cl"/></GenerateJWT>`, vars: map[string]string{"private.key": k.privPEM["rsa"], "cl": "nope"}, fault: "InvalidClaim"},
		{name: "HS key too short", src: `<GenerateJWT name="GJ"><Algorithm>HS512</Algorithm><SecretKey><Value ref="private.s"/></SecretKey></GenerateJWT>`, vars: map[string]string{"private.s": strings.Repeat("k", 63)}, fault: "InsufficientKeyLength"},
		{name: "HS hex key", src: `<GenerateJWT name="GJ"><Algorithm>HS256</Algorithm><SecretKey><Value encoding="hex" ref="private.s"/></SecretKey></GenerateJWT>`, vars: map[string]string{"private.s": strings.Repeat("ab", 32)}, out: "jwt.GJ.generated_jwt"},
		{name: "HS bad hex key", src: `<GenerateJWT name="GJ"><Algorithm>HS256</Algorithm><SecretKey><Value encoding="hex" ref="private.s"/></SecretKey></GenerateJWT>`, vars: map[string]string{"private.s": "zz"}, fault: "InvalidSecretKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := jwtRun(t, tc.vars)
			err := jwtPolicy(t, tc.src).Execute(r)
			if tc.fault != "" {
				if got := faultOf(err); !strings.HasPrefix(got, tc.fault+"|steps.jwt."+tc.fault+"|401|") || !strings.HasSuffix(got, "policy(GJ)") {
					t.Fatalf("fault = %q, want %s", got, tc.fault)
				}
				return
			}
			if err != nil {
				t.Fatal(faultOf(err))
			}
			if tok := get(r, tc.out); strings.Count(tok, ".") != 2 {
				t.Fatalf("%s = %q", tc.out, tok)
			}
		})
	}
}

func TestGenerateJWTClaimsRefAndTimes(t *testing.T) {
	k := jwtTestKeys(t)
	g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithm>HS256</Algorithm><SecretKey><Value ref="private.s"/></SecretKey>
	  <ExpiresIn ref="exp">10m</ExpiresIn><NotBefore>1700000000</NotBefore><Id ref="jti"/><AdditionalClaims ref="cl"/></GenerateJWT>`)
	r := jwtRun(t, map[string]string{"private.s": k.secret, "exp": "90s", "jti": "id-1", "cl": `{"x":[1,2],"y":"z"}`})
	before := time.Now().Unix()
	if err := g.Execute(r); err != nil {
		t.Fatal(faultOf(err))
	}
	d := jwtPolicy(t, `<DecodeJWT name="DJ"><Source>jwt.GJ.generated_jwt</Source></DecodeJWT>`)
	if err := d.Execute(r); err != nil {
		t.Fatal(faultOf(err))
	}
	if got := get(r, "jwt.DJ.claim.notbefore"); got != "1700000000000" {
		t.Errorf("nbf = %s", got)
	}
	if got := get(r, "jwt.DJ.claim.id"); got != "id-1" {
		t.Errorf("jti = %s", got)
	}
	if got := get(r, "jwt.DJ.decoded.claim.x"); got != "[1,2]" {
		t.Errorf("x = %s", got)
	}
	exp, iat := get(r, "jwt.DJ.decoded.claim.exp"), get(r, "jwt.DJ.decoded.claim.iat")
	var e, i int64
	if _, err := fmtSscan(exp, &e); err != nil || e-before < 89 || e-before > 91 {
		t.Errorf("exp %s, now %d", exp, before)
	}
	if _, err := fmtSscan(iat, &i); err != nil || i < before || i > before+1 {
		t.Errorf("iat %s, now %d", iat, before)
	}
}

func TestGenerateJWTLoadErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`<GenerateJWT name="G"><Algorithm>RS256</Algorithm><PublicKey><Value ref="k"/></PublicKey></GenerateJWT>`, "JWE"},
		{`<GenerateJWT name="G"><Algorithm>RS256</Algorithm></GenerateJWT>`, "needs <PrivateKey>"},
		{`<GenerateJWT name="G"><Algorithm>HS256</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey></GenerateJWT>`, "SecretKey"},
		{`<GenerateJWT name="G"><Algorithm>RS256,RS512</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey></GenerateJWT>`, "one algorithm"},
		{`<GenerateJWT name="G"><Algorithm>RS256</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey><ExpiresIn>forever</ExpiresIn></GenerateJWT>`, "ExpiresIn"},
		{`<GenerateJWT name="G"><Algorithm>RS256</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey><AdditionalClaims><Claim name="exp">1</Claim></AdditionalClaims></GenerateJWT>`, "Invalid name for additional claim"},
		{`<GenerateJWT name="G"><Algorithm>RS256</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey><AdditionalHeaders><Claim name="typ">x</Claim></AdditionalHeaders></GenerateJWT>`, "Invalid name for additional header : header(typ)"},
		{`<GenerateJWT name="G"><Algorithm>RS256</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey><NotBefore>someday</NotBefore></GenerateJWT>`, "InvalidTimeFormat"},
		{`<GenerateJWT name="G"><Algorithm>RS256</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey><AdditionalClaims><Claim name="c" type="date">1</Claim></AdditionalClaims></GenerateJWT>`, "type"},
		{`<GenerateJWT name="G"><Algorithm>HS256</Algorithm><SecretKey/></GenerateJWT>`, "Value"},
	} {
		if got := loadErrors(tc.src); !strings.Contains(got, tc.want) {
			t.Errorf("%s\n got %q, want it to mention %q", tc.src, got, tc.want)
		}
	}
}
