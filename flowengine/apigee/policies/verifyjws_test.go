package policies

import (
	"strings"
	"testing"
)

// TestJWSRoundTrip: GenerateJWS → VerifyJWS → DecodeJWS, attached and
// detached, for one algorithm of each family.
func TestJWSRoundTrip(t *testing.T) {
	k := jwtTestKeys(t)
	for _, alg := range []string{"HS384", "RS256", "PS512", "ES256", "EdDSA"} {
		for _, detach := range []bool{false, true} {
			name := jwtKeyFor(alg)
			gkey, vkey := `<PrivateKey><Value ref="private.key"/><Id>k9</Id></PrivateKey>`, `<PublicKey><Value ref="public.key"/></PublicKey>`
			vars := map[string]string{"body": `{"any":"content"}`}
			if name == "secret" {
				gkey, vkey = `<SecretKey><Value ref="private.key"/><Id>k9</Id></SecretKey>`, `<SecretKey><Value ref="private.key"/></SecretKey>`
				vars["private.key"] = k.secret
			} else {
				vars["private.key"], vars["public.key"] = k.privPEM[name], k.pubPEM[name]
			}
			d := "false"
			dc := ""
			if detach {
				d, dc = "true", "<DetachedContent>body</DetachedContent>"
			}
			r := jwtRun(t, vars)
			g := jwtPolicy(t, `<GenerateJWS name="GS"><Algorithm>`+alg+`</Algorithm>`+gkey+`<Payload ref="body"/><DetachContent>`+d+`</DetachContent>
			  <AdditionalHeaders><Claim name="h">v</Claim></AdditionalHeaders><CriticalHeaders>h</CriticalHeaders></GenerateJWS>`)
			if err := g.Execute(r); err != nil {
				t.Fatalf("%s: %s", alg, faultOf(err))
			}
			tok := get(r, "jws.GS.generated_jws")
			if detach != strings.Contains(tok, "..") {
				t.Fatalf("%s detach=%v: %s", alg, detach, tok)
			}
			v := jwtPolicy(t, `<VerifyJWS name="VS"><Algorithm>`+alg+`</Algorithm><Source>jws.GS.generated_jws</Source>`+dc+vkey+`
			  <KnownHeaders>h</KnownHeaders><AdditionalHeaders><Claim name="h">v</Claim></AdditionalHeaders></VerifyJWS>`)
			if err := v.Execute(r); err != nil {
				t.Fatalf("%s detach=%v: %s", alg, detach, faultOf(err))
			}
			for n, want := range map[string]string{"jws.VS.valid": "true", "jws.VS.header.algorithm": alg, "jws.VS.header.kid": "k9", "jws.VS.payload": `{"any":"content"}`} {
				if got := get(r, n); got != want {
					t.Errorf("%s detach=%v: %s = %q, want %q", alg, detach, n, got, want)
				}
			}
			dj := jwtPolicy(t, `<DecodeJWS name="DS"><Source>jws.GS.generated_jws</Source></DecodeJWS>`)
			if err := dj.Execute(r); err != nil {
				t.Fatal(faultOf(err))
			}
			wantPayload := `{"any":"content"}`
			if detach {
				wantPayload = "<null>"
			}
			if got := get(r, "jws.DS.payload"); got != wantPayload {
				t.Errorf("decode payload = %q, want %q", got, wantPayload)
			}
			if got := get(r, "jws.DS.decoded.header.crit"); got != `["h"]` {
				t.Errorf("decoded crit = %q", got)
			}
		}
	}
}

func TestVerifyJWS(t *testing.T) {
	k := jwtTestKeys(t)
	signed := jwtSign(t, "RS256", "rsa", nil, map[string]any{"x": 1})
	p := strings.Split(signed, ".")
	pol := func(extra string) string {
		return `<VerifyJWS name="VS"><Algorithm>RS256</Algorithm><Source>in</Source><PublicKey><Value ref="pk"/></PublicKey>` + extra + `</VerifyJWS>`
	}
	for _, tc := range []struct {
		name, policy, token, fault string
		vars                       map[string]string
	}{
		{name: "ok", policy: pol(""), token: signed},
		{name: "detached ok", policy: pol("<DetachedContent>c</DetachedContent>"), token: p[0] + ".." + p[2], vars: map[string]string{"c": `{"x":1}`}},
		{name: "detached wrong content", policy: pol("<DetachedContent>c</DetachedContent>"), token: p[0] + ".." + p[2], vars: map[string]string{"c": `{"x":2}`}, fault: "InvalidToken"},
		{name: "detached without content", policy: pol(""), token: p[0] + ".." + p[2], fault: "InvalidToken"},
		{name: "detached content unresolved", policy: pol("<DetachedContent>nope</DetachedContent>"), token: p[0] + ".." + p[2], fault: "FailedToResolveVariable"},
		{name: "alg none", policy: pol(""), token: jwtRaw(`{"alg":"none"}`, "x", ""), fault: "AlgorithmMismatch"},
		{name: "HS with public key as secret", policy: pol(""), token: jwtSignSecret(t, "HS256", k.pubPEM["rsa"], map[string]any{}), fault: "AlgorithmMismatch"},
		{name: "b64 false", policy: pol(""), token: jwtRaw(`{"alg":"RS256","b64":false,"crit":["b64"]}`, "x", "s"), fault: "InvalidToken"},
		{name: "wrong key", policy: pol(""), token: jwtSign(t, "RS256", "rsa2", nil, map[string]any{}), fault: "InvalidToken"},
		{name: "header mismatch", policy: pol(`<AdditionalHeaders><Claim name="typ">JOSE</Claim></AdditionalHeaders>`), token: signed, fault: "InvalidClaim"},
		{name: "malformed", policy: pol(""), token: "x", fault: "FailedToDecode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"pk": k.pubPEM["rsa"], "in": tc.token}
			for n, v := range tc.vars {
				vars[n] = v
			}
			r := jwtRun(t, vars)
			err := jwtPolicy(t, tc.policy).Execute(r)
			got := faultOf(err)
			if tc.fault == "" {
				if err != nil || get(r, "jws.VS.valid") != "true" {
					t.Fatalf("want valid, got %s", got)
				}
				return
			}
			if !strings.HasPrefix(got, tc.fault+"|steps.jws."+tc.fault+"|401|") || !strings.HasSuffix(got, "policy(VS)") {
				t.Fatalf("fault = %q, want %s", got, tc.fault)
			}
			if get(r, "jws.VS.valid") != "false" || get(r, "jws.VS.error") == "<null>" {
				t.Errorf("valid/error not set on failure")
			}
		})
	}
}

func TestJWSLoadErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`<GenerateJWS name="G"><Algorithm>RS256</Algorithm><PrivateKey><Value ref="private.k"/></PrivateKey></GenerateJWS>`, "Payload"},
		{`<VerifyJWS name="V"><Algorithm>ES256</Algorithm><SecretKey><Value ref="k"/></SecretKey></VerifyJWS>`, "PublicKey"},
		{`<DecodeJWS name="D"><Source>x</Source><Algorithm>RS256</Algorithm></DecodeJWS>`, "AP103"},
	} {
		if got := loadErrors(tc.src); !strings.Contains(got, tc.want) {
			t.Errorf("%s\n got %q, want it to mention %q", tc.src, got, tc.want)
		}
	}
}
