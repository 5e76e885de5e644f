package policies

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"
)

// jweKeyElems are the GenerateJWT and VerifyJWT key elements for each kind
// of key-management algorithm, with the variables they read.
func jweKeyElems(t testing.TB, alg string) (gen, ver string, vars map[string]string) {
	k := jwtTestKeys(t)
	switch {
	case alg == "RSA-OAEP-256":
		return `<PublicKey><Value ref="rsa_public"/></PublicKey>`, `<PrivateKey><Value ref="private.rsa"/></PrivateKey>`,
			map[string]string{"rsa_public": k.pubPEM["rsa"], "private.rsa": k.privPEM["rsa"]}
	case strings.HasPrefix(alg, "ECDH-ES"):
		return `<PublicKey><Value ref="ec_public"/></PublicKey>`, `<PrivateKey><Value ref="private.ec"/></PrivateKey>`,
			map[string]string{"ec_public": k.pubPEM["p256"], "private.ec": k.privPEM["p256"]}
	case strings.HasPrefix(alg, "PBES2"):
		e := `<PasswordKey><Value ref="private.pw"/><PBKDF2Iterations>1000</PBKDF2Iterations></PasswordKey>`
		return e, e, map[string]string{"private.pw": "correct horse battery staple"}
	}
	if alg == "dir" {
		// 32 bytes: A256GCM, A128CBC-HS256.
		e := `<DirectKey><Value encoding="hex" ref="private.aes"/><Id>k1</Id></DirectKey>`
		return e, e, map[string]string{"private.aes": strings.Repeat("ab", 32)}
	}
	e := `<SecretKey encoding="hex"><Value ref="private.aes"/><Id>k1</Id></SecretKey>`
	return e, e, map[string]string{"private.aes": strings.Repeat("ab", jweKeyAlgs[alg].keyLen)}
}

// TestJWERoundTrip generates an encrypted JWT with every key-management
// algorithm and a content algorithm, and verifies it with the matching
// VerifyJWT.
func TestJWERoundTrip(t *testing.T) {
	for alg := range jweKeyAlgs {
		encs := []string{"A128GCM", "A256CBC-HS512"}
		if alg == "dir" {
			encs = []string{"A256GCM", "A128CBC-HS256"}
		}
		for _, enc := range encs {
			t.Run(alg+"/"+enc, func(t *testing.T) {
				genKey, verKey, vars := jweKeyElems(t, alg)
				g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>`+alg+`</Key><Content>`+enc+`</Content></Algorithms>`+genKey+
					`<Issuer>urn://issuer</Issuer><Subject>alice</Subject><Audience>urn://aud</Audience><ExpiresIn>5m</ExpiresIn>
					<AdditionalClaims><Claim name="scope">read</Claim></AdditionalClaims>
					<AdditionalHeaders><Claim name="x-h">hv</Claim></AdditionalHeaders><OutputVariable>out</OutputVariable></GenerateJWT>`)
				r := jwtRun(t, vars)
				if err := g.Execute(r); err != nil {
					t.Fatalf("generate: %s", faultOf(err))
				}
				tok := get(r, "out")
				if strings.Count(tok, ".") != 4 {
					t.Fatalf("not a compact JWE: %q", tok)
				}
				if strings.Contains(tok, base64.RawURLEncoding.EncodeToString([]byte("alice"))) {
					t.Fatalf("claims readable in the token")
				}
				v := jwtPolicy(t, `<VerifyJWT name="VJ"><Type>Encrypted</Type><Algorithms><Key>`+alg+`</Key><Content>`+enc+`</Content></Algorithms>`+verKey+
					`<Source>tok</Source><Issuer>urn://issuer</Issuer><Subject>alice</Subject><Audience>urn://aud</Audience>
					<AdditionalClaims><Claim name="scope">read</Claim></AdditionalClaims>
					<AdditionalHeaders><Claim name="x-h">hv</Claim></AdditionalHeaders></VerifyJWT>`)
				vars["tok"] = tok
				r = jwtRun(t, vars)
				if err := v.Execute(r); err != nil {
					t.Fatalf("verify: %s", faultOf(err))
				}
				for n, want := range map[string]string{"jwt.VJ.valid": "true", "jwt.VJ.claim.subject": "alice", "jwt.VJ.claim.scope": "read",
					"jwt.VJ.header.alg": alg, "jwt.VJ.header.enc": enc, "jwt.VJ.header.typ": "JWT", "jwt.VJ.header.x-h": "hv", "jwt.VJ.is_expired": "false"} {
					if got := get(r, n); got != want {
						t.Errorf("%s = %q, want %q", n, got, want)
					}
				}
			})
		}
	}
}

// jweGenerate encrypts claims with alg/enc and the test key of alg.
func jweGenerate(t testing.TB, alg, enc string, claims string, vars map[string]string) string {
	t.Helper()
	genKey, _, kv := jweKeyElems(t, alg)
	for n, v := range vars {
		kv[n] = v
	}
	g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>`+alg+`</Key><Content>`+enc+`</Content></Algorithms>`+genKey+
		`<AdditionalClaims ref="claims"/><OutputVariable>out</OutputVariable></GenerateJWT>`)
	kv["claims"] = claims
	r := jwtRun(t, kv)
	if err := g.Execute(r); err != nil {
		t.Fatalf("generate: %s", faultOf(err))
	}
	return get(r, "out")
}

// TestJWEVerifyFaults: a wrong key, a wrong algorithm, a tampered
// ciphertext, an expired token and the other VerifyJWT faults of an
// encrypted JWT.
func TestJWEVerifyFaults(t *testing.T) {
	k := jwtTestKeys(t)
	now := time.Now().Unix()
	good := `{"sub":"alice","exp":` + itoa(now+300) + `}`
	rsaTok := jweGenerate(t, "RSA-OAEP-256", "A128GCM", good, nil)
	_, rsaKey, rsaVars := jweKeyElems(t, "RSA-OAEP-256")
	pol := func(keyAlg, content, key, extra string) string {
		c := ""
		if content != "" {
			c = "<Content>" + content + "</Content>"
		}
		return `<VerifyJWT name="VJ"><Algorithms><Key>` + keyAlg + `</Key>` + c + `</Algorithms>` + key + `<Source>tok</Source>` + extra + `</VerifyJWT>`
	}
	tamper := func(tok string, part int) string {
		p := strings.Split(tok, ".")
		b, _ := base64.RawURLEncoding.DecodeString(p[part])
		b[0] ^= 1
		p[part] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(p, ".")
	}
	kwKey := `<SecretKey><Value encoding="hex" ref="private.aes"/></SecretKey>`
	kwTok := jweGenerate(t, "A128KW", "A128GCM", good, nil)
	tests := []struct {
		name, policy, token string
		vars                map[string]string
		fault               string
	}{
		{"ok", pol("RSA-OAEP-256", "A128GCM", rsaKey, ""), rsaTok, nil, ""},
		{"content not enforced", pol("RSA-OAEP-256", "", rsaKey, ""), rsaTok, nil, ""},
		{"key list", pol("RSA-OAEP-256", "A256GCM,A128GCM", rsaKey, ""), rsaTok, nil, ""},
		{"wrong private key", pol("RSA-OAEP-256", "", rsaKey, ""), rsaTok, map[string]string{"private.rsa": k.privPEM["rsa2"]}, "InvalidToken"},
		{"EC key for RSA-OAEP-256", pol("RSA-OAEP-256", "", rsaKey, ""), rsaTok, map[string]string{"private.rsa": k.privPEM["p256"]}, "WrongKeyType"},
		{"private key unparsable", pol("RSA-OAEP-256", "", rsaKey, ""), rsaTok, map[string]string{"private.rsa": "nope"}, "InvalidPrivateKey"},
		{"private key unresolved", pol("RSA-OAEP-256", "", `<PrivateKey><Value ref="private.none"/></PrivateKey>`, ""), rsaTok, nil, "FailedToResolveVariable"},
		{"wrong key algorithm", pol("ECDH-ES", "", `<PrivateKey><Value ref="private.rsa"/></PrivateKey>`, ""), rsaTok, nil, "AlgorithmMismatch"},
		{"key algorithm not in list", pol("ECDH-ES,ECDH-ES+A128KW", "", `<PrivateKey><Value ref="private.rsa"/></PrivateKey>`, ""), rsaTok, nil, "AlgorithmInTokenNotPresentInConfiguration"},
		{"wrong content algorithm", pol("RSA-OAEP-256", "A256GCM", rsaKey, ""), rsaTok, nil, "AlgorithmMismatch"},
		{"tampered ciphertext", pol("RSA-OAEP-256", "", rsaKey, ""), tamper(rsaTok, 3), nil, "InvalidToken"},
		{"tampered tag", pol("RSA-OAEP-256", "", rsaKey, ""), tamper(rsaTok, 4), nil, "InvalidToken"},
		{"tampered encrypted key", pol("RSA-OAEP-256", "", rsaKey, ""), tamper(rsaTok, 1), nil, "InvalidToken"},
		{"tampered header", pol("RSA-OAEP-256", "", rsaKey, ""), func() string {
			p := strings.Split(rsaTok, ".")
			p[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RSA-OAEP-256","enc":"A128GCM","x":1}`))
			return strings.Join(p, ".")
		}(), nil, "InvalidToken"},
		{"expired", pol("RSA-OAEP-256", "", rsaKey, ""), jweGenerate(t, "RSA-OAEP-256", "A128GCM", `{"exp":`+itoa(now-10)+`}`, nil), nil, "TokenExpired"},
		{"expired within allowance", pol("RSA-OAEP-256", "", rsaKey, "<TimeAllowance>60s</TimeAllowance>"), jweGenerate(t, "RSA-OAEP-256", "A128GCM", `{"exp":`+itoa(now-10)+`}`, nil), nil, ""},
		{"not yet valid", pol("RSA-OAEP-256", "", rsaKey, ""), jweGenerate(t, "RSA-OAEP-256", "A128GCM", `{"nbf":`+itoa(now+600)+`}`, nil), nil, "TokenNotYetValid"},
		{"subject mismatch", pol("RSA-OAEP-256", "", rsaKey, "<Subject>bob</Subject>"), rsaTok, nil, "InvalidClaim"},
		{"signed JWT to an encrypted policy", pol("RSA-OAEP-256", "", rsaKey, ""), jwtSign(t, "RS256", "rsa", nil, map[string]any{"sub": "x"}), nil, "InvalidToken"},
		{"malformed", pol("RSA-OAEP-256", "", rsaKey, ""), "a.b.c.d", nil, "FailedToDecode"},
		{"header not JSON", pol("RSA-OAEP-256", "", rsaKey, ""), base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".a.b.c.d", nil, "InvalidJsonFormat"},
		{"no alg", pol("RSA-OAEP-256", "", rsaKey, ""), base64.RawURLEncoding.EncodeToString([]byte(`{"enc":"A128GCM"}`)) + ".a.b.c.d", nil, "NoAlgorithmFoundInHeader"},
		{"unknown enc", pol("RSA-OAEP-256", "", rsaKey, ""), base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RSA-OAEP-256","enc":"A1"}`)) + ".a.b.c.d", nil, "InvalidToken"},
		{"crit", pol("RSA-OAEP-256", "", rsaKey, ""), base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RSA-OAEP-256","enc":"A128GCM","crit":["x"],"x":1}`)) + ".a.b.c.d", nil, "UnhandledCriticalHeader"},
		{"source unresolved", pol("RSA-OAEP-256", "", rsaKey, ""), "", nil, "FailedToResolveVariable"},
		{"A128KW ok", pol("A128KW", "", kwKey, ""), kwTok, nil, ""},
		{"A128KW wrong key", pol("A128KW", "", kwKey, ""), kwTok, map[string]string{"private.aes": strings.Repeat("cd", 16)}, "InvalidToken"},
		{"A128KW short key", pol("A128KW", "", kwKey, ""), kwTok, map[string]string{"private.aes": strings.Repeat("cd", 8)}, "InsufficientKeyLength"},
		{"A128KW long key", pol("A128KW", "", kwKey, ""), kwTok, map[string]string{"private.aes": strings.Repeat("cd", 24)}, "InvalidSecretKey"},
		{"A128KW key not hex", pol("A128KW", "", kwKey, ""), kwTok, map[string]string{"private.aes": "zz"}, "InvalidSecretKey"},
		{"PBES2 wrong password", pol("PBES2-HS256+A128KW", "", `<PasswordKey><Value ref="private.pw"/></PasswordKey>`, ""),
			jweGenerate(t, "PBES2-HS256+A128KW", "A128GCM", good, nil), map[string]string{"private.pw": "wrong"}, "InvalidToken"},
		{"PBES2 count above the bound", pol("PBES2-HS256+A128KW", "", `<PasswordKey><Value ref="private.pw"/><PBKDF2Iterations>1000</PBKDF2Iterations></PasswordKey>`, ""),
			func() string {
				g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>PBES2-HS256+A128KW</Key><Content>A128GCM</Content></Algorithms>
					<PasswordKey><Value ref="private.pw"/><PBKDF2Iterations>2000</PBKDF2Iterations></PasswordKey><OutputVariable>out</OutputVariable></GenerateJWT>`)
				r := jwtRun(t, map[string]string{"private.pw": "correct horse battery staple"})
				if err := g.Execute(r); err != nil {
					t.Fatal(faultOf(err))
				}
				return get(r, "out")
			}(), map[string]string{"private.pw": "correct horse battery staple"}, "InvalidToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"private.aes": strings.Repeat("ab", 16), "private.pw": "correct horse battery staple"}
			for n, v := range rsaVars {
				vars[n] = v
			}
			for n, v := range tc.vars {
				vars[n] = v
			}
			if tc.token != "" {
				vars["tok"] = tc.token
			}
			r := jwtRun(t, vars)
			err := jwtPolicy(t, tc.policy).Execute(r)
			got := faultOf(err)
			if tc.fault == "" {
				if err != nil {
					t.Fatalf("want valid, got %s", got)
				}
				return
			}
			want := tc.fault + "|steps.jwt." + tc.fault + "|401|"
			if !strings.HasPrefix(got, want) || !strings.Contains(got, "policy(VJ)") {
				t.Fatalf("fault = %q, want %s…policy(VJ)", got, want)
			}
			if v := get(r, "jwt.VJ.valid"); v != "false" {
				t.Errorf("valid = %s after a fault", v)
			}
			if v := get(r, "jwt.VJ.claim.subject"); v != "<null>" {
				t.Errorf("claims set after a fault: subject = %s", v)
			}
		})
	}
}

// TestJWEGenerateFaults: the key faults of an encrypted GenerateJWT.
func TestJWEGenerateFaults(t *testing.T) {
	k := jwtTestKeys(t)
	small := "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMJjh2w3Ub4q7u2wH0T1dWZmH+0ndqSL\nVWyRPo7R5Gpy6wBVFnKPKF2CxeSfUQDJL0qRjd4hBoD1zpS+I2Gh7/ECAwEAAQ==\n-----END PUBLIC KEY-----\n"
	for _, tc := range []struct {
		name, alg, enc, key string
		vars                map[string]string
		fault               string
	}{
		{"RSA with an EC key", "RSA-OAEP-256", "A128GCM", `<PublicKey><Value ref="pub"/></PublicKey>`, map[string]string{"pub": k.pubPEM["p256"]}, "WrongKeyType"},
		{"RSA key too short", "RSA-OAEP-256", "A128GCM", `<PublicKey><Value ref="pub"/></PublicKey>`, map[string]string{"pub": small}, "InsufficientKeyLength"},
		{"ECDH with an RSA key", "ECDH-ES", "A128GCM", `<PublicKey><Value ref="pub"/></PublicKey>`, map[string]string{"pub": k.pubPEM["rsa"]}, "WrongKeyType"},
		{"public key unparsable", "RSA-OAEP-256", "A128GCM", `<PublicKey><Value ref="pub"/></PublicKey>`, map[string]string{"pub": "nope"}, "KeyParsingFailed"},
		{"public key unresolved", "RSA-OAEP-256", "A128GCM", `<PublicKey><Value ref="pub"/></PublicKey>`, nil, "FailedToResolveVariable"},
		{"JWKS unknown Id", "RSA-OAEP-256", "A128GCM", `<PublicKey><JWKS ref="jwks"/><Id>nope</Id></PublicKey>`, map[string]string{"jwks": jwtJWKS(t, "rsa")}, "NoMatchingPublicKey"},
		{"dir key too long", "dir", "A128GCM", `<DirectKey><Value encoding="hex" ref="private.k"/></DirectKey>`, map[string]string{"private.k": strings.Repeat("ab", 32)}, "InvalidSecretKey"},
		{"dir key too short", "dir", "A256CBC-HS512", `<DirectKey><Value encoding="hex" ref="private.k"/></DirectKey>`, map[string]string{"private.k": strings.Repeat("ab", 32)}, "InsufficientKeyLength"},
		{"dir key not base64", "dir", "A128GCM", `<DirectKey><Value ref="private.k"/></DirectKey>`, map[string]string{"private.k": "not base64!"}, "InvalidSecretKey"},
		{"dir key unresolved", "dir", "A128GCM", `<DirectKey><Value ref="private.k"/></DirectKey>`, nil, "FailedToResolveVariable"},
		{"password unresolved", "PBES2-HS512+A256KW", "A256GCM", `<PasswordKey><Value ref="private.pw"/></PasswordKey>`, nil, "FailedToResolveVariable"},
		{"password empty", "PBES2-HS512+A256KW", "A256GCM", `<PasswordKey><Value ref="private.pw"/></PasswordKey>`, map[string]string{"private.pw": ""}, "InvalidPasswordKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>`+tc.alg+`</Key><Content>`+tc.enc+`</Content></Algorithms>`+tc.key+`</GenerateJWT>`)
			r := jwtRun(t, tc.vars)
			got := faultOf(g.Execute(r))
			if want := tc.fault + "|steps.jwt." + tc.fault + "|401|"; !strings.HasPrefix(got, want) {
				t.Fatalf("fault = %q, want %s", got, want)
			}
			if v := get(r, "JWT.failed"); v != "true" {
				t.Errorf("JWT.failed = %s", v)
			}
		})
	}
}

// TestJWEJWKSAndCompress: a JWKS key chosen by <Id> (written as kid),
// and a compressed payload.
func TestJWEJWKSAndCompress(t *testing.T) {
	k := jwtTestKeys(t)
	g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>ECDH-ES+A256KW</Key><Content>A256GCM</Content></Algorithms>
		<PublicKey><JWKS ref="jwks"/><Id>p256</Id></PublicKey><Compress>true</Compress><Subject>s</Subject><OutputVariable>out</OutputVariable></GenerateJWT>`)
	r := jwtRun(t, map[string]string{"jwks": jwtJWKS(t, "rsa", "p256")})
	if err := g.Execute(r); err != nil {
		t.Fatal(faultOf(err))
	}
	tok := get(r, "out")
	v := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithms><Key>ECDH-ES+A256KW</Key></Algorithms><PrivateKey><Value ref="private.ec"/></PrivateKey><Source>tok</Source></VerifyJWT>`)
	r = jwtRun(t, map[string]string{"tok": tok, "private.ec": k.privPEM["p256"]})
	if err := v.Execute(r); err != nil {
		t.Fatal(faultOf(err))
	}
	for n, want := range map[string]string{"jwt.VJ.header.kid": "p256", "jwt.VJ.header.zip": "DEF", "jwt.VJ.claim.subject": "s"} {
		if got := get(r, n); got != want {
			t.Errorf("%s = %q, want %q", n, got, want)
		}
	}
}

// TestDecodeJWTEncrypted: DecodeJWT reads the protected header of an
// encrypted JWT and sets no claims.
func TestDecodeJWTEncrypted(t *testing.T) {
	tok := jweGenerate(t, "A256GCMKW", "A192GCM", `{"sub":"alice"}`, nil)
	d := jwtPolicy(t, `<DecodeJWT name="DJ"><Source>tok</Source></DecodeJWT>`)
	r := jwtRun(t, map[string]string{"tok": tok})
	if err := d.Execute(r); err != nil {
		t.Fatal(faultOf(err))
	}
	for n, want := range map[string]string{"jwt.DJ.header.alg": "A256GCMKW", "jwt.DJ.header.algorithm": "A256GCMKW", "jwt.DJ.header.enc": "A192GCM",
		"jwt.DJ.header.kid": "k1", "jwt.DJ.header.typ": "JWT", "jwt.DJ.claim.subject": "<null>", "jwt.DJ.payload-json": "<null>"} {
		if got := get(r, n); got != want {
			t.Errorf("%s = %q, want %q", n, got, want)
		}
	}
	r = jwtRun(t, map[string]string{"tok": "bm9wZQ.a.b.c.d"})
	if got := faultOf(d.Execute(r)); !strings.HasPrefix(got, "FailedToDecode|") {
		t.Errorf("bad JWE header: %s", got)
	}
}

func TestJWELoadErrors(t *testing.T) {
	pk := `<PrivateKey><Value ref="private.k"/></PrivateKey>`
	for _, tc := range []struct{ src, want string }{
		{`<GenerateJWT name="G"><Algorithms><Key>RSA1_5</Key><Content>A128GCM</Content></Algorithms><PublicKey><Value ref="k"/></PublicKey></GenerateJWT>`, "not supported"},
		{`<GenerateJWT name="G"><Algorithms><Key>RSA-OAEP</Key><Content>A128GCM</Content></Algorithms><PublicKey><Value ref="k"/></PublicKey></GenerateJWT>`, "not supported"},
		{`<GenerateJWT name="G"><Algorithms><Key>RSA-OAEP-256</Key></Algorithms><PublicKey><Value ref="k"/></PublicKey></GenerateJWT>`, "needs <Content>"},
		{`<GenerateJWT name="G"><Algorithms><Key>RSA-OAEP-256</Key><Content>A128CTR</Content></Algorithms><PublicKey><Value ref="k"/></PublicKey></GenerateJWT>`, "not supported"},
		{`<GenerateJWT name="G"><Algorithms><Key>RSA-OAEP-256,ECDH-ES</Key><Content>A128GCM</Content></Algorithms><PublicKey><Value ref="k"/></PublicKey></GenerateJWT>`, "different kinds"},
		{`<GenerateJWT name="G"><Algorithms><Key>A128KW,A256KW</Key><Content>A128GCM</Content></Algorithms><SecretKey><Value ref="private.k"/></SecretKey></GenerateJWT>`, "one algorithm"},
		{`<GenerateJWT name="G"><Algorithms><Key>RSA-OAEP-256</Key><Content>A128GCM</Content></Algorithms>` + pk + `</GenerateJWT>`, "needs <PublicKey>"},
		{`<GenerateJWT name="G"><Algorithms><Key>RSA-OAEP-256</Key><Content>A128GCM</Content></Algorithms><PublicKey><Value ref="k"/></PublicKey>` + pk + `</GenerateJWT>`, "not <PrivateKey>"},
		{`<GenerateJWT name="G"><Algorithms><Key>A128KW</Key><Content>A128GCM</Content></Algorithms><SecretKey><Value ref="k"/></SecretKey></GenerateJWT>`, "InvalidVariableNameForSecret"},
		{`<GenerateJWT name="G"><Algorithms><Key>A128KW</Key><Content>A128GCM</Content></Algorithms><SecretKey><Value ref="private.k"/></SecretKey><PasswordKey><Value ref="private.k"/></PasswordKey></GenerateJWT>`, "not <PasswordKey>"},
		{`<GenerateJWT name="G"><Algorithms><Key>A128KW</Key><Content>A128GCM</Content></Algorithms><PublicKey><Value ref="k"/></PublicKey></GenerateJWT>`, "A128KW needs <SecretKey>"},
		{`<VerifyJWT name="V"><Algorithms><Key>dir</Key></Algorithms><DirectKey><Value ref="private.k"/></DirectKey><PrivateKey><Value ref="private.k"/></PrivateKey></VerifyJWT>`, "not <PrivateKey>"},
		{`<VerifyJWT name="V"><Algorithms><Key>dir</Key></Algorithms><SecretKey><Value ref="private.k"/></SecretKey></VerifyJWT>`, "dir needs <DirectKey>"},
		{`<GenerateJWT name="G"><Algorithms><Key>dir</Key><Content>A128GCM</Content></Algorithms><DirectKey><Value ref="private.k"/></DirectKey><SecretKey><Value ref="private.k"/></SecretKey></GenerateJWT>`, "takes <DirectKey>, not <SecretKey>"},
		{`<GenerateJWT name="G"><Algorithms><Key>dir</Key><Content>A128GCM</Content></Algorithms><DirectKey><Id>x</Id></DirectKey></GenerateJWT>`, "<DirectKey> needs <Value>"},
		{`<GenerateJWT name="G"><Algorithms><Key>dir</Key><Content>A128GCM</Content></Algorithms><DirectKey><Value ref="k"/></DirectKey></GenerateJWT>`, "InvalidVariableNameForSecret"},
		{`<GenerateJWT name="G"><Algorithms><Key>A128KW</Key><Content>A128GCM</Content></Algorithms><DirectKey><Value ref="private.k"/></DirectKey></GenerateJWT>`, "A128KW needs <SecretKey>"},
		{`<GenerateJWT name="G"><Algorithm>HS256</Algorithm><SecretKey><Value ref="private.k"/></SecretKey><DirectKey><Value ref="private.k"/></DirectKey></GenerateJWT>`, "<DirectKey> is for dir"},
		{`<VerifyJWT name="V"><Algorithms><Key>A128KW</Key></Algorithms><SecretKey encoding="hex"><Value ref="private.k" encoding="base64"/></SecretKey></VerifyJWT>`, "differ"},
		{`<GenerateJWT name="G"><Algorithms><Key>PBES2-HS256+A128KW</Key><Content>A128GCM</Content></Algorithms><PasswordKey><Value ref="private.k"/><SaltLength>4</SaltLength></PasswordKey></GenerateJWT>`, "SaltLength"},
		{`<GenerateJWT name="G"><Algorithms><Key>PBES2-HS256+A128KW</Key><Content>A128GCM</Content></Algorithms><PasswordKey><Value ref="private.k"/><SaltLength>65</SaltLength></PasswordKey></GenerateJWT>`, "SaltLength"},
		{`<VerifyJWT name="V"><Algorithms><Key>PBES2-HS256+A128KW</Key></Algorithms><PasswordKey><Value ref="private.k"/><SaltLength>8</SaltLength></PasswordKey></VerifyJWT>`, "GenerateJWT only"},
		{`<GenerateJWT name="G"><Algorithms><Key>RSA-OAEP-256</Key><Content>A128GCM</Content></Algorithms><PublicKey><JWKS ref="jwks"/></PublicKey></GenerateJWT>`, "needs <Id>"},
		{`<GenerateJWT name="G"><Algorithms><Key>PBES2-HS256+A128KW</Key><Content>A128GCM</Content></Algorithms><PasswordKey><Value ref="private.k"/><PBKDF2Iterations>10</PBKDF2Iterations></PasswordKey></GenerateJWT>`, "PBKDF2Iterations"},
		{`<GenerateJWT name="G"><Algorithms><Key>PBES2-HS256+A128KW</Key><Content>A128GCM</Content></Algorithms><SecretKey><Value ref="private.k"/></SecretKey></GenerateJWT>`, "need <PasswordKey>"},
		{`<GenerateJWT name="G"><Type>Signed</Type><Algorithms><Key>A128KW</Key><Content>A128GCM</Content></Algorithms><SecretKey><Value ref="private.k"/></SecretKey></GenerateJWT>`, "<Type>Signed</Type> with <Algorithms>"},
		{`<GenerateJWT name="G"><Type>Encrypted</Type><Algorithm>HS256</Algorithm><SecretKey><Value ref="private.k"/></SecretKey></GenerateJWT>`, "exclude each other"},
		{`<GenerateJWT name="G"><Type>Encrypted</Type><SecretKey><Value ref="private.k"/></SecretKey></GenerateJWT>`, "needs <Algorithms>"},
		{`<GenerateJWT name="G"><Algorithms><Key>A128KW</Key><Content>A128GCM</Content><Tag/></Algorithms><SecretKey><Value ref="private.k"/></SecretKey></GenerateJWT>`, "AP103"},
		{`<GenerateJWT name="G"><Algorithms><Key>A128KW</Key><Content>A128GCM</Content></Algorithms><SecretKey><Value ref="private.k"/></SecretKey><AdditionalHeaders><Claim name="enc">x</Claim></AdditionalHeaders></GenerateJWT>`, "header(enc)"},
		{`<GenerateJWT name="G"><Algorithms><Key>A128KW</Key><Content>A128GCM,A256GCM</Content></Algorithms><SecretKey><Value ref="private.k"/></SecretKey></GenerateJWT>`, "one algorithm"},
		{`<GenerateJWT name="G"><Algorithm>HS256</Algorithm><SecretKey><Value ref="private.k"/></SecretKey><Compress>true</Compress></GenerateJWT>`, "<Compress> is not supported"},
		{`<VerifyJWT name="V"><Algorithms><Key>RSA-OAEP-256</Key></Algorithms><PublicKey><Value ref="k"/></PublicKey></VerifyJWT>`, "needs <PrivateKey>"},
		{`<VerifyJWT name="V"><Algorithms><Key>RSA-OAEP-256</Key></Algorithms>` + pk + `<Compress>true</Compress></VerifyJWT>`, "AP103"},
		{`<VerifyJWT name="V"><Algorithms><Content>A128GCM</Content></Algorithms>` + pk + `</VerifyJWT>`, "needs <Key>"},
		{`<VerifyJWT name="V"><Algorithms><Key>dir</Key></Algorithms><DirectKey><Value ref="private.k" encoding="rot13"/></DirectKey></VerifyJWT>`, "encoding"},
		{`<VerifyJWT name="V"><Algorithms><Key>A128KW</Key></Algorithms><SecretKey encoding="rot13"><Value ref="private.k"/></SecretKey></VerifyJWT>`, "encoding"},
		{`<VerifyJWS name="V"><Algorithms><Key>dir</Key></Algorithms><SecretKey><Value ref="private.k"/></SecretKey></VerifyJWS>`, "AP401"},
	} {
		if got := loadErrors(tc.src); !strings.Contains(got, tc.want) {
			t.Errorf("%s\n got %q, want it to mention %q", tc.src, got, tc.want)
		}
	}
}

// FuzzJWEHeader: the protected-header parser of encrypted JWTs never
// panics and accepts only five-part tokens with a JSON object header.
func FuzzJWEHeader(f *testing.F) {
	f.Add("eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..aXY.Y3Q.dGFn")
	f.Add("a.b.c.d.e")
	f.Add("....")
	f.Add(hex.EncodeToString([]byte("x")))
	f.Fuzz(func(t *testing.T, tok string) {
		hdr, raw, err := jweHeader(tok)
		if err != nil {
			return
		}
		if strings.Count(tok, ".") != 4 || hdr == nil || raw == "" {
			t.Fatalf("accepted %q: %v %q", tok, hdr, raw)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// FuzzVerifyJWE: an encrypted VerifyJWT given any token never panics and
// never accepts one it did not get from the key's owner.
func FuzzVerifyJWE(f *testing.F) {
	for _, alg := range []string{"A128KW", "dir", "PBES2-HS256+A128KW", "ECDH-ES"} {
		f.Add(alg, jweGenerate(f, alg, "A128CBC-HS256", `{"sub":"s"}`, nil))
	}
	f.Add("A128KW", "eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4R0NNIiwiemlwIjoiREVGIn0.a.b.c.d")
	pols := map[string]struct {
		p    string
		vars map[string]string
	}{}
	for _, alg := range []string{"A128KW", "dir", "PBES2-HS256+A128KW", "ECDH-ES"} {
		_, key, vars := jweKeyElems(f, alg)
		pols[alg] = struct {
			p    string
			vars map[string]string
		}{`<VerifyJWT name="VJ"><Algorithms><Key>` + alg + `</Key></Algorithms>` + key + `<Source>tok</Source><Subject>s</Subject></VerifyJWT>`, vars}
	}
	f.Fuzz(func(t *testing.T, alg, tok string) {
		pc, ok := pols[alg]
		if !ok {
			return
		}
		vars := map[string]string{"tok": tok}
		for n, v := range pc.vars {
			vars[n] = v
		}
		r := jwtRun(t, vars)
		if err := jwtPolicy(t, pc.p).Execute(r); err == nil && get(r, "jwt.VJ.claim.subject") != "s" {
			t.Fatalf("accepted %q without the expected subject", tok)
		}
	})
}
