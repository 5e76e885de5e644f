package cors

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestCompile(t *testing.T) {
	cases := []struct {
		name      string
		ext       any
		cfg       *ConfigCORS
		disabled  bool
		origins   []string
		creds     bool
		code      diag.Code
		errSubstr string
	}{
		{name: "absent", disabled: true},
		{name: "false", ext: false, disabled: true},
		{name: "single string", ext: map[string]any{"allowed-origins": "https://example.com"}, origins: []string{"https://example.com"}},
		{name: "list and credentials", ext: map[string]any{"allowed-origins": []any{"https://example.com", "http://localhost:3000"}, "allow-credentials": true},
			origins: []string{"https://example.com", "http://localhost:3000"}, creds: true},
		{name: "star", ext: map[string]any{"allowed-origins": "*"}, origins: []string{"*"}},
		{name: "star among others", ext: map[string]any{"allowed-origins": []any{"https://a.example", "*"}}, origins: []string{"*", "https://a.example"}},
		{name: "normalized: case, trailing slash, duplicates", ext: map[string]any{"allowed-origins": []any{"HTTPS://A.Example/", "https://a.example"}}, origins: []string{"https://a.example"}},
		{name: "null origin", ext: map[string]any{"allowed-origins": "null"}, origins: []string{"null"}},
		{name: "credentials false", ext: map[string]any{"allowed-origins": "*", "allow-credentials": false}, origins: []string{"*"}},
		{name: "true", ext: true, code: diag.BadExtension, errSubstr: "not true"},
		{name: "not an object", ext: "https://example.com", code: diag.BadExtension, errSubstr: "must be an object"},
		{name: "origins missing", ext: map[string]any{"allow-credentials": true}, code: diag.BadExtension, errSubstr: "allowed-origins is mandatory"},
		{name: "origins empty list", ext: map[string]any{"allowed-origins": []any{}}, code: diag.BadExtension, errSubstr: "no origin given"},
		{name: "origin not a string", ext: map[string]any{"allowed-origins": []any{"https://a.example", 3.0}}, code: diag.BadExtension, errSubstr: "allowed-origins[1]"},
		{name: "origins a number", ext: map[string]any{"allowed-origins": 3.0}, code: diag.BadExtension, errSubstr: "string or a list"},
		{name: "origin without scheme", ext: map[string]any{"allowed-origins": "example.com"}, code: diag.BadExtension, errSubstr: `"example.com" is not an origin`},
		{name: "origin with path", ext: map[string]any{"allowed-origins": "https://example.com/app"}, code: diag.BadExtension, errSubstr: "is not an origin"},
		{name: "empty origin", ext: map[string]any{"allowed-origins": " "}, code: diag.BadExtension, errSubstr: "empty origin"},
		{name: "credentials not a bool", ext: map[string]any{"allowed-origins": "*", "allow-credentials": "yes"}, code: diag.BadExtension, errSubstr: "allow-credentials"},
		{name: "unknown property", ext: map[string]any{"allowed-origins": "*", "allowed-methods": "GET"}, code: diag.BadExtension, errSubstr: `unknown property "allowed-methods"`},
		{name: "config", cfg: &ConfigCORS{AllowedOrigins: "http://localhost:9002", AllowCredentials: "true"}, origins: []string{"http://localhost:9002"}, creds: true},
		{name: "config several", cfg: &ConfigCORS{AllowedOrigins: "http://a.example, http://b.example"}, origins: []string{"http://a.example", "http://b.example"}},
		{name: "config wins over x-flat-cors", ext: map[string]any{"allowed-origins": "*"}, cfg: &ConfigCORS{AllowedOrigins: "http://localhost:9002"}, origins: []string{"http://localhost:9002"}},
		{name: "config without origins", cfg: &ConfigCORS{AllowCredentials: "true"}, code: diag.BadConfig, errSubstr: "allowed-origins is mandatory"},
		{name: "config bad credentials", cfg: &ConfigCORS{AllowedOrigins: "*", AllowCredentials: "1"}, code: diag.BadConfig, errSubstr: "allow-credentials"},
		{name: "config bad origin", cfg: &ConfigCORS{AllowedOrigins: "localhost:9002/x"}, code: diag.BadConfig, errSubstr: "not an origin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.ext, c.cfg)
			if c.code != "" {
				var de *diag.Error
				if !errors.As(err, &de) || de.Code != c.code || !strings.Contains(err.Error(), c.errSubstr) {
					t.Fatalf("Compile error = %v, want %s containing %q", err, c.code, c.errSubstr)
				}
				if p != nil {
					t.Errorf("policy %v returned with an error", p)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if c.disabled != (p == nil) {
				t.Fatalf("policy = %v, disabled %v", p, c.disabled)
			}
			origins, creds := p.Origins()
			if !slices.Equal(origins, c.origins) || creds != c.creds {
				t.Errorf("Origins() = %q, %v; want %q, %v", origins, creds, c.origins, c.creds)
			}
		})
	}
}

// FuzzCompile: Compile never panics and either fails with a diagnostic or
// returns a policy whose decisions are well-formed.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"*", "https://example.com", "http://localhost:3000, null", "example.com", "https://x/y", "%zz", "HTTPS://A:1/"} {
		f.Add(s, "true")
	}
	f.Fuzz(func(t *testing.T, origins, creds string) {
		p, err := Compile(nil, &ConfigCORS{AllowedOrigins: origins, AllowCredentials: creds})
		if err != nil {
			var de *diag.Error
			if !errors.As(err, &de) || de.Code != diag.BadConfig {
				t.Fatalf("error without FP107: %v", err)
			}
			return
		}
		h := p.Headers(origins)
		if len(h) == 0 || h[len(h)-1] != (Header{Vary, "Origin"}) {
			t.Fatalf("Headers(%q) = %v, want Vary last", origins, h)
		}
	})
}
