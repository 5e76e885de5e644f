package policies

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// TestJWEDirectKeyEncodings: a dir <DirectKey> decodes its value as base64
// by default, or as hex (whitespace and either case allowed) or base64url
// by its encoding attribute; every spelling of one key decrypts the
// others' tokens.
func TestJWEDirectKeyEncodings(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(200 + i)
	}
	h := hex.EncodeToString(key)
	spaced := strings.ToUpper(h[:16]) + " " + h[16:40] + "\n\t" + h[40:]
	for _, tc := range []struct{ name, elem, value string }{
		{"default base64", `<DirectKey><Value ref="private.k"/></DirectKey>`, base64.StdEncoding.EncodeToString(key)},
		{"base64 unpadded", `<DirectKey><Value encoding="base64" ref="private.k"/></DirectKey>`, base64.RawStdEncoding.EncodeToString(key)},
		{"base64url", `<DirectKey><Value encoding="base64url" ref="private.k"/></DirectKey>`, base64.RawURLEncoding.EncodeToString(key)},
		{"hex", `<DirectKey><Value encoding="hex" ref="private.k"/></DirectKey>`, h},
		{"base16 with whitespace", `<DirectKey><Value encoding="base16" ref="private.k"/><Id>d1</Id></DirectKey>`, spaced},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>dir</Key><Content>A128CBC-HS256</Content></Algorithms>`+tc.elem+
				`<Subject>s</Subject><OutputVariable>out</OutputVariable></GenerateJWT>`)
			r := jwtRun(t, map[string]string{"private.k": tc.value})
			if err := g.Execute(r); err != nil {
				t.Fatalf("generate: %s", faultOf(err))
			}
			// The reference spelling decrypts it: the same 32 bytes.
			v := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithms><Key>dir</Key></Algorithms><DirectKey><Value encoding="hex" ref="private.h"/></DirectKey><Source>tok</Source><Subject>s</Subject></VerifyJWT>`)
			r = jwtRun(t, map[string]string{"private.h": h, "tok": get(r, "out")})
			if err := v.Execute(r); err != nil {
				t.Fatalf("verify: %s", faultOf(err))
			}
			if strings.Contains(tc.elem, "<Id>") && get(r, "jwt.VJ.header.kid") != "d1" {
				t.Errorf("kid = %q, want d1", get(r, "jwt.VJ.header.kid"))
			}
		})
	}
}

// TestJWEPBES2Salt: a generated PBES2 token carries a salt (p2s) of
// <SaltLength> bytes, 8 by default, and p2c of <PBKDF2Iterations>, 10000
// by default; VerifyJWT decrypts each.
func TestJWEPBES2Salt(t *testing.T) {
	for _, tc := range []struct {
		name, extra, alg string
		salt, count      int
	}{
		{"defaults", "", "PBES2-HS256+A128KW", 8, 10000},
		{"salt 32", "<SaltLength>32</SaltLength><PBKDF2Iterations>1000</PBKDF2Iterations>", "PBES2-HS512+A256KW", 32, 1000},
		{"salt 12", "<SaltLength> 12 </SaltLength><PBKDF2Iterations>1500</PBKDF2Iterations>", "PBES2-HS384+A192KW", 12, 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>`+tc.alg+`</Key><Content>A192GCM</Content></Algorithms>
				<PasswordKey><Value ref="private.pw"/><Id>pw1</Id>`+tc.extra+`</PasswordKey><Subject>s</Subject><OutputVariable>out</OutputVariable></GenerateJWT>`)
			vars := map[string]string{"private.pw": "correct horse battery staple"}
			r := jwtRun(t, vars)
			if err := g.Execute(r); err != nil {
				t.Fatalf("generate: %s", faultOf(err))
			}
			tok := get(r, "out")
			raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			if err != nil {
				t.Fatal(err)
			}
			var hdr struct {
				Alg, Kid, P2s string
				P2c           int
			}
			if err := json.Unmarshal(raw, &hdr); err != nil {
				t.Fatalf("header %s: %v", raw, err)
			}
			salt, err := base64.RawURLEncoding.DecodeString(hdr.P2s)
			if err != nil || len(salt) != tc.salt || hdr.P2c != tc.count || hdr.Alg != tc.alg || hdr.Kid != "pw1" {
				t.Fatalf("header %s: salt %d bytes (%v), want %d; p2c want %d", raw, len(salt), err, tc.salt, tc.count)
			}
			v := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithms><Key>`+tc.alg+`</Key></Algorithms><PasswordKey><Value ref="private.pw"/></PasswordKey><Source>tok</Source><Subject>s</Subject></VerifyJWT>`)
			vars["tok"] = tok
			r = jwtRun(t, vars)
			if err := v.Execute(r); err != nil {
				t.Fatalf("verify: %s", faultOf(err))
			}
			vars["private.pw"] = "wrong"
			r = jwtRun(t, vars)
			if got := faultOf(v.Execute(r)); !strings.HasPrefix(got, "InvalidToken|") {
				t.Errorf("wrong password: %s", got)
			}
		})
	}
}

// TestJWESecretKeyEncodingOnElement: the encoding attribute on
// <SecretKey>, where Apigee's reference puts it, decodes the key.
func TestJWESecretKeyEncodingOnElement(t *testing.T) {
	key := strings.Repeat("0f", 24)
	g := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>A192KW</Key><Content>A128GCM</Content></Algorithms>
		<SecretKey encoding="hex"><Value ref="private.k"/></SecretKey><Subject>s</Subject><OutputVariable>out</OutputVariable></GenerateJWT>`)
	r := jwtRun(t, map[string]string{"private.k": key})
	if err := g.Execute(r); err != nil {
		t.Fatalf("generate: %s", faultOf(err))
	}
	v := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithms><Key>A192KW</Key></Algorithms><SecretKey><Value encoding="base64url" ref="private.k"/></SecretKey><Source>tok</Source></VerifyJWT>`)
	b, _ := hex.DecodeString(key)
	r = jwtRun(t, map[string]string{"private.k": base64.RawURLEncoding.EncodeToString(b), "tok": get(r, "out")})
	if err := v.Execute(r); err != nil {
		t.Fatalf("verify: %s", faultOf(err))
	}
	if get(r, "jwt.VJ.claim.subject") != "s" {
		t.Errorf("subject = %q", get(r, "jwt.VJ.claim.subject"))
	}
}

// TestJWEEncryptionFailed: a PBES2 encrypter asked for an algorithm that
// is not PBES2 fails with Apigee's EncryptionFailed, not a panic.
func TestJWEEncryptionFailed(t *testing.T) {
	g, ok := jwtPolicy(t, `<GenerateJWT name="GJ"><Algorithms><Key>PBES2-HS256+A128KW</Key><Content>A128GCM</Content></Algorithms>
		<PasswordKey><Value ref="private.pw"/></PasswordKey></GenerateJWT>`).(*generateJWT)
	if !ok || g.jwe == nil {
		t.Fatal("not an encrypted GenerateJWT")
	}
	r := jwtRun(t, map[string]string{"private.pw": "pw"})
	_, err := g.jwe.pbes2Encrypter(r, "A128KW", map[string]any{})
	if got := faultOf(err); !strings.HasPrefix(got, "EncryptionFailed|steps.jwt.EncryptionFailed|401|") {
		t.Fatalf("fault = %q", got)
	}
}
