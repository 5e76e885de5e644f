package policies

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fmtSscan is fmt.Sscan, named for the JWT tests.
func fmtSscan(s string, v any) (int, error) { return fmt.Sscan(s, v) }

func TestDecodeJWT(t *testing.T) {
	exp := time.Now().Add(-time.Minute).Unix()
	tok := jwtSign(t, "ES256", "p256", map[string]any{"kid": "k1"}, map[string]any{"iss": "i", "aud": []string{"x", "y"}, "exp": exp, "obj": map[string]any{"a": true}})
	for _, tc := range []struct {
		name, src, token, fault string
		want                    map[string]string
	}{
		{name: "expired token still decodes", src: `<DecodeJWT name="DJ"><Source>t</Source></DecodeJWT>`, token: tok, want: map[string]string{
			"jwt.DJ.header.algorithm": "ES256", "jwt.DJ.header.kid": "k1", "jwt.DJ.decoded.header.kid": "k1", "jwt.DJ.claim.issuer": "i",
			"jwt.DJ.claim.audience": "x,y", "jwt.DJ.decoded.claim.aud": `["x","y"]`, "jwt.DJ.decoded.claim.obj": `{"a":true}`,
			"jwt.DJ.is_expired": "true", "jwt.DJ.time_remaining_formatted": "00:00:00.000",
			"jwt.DJ.expiry_formatted": time.Unix(exp, 0).UTC().Format("2006-01-02T15:04:05.000-0700"),
			"jwt.DJ.claim.names":      "aud,exp,iss,obj"}},
		{name: "alg none decodes", src: `<DecodeJWT name="DJ"><Source>t</Source></DecodeJWT>`, token: jwtRaw(`{"alg":"none"}`, `{"sub":"s"}`, ""),
			want: map[string]string{"jwt.DJ.header.algorithm": "none", "jwt.DJ.claim.subject": "s", "jwt.DJ.payload-json": `{"sub":"s"}`, "jwt.DJ.header-json": `{"alg":"none"}`}},
		{name: "two parts", src: `<DecodeJWT name="DJ"><Source>t</Source></DecodeJWT>`, token: "a.b", fault: "FailedToDecode"},
		{name: "bad base64", src: `<DecodeJWT name="DJ"><Source>t</Source></DecodeJWT>`, token: "!!.b.c", fault: "FailedToDecode"},
		{name: "header array", src: `<DecodeJWT name="DJ"><Source>t</Source></DecodeJWT>`, token: jwtRaw(`[1]`, `{}`, ""), fault: "FailedToDecode"},
		{name: "too long", src: `<DecodeJWT name="DJ"><Source>t</Source></DecodeJWT>`, token: jwtRaw(`{"x":"`+strings.Repeat("y", MaxJWTBytes)+`"}`, `{}`, ""), fault: "FailedToDecode"},
		{name: "unresolved", src: `<DecodeJWT name="DJ"><Source>nope</Source></DecodeJWT>`, fault: "FailedToResolveVariable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := jwtRun(t, map[string]string{"t": tc.token})
			err := jwtPolicy(t, tc.src).Execute(r)
			if tc.fault != "" {
				if got := faultOf(err); !strings.HasPrefix(got, tc.fault+"|steps.jwt."+tc.fault+"|401|") {
					t.Fatalf("fault = %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(faultOf(err))
			}
			for n, want := range tc.want {
				if got := get(r, n); got != want {
					t.Errorf("%s = %q, want %q", n, got, want)
				}
			}
		})
	}
}

func TestDecodeJWTFailedToDecodeString(t *testing.T) {
	r := jwtRun(t, map[string]string{"t": "x"})
	got := faultOf(jwtPolicy(t, `<DecodeJWT name="JWT-Decode-HS256"><Source>t</Source></DecodeJWT>`).Execute(r))
	if want := "FailedToDecode|steps.jwt.FailedToDecode|401|Failed to Decode Token: policy(JWT-Decode-HS256)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDecodeJWTDefaultSource(t *testing.T) {
	tok := jwtSign(t, "HS256", "secret", nil, map[string]any{"sub": "b"})
	r := jwtRun(t, nil, "Authorization", "bearer "+tok)
	if err := jwtPolicy(t, `<DecodeJWT name="DJ"/>`).Execute(r); err != nil {
		t.Fatal(faultOf(err))
	}
	if got := get(r, "jwt.DJ.claim.subject"); got != "b" {
		t.Errorf("subject = %q", got)
	}
}

// FuzzJWTDecode: decodeJWT never panics and never accepts more than
// MaxJWTBytes.
func FuzzJWTDecode(f *testing.F) {
	f.Add(jwtRaw(`{"alg":"HS256"}`, `{"sub":"x","n":1e400}`, "s"))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := decodeJWT(s)
		if err == nil && (p.header == nil || p.payload == nil || len(s) > MaxJWTBytes) {
			t.Fatalf("accepted %q", s)
		}
		if err == nil {
			r := jwtRun(t, nil)
			jwtSetVars(r, "F", p)
		}
	})
}

// FuzzJWSDecode: decodeJWS never panics; detached content is put back
// into the compact form.
func FuzzJWSDecode(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9..c2ln", "content")
	f.Add("eyJhbGciOiJIUzI1NiJ9.eA.c2ln", "")
	f.Fuzz(func(t *testing.T, tok, detached string) {
		p, err := decodeJWS(tok, []byte(detached))
		if err == nil && (p.header == nil || len(tok) > MaxJWTBytes || strings.Count(p.compact, ".") != 2) {
			t.Fatalf("accepted %q", tok)
		}
	})
}

// FuzzJWTDuration: time spans parse without panics and never overflow.
func FuzzJWTDuration(f *testing.F) {
	for _, s := range []string{"30s", "1h", "1d", "500ms", "99999999999999999d", "-1s", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := jwtDuration(s); err == nil && d < 0 {
			t.Fatalf("%q = %v", s, d)
		}
	})
}
