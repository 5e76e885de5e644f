package jwtauth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestRequirements follows FLAT's "Applying Security Schemes" example:
// top-level default, path-level default, operation overrides; schemes
// without x-flat-jwt are dropped.
func TestRequirements(t *testing.T) {
	const doc = `swagger: "2.0"
info: {title: t, version: "1"}
securityDefinitions:
  JWTHeaderAuth: {type: apiKey, in: header, name: Authorization, x-flat-jwt: {key: c2VjcmV0}}
  JWTCookieAuth: {type: apiKey, in: header, name: Cookie, x-flat-cookiename: authtoken, x-flat-jwt: {key: c2VjcmV0}}
  Basic: {type: basic}
  ApiKey: {type: apiKey, in: header, name: X-Key}
security:
  - JWTHeaderAuth: []
  - JWTCookieAuth: []
paths:
  /:
  /foo:
    security:
      - JWTCookieAuth: []
    get:
      security:
        - JWTHeaderAuth: []
    post:
      security:
        - JWTHeaderAuth: [ write:foo, read:bar ]
    put: {}
    delete:
      security: []
  /other:
    security:
      - Basic: []
      - ApiKey: []
  /mixed:
    get:
      security:
        - {JWTHeaderAuth: [], ApiKey: []}
        - Basic: []
  /wild/**:
    security: []
    get:
      security:
        - JWTCookieAuth: [admin]
    post: {}
  /users/{id}:
    get:
      parameters: [{name: id, in: path, required: true, type: string}]
      security:
        - JWTHeaderAuth: []
`
	d, ck := compile(t, map[string]string{"swagger.yaml": doc}, Options{})
	tests := []struct {
		path, method, want string
	}{
		{"/", "", "JWTHeaderAuth | JWTCookieAuth"},
		{"/foo", "GET", "JWTHeaderAuth"},
		{"/foo", "POST", "JWTHeaderAuth[write:foo read:bar]"},
		{"/foo", "PUT", "JWTCookieAuth"},
		{"/foo", "DELETE", ""},
		{"/other", "", ""},
		{"/mixed", "GET", "JWTHeaderAuth"},
		{"/wild/**", "GET", "JWTCookieAuth[admin]"},
		{"/wild/**", "POST", ""},
		{"/users/{id}", "GET", "JWTHeaderAuth"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			r := reqFor(t, d, ck, tt.path, tt.method)
			if got := r.String(); got != tt.want {
				t.Fatalf("requirements = %q, want %q", got, tt.want)
			}
			if r.Empty() != (tt.want == "") {
				t.Fatalf("Empty = %v for %q", r.Empty(), tt.want)
			}
		})
	}
	if r := ck.For(nil, nil); !r.Empty() {
		t.Fatalf("For(nil, nil) = %q, want nothing", r)
	}
	var none *Checker
	if r := none.For(d.Paths[0], nil); !r.Empty() {
		t.Fatalf("nil Checker: %q", r)
	}
}

// TestCompileErrors: every x-flat-jwt that cannot be honoured fails the
// load with a stable code.
func TestCompileErrors(t *testing.T) {
	k := tk(t)
	rsaPEM := pemPublic(t, &k.rsa.PublicKey)
	ecPEM := pemPublic(t, &k.ec256.PublicKey)
	scheme := func(extra string) string {
		return "swagger: \"2.0\"\nsecurityDefinitions:\n  S:\n    type: apiKey\n    in: header\n    name: Authorization\n" + extra
	}
	jwtS := func(body string) string { return scheme("    x-flat-jwt:\n" + indent(body, 6) + "\n") }
	tests := []struct {
		name  string
		doc   string
		files map[string]string
		opts  Options
		code  diag.Code
		msg   string
	}{
		{name: "not an object", doc: scheme("    x-flat-jwt: true\n"), code: diag.BadExtension, msg: "must be an object"},
		{name: "no key", doc: jwtS("alg: HS256"), code: diag.BadExtension, msg: "key is required"},
		{name: "unknown field", doc: jwtS("key: c2VjcmV0\nclaim: {aud: x}"), code: diag.BadExtension, msg: `unknown field "claim"`},
		{name: "unknown alg", doc: jwtS("key: c2VjcmV0\nalg: HS385"), code: diag.BadExtension, msg: `unknown alg "HS385"`},
		{name: "alg none", doc: jwtS("key: c2VjcmV0\nalg: none"), code: diag.BadExtension, msg: `unknown alg "none"`},
		{name: "HMAC key not Base64URL", doc: jwtS("key: 'not base64!'"), code: diag.BadExtension, msg: "must be Base64URL-encoded"},
		{name: "PEM key with default HS256", doc: jwtS("key: {file: k.pem}"), files: map[string]string{"k.pem": rsaPEM}, code: diag.BadExtension, msg: "needs a Base64URL HMAC secret, but the key is PEM"},
		{name: "RSA key for ES", doc: jwtS("key: {file: k.pem}\nalg: ES256"), files: map[string]string{"k.pem": rsaPEM}, code: diag.BadExtension, msg: "needs an EC public key, but the key is an RSA public key"},
		{name: "EC P-256 key for ES384", doc: jwtS("key: {file: k.pem}\nalg: ES384"), files: map[string]string{"k.pem": ecPEM}, code: diag.BadExtension, msg: "needs ES256"},
		{name: "private key", doc: jwtS("key: {file: k.pem}\nalg: RS256"), files: map[string]string{"k.pem": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"}, code: diag.BadExtension, msg: "private key"},
		{name: "unset env", doc: jwtS("key: {env: NOPE}"), code: diag.BadExtension, msg: "environment variable NOPE is not set"},
		{name: "missing file", doc: jwtS("key: {file: nope.pem}"), code: diag.BadExtension, msg: `cannot read file "nope.pem"`},
		{name: "file outside the project", doc: jwtS("key: {file: ../../etc/passwd}"), code: diag.BadExtension, msg: "outside the project"},
		{name: "key source with two fields", doc: jwtS("key: {file: a, env: B}"), code: diag.BadExtension, msg: "want exactly one of file or env"},
		{name: "claims not an object", doc: jwtS("key: c2VjcmV0\nclaims: [aud]"), code: diag.BadExtension, msg: "claims must be an object"},
		{name: "claim value a list", doc: jwtS("key: c2VjcmV0\nclaims: {aud: [a, b]}"), code: diag.BadExtension, msg: "claims.aud: want a string, number, boolean"},
		{name: "out-var without $", doc: jwtS("key: c2VjcmV0\nout-var: token"), code: diag.BadExtension, msg: "out-var must be a variable name starting with $"},
		{name: "out-header not a token", doc: jwtS("key: c2VjcmV0\nout-header: 'X JWT'"), code: diag.BadExtension, msg: "out-header must be an HTTP header name"},
		{name: "scope-claim empty", doc: jwtS("key: c2VjcmV0\nscope-claim: ''"), code: diag.BadExtension, msg: "scope-claim must be a claim name"},
		{name: "missing post-check-flow", doc: jwtS("key: c2VjcmV0\npost-check-flow: nope.xml"), code: diag.BadExtension, msg: `post-check-flow "nope.xml"`},
		{name: "jwks with HS", doc: jwtS("key: {jwks: 'https://idp.example/jwks'}"), opts: Options{Client: upstream.NewMock()}, code: diag.BadExtension, msg: "needs an asymmetric alg"},
		{name: "jwks without client", doc: jwtS("key: {jwks: 'https://idp.example/jwks'}\nalg: RS256"), code: diag.BadExtension, msg: "needs an upstream client"},
		{name: "jwks relative URL", doc: jwtS("key: {jwks: /jwks}\nalg: RS256"), opts: Options{Client: upstream.NewMock()}, code: diag.BadExtension, msg: "absolute http or https URL"},
		{name: "jwks bad max-age", doc: jwtS("key: {jwks: 'https://idp.example/jwks', max-age: -1}\nalg: RS256"), opts: Options{Client: upstream.NewMock()}, code: diag.BadExtension, msg: "max-age must be a number of seconds"},
		{name: "jwks unknown field", doc: jwtS("key: {jwks: 'https://idp.example/jwks', ttl: 5}\nalg: RS256"), opts: Options{Client: upstream.NewMock()}, code: diag.BadExtension, msg: `unknown field "ttl" next to jwks`},
		{name: "other header", doc: strings.Replace(jwtS("key: c2VjcmV0"), "name: Authorization", "name: X-Token", 1), code: diag.NotEnforced, msg: `not from "X-Token"`},
		{name: "query apiKey", doc: strings.Replace(jwtS("key: c2VjcmV0"), "in: header", "in: query", 1), code: diag.NotEnforced, msg: "needs type: apiKey, in: header"},
		{name: "OpenAPI 3 basic", doc: "openapi: \"3.0.3\"\ninfo: {title: t, version: \"1\"}\npaths: {}\ncomponents:\n  securitySchemes:\n    S: {type: http, scheme: basic, x-flat-jwt: {key: c2VjcmV0}}\n", code: diag.NotEnforced, msg: `not type "http"`},
		{name: "Cookie without cookie name", doc: strings.Replace(jwtS("key: c2VjcmV0"), "name: Authorization", "name: Cookie", 1), code: diag.BadExtension, msg: "needs x-flat-cookiename"},
		{name: "cookie name on Authorization", doc: scheme("    x-flat-cookiename: t\n    x-flat-jwt: {key: c2VjcmV0}\n"), code: diag.BadExtension, msg: "x-flat-cookiename needs name: Cookie"},
		{name: "cookie name without x-flat-jwt", doc: strings.Replace(scheme("    x-flat-cookiename: t\n"), "name: Authorization", "name: Cookie", 1), code: diag.BadExtension, msg: "x-flat-cookiename without x-flat-jwt"},
		{name: "unknown scheme on a path", doc: jwtS("key: c2VjcmV0") + "paths:\n  /a:\n    security: [{Nope: []}]\n", code: diag.BadDefinition, msg: "the security of path /a names the unknown security scheme Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"swagger.yaml": tt.doc}
			for n, c := range tt.files {
				files[n] = c
			}
			d := load(t, files)
			opts := tt.opts
			opts.LookupEnv = func(string) (string, bool) { return "", false }
			ck, errs := Compile(d, opts)
			if ck != nil || len(errs) == 0 {
				t.Fatalf("Compile = %v, %v; want an error", ck, errs)
			}
			if errs[0].Code != tt.code || !strings.Contains(errs[0].Msg, tt.msg) || errs[0].File != d.File {
				t.Fatalf("error = %v, want %s %q in %s", errs[0], tt.code, tt.msg, d.File)
			}
		})
	}
}

func TestCompileNoDefinition(t *testing.T) {
	for _, d := range []*apidef.Definition{nil, {File: "x.yaml"}} {
		ck, errs := Compile(d, Options{})
		if ck != nil || len(errs) != 1 || errs[0].Code != diag.BadDefinition {
			t.Fatalf("Compile(%v) = %v, %v", d, ck, errs)
		}
	}
}

// TestProjectReader: the default file reader stays inside the project,
// also against symbolic links.
func TestProjectReader(t *testing.T) {
	dir := writeProject(t, map[string]string{"keys/k.txt": "ok"})
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	read := projectReader(dir)
	tests := []struct {
		path string
		ok   bool
	}{
		{filepath.Join(dir, "keys/k.txt"), true},
		{filepath.Join(dir, "nope"), false},
		{outside, false},
		{filepath.Join(dir, "link"), false},
		{filepath.Join(dir, ".."), false},
	}
	for _, tt := range tests {
		b, err := read(tt.path)
		if (err == nil) != tt.ok || (tt.ok && string(b) != "ok") {
			t.Errorf("read(%s) = %q, %v; want ok=%v", tt.path, b, err, tt.ok)
		}
	}
}
