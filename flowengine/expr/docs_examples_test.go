package expr

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docFuncs are the functions docs/functions.md must document.
var docFuncs = []string{
	"jwt-decode", "jwt-encode", "xml-parse", "html-parse", "json-to-csv", "calc-signature",
	"verify-signature", "encrypt", "decrypt", "file-exists", "lookup", "has-class", "fit-serialize",
	"ldap-lookup", "ldap-query", "verify-xmldsig",
}

var docSection = regexp.MustCompile("(?ms)^## `([a-z0-9-]+)\\(.*?\\n```xpath\\n(.*?)\\n```\\n\\nResult: `(.*?)`$")

// TestDocExamples evaluates every example of docs/functions.md and checks
// that each function of docFuncs has one.
func TestDocExamples(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("..", "..", "docs", "functions.md"))
	if err != nil {
		t.Fatal(err)
	}
	proj := t.TempDir()
	write(t, filepath.Join(proj, "db", "users.json"), `{"alice": "Alice Smith"}`)
	root, err := os.OpenRoot(proj)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	seen := map[string]bool{}
	sections := docSection.FindAllStringSubmatch(string(md), -1)
	if n := strings.Count(string(md), "\n## "); n != len(sections) {
		t.Fatalf("%d sections, %d in the expected form", n, len(sections))
	}
	for _, m := range sections {
		name, src, quoted := m[1], m[2], m[3]
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, err := strconv.Unquote(quoted)
			if err != nil {
				t.Fatalf("Result %s: %v", quoted, err)
			}
			e, err := Compile(src)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			sc := mapScope{}
			if strings.HasPrefix(name, "ldap-") {
				sc["ldap_url"] = startSlapd(t)
			}
			v, err := e.Eval(&Context{Root: root, Dir: proj, Scope: sc})
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if got := String(v); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	for _, f := range docFuncs {
		if !seen[f] {
			t.Errorf("docs/functions.md has no example for %s", f)
		}
		if _, ok := Lookup(f); !ok {
			t.Errorf("%s is documented but not registered", f)
		}
	}
}
