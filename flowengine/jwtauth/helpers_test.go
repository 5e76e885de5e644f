package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apidef"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// keys are generated once per test binary.
type testKeys struct {
	hmac      []byte
	rsa, rsa2 *rsa.PrivateKey
	ec256     *ecdsa.PrivateKey
	ec384     *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
}

var (
	keysOnce sync.Once
	keysVal  testKeys
)

func tk(t testing.TB) testKeys {
	t.Helper()
	keysOnce.Do(func() {
		k := testKeys{hmac: []byte("a 32 byte secret for HS256 tests")}
		var err error
		if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if k.ec256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
			panic(err)
		}
		if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		keysVal = k
	})
	return keysVal
}

// b64url is the Base64URL form of an HMAC secret, as FLAT configures it.
func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// pemPublic returns the PKIX PEM of a public key.
func pemPublic(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// pemBody returns the PEM without BEGIN/END lines and line breaks (FLAT's
// jwt-decode form).
func pemBody(p string) string {
	var b strings.Builder
	for _, l := range strings.Split(p, "\n") {
		if !strings.HasPrefix(l, "-----") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// sign makes a compact JWS of claims with method and key; extra header
// fields (kid) are set from hdr.
func sign(t testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims, hdr map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeProject writes files into a new project directory.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// load loads a project and fails on any diagnostic.
func load(t testing.TB, files map[string]string) *apidef.Definition {
	t.Helper()
	d, errs := apidef.Load(writeProject(t, files))
	if len(errs) > 0 {
		t.Fatalf("Load: %v", errs)
	}
	return d
}

// compile loads and compiles a project, failing on any diagnostic.
func compile(t testing.TB, files map[string]string, opts Options) (*apidef.Definition, *Checker) {
	t.Helper()
	d := load(t, files)
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(string) (string, bool) { return "", false }
	}
	ck, errs := Compile(d, opts)
	if len(errs) > 0 {
		t.Fatalf("Compile: %v", errs)
	}
	return d, ck
}

// reqFor returns the requirements of method path (the pattern as written).
func reqFor(t testing.TB, d *apidef.Definition, ck *Checker, pattern, method string) Requirements {
	t.Helper()
	for _, p := range d.Paths {
		if p.Pattern != pattern {
			continue
		}
		if method == "" {
			return ck.For(p, nil)
		}
		for _, op := range p.Ops {
			if op.Method == method {
				return ck.For(p, op)
			}
		}
	}
	t.Fatalf("no %s %s in the definition", method, pattern)
	return Requirements{}
}

func bearerH(tok string) []flowengine.Header {
	return []flowengine.Header{{Name: "Authorization", Value: "Bearer " + tok}}
}

// indent indents every line of s by n spaces (for YAML block scalars).
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
}
