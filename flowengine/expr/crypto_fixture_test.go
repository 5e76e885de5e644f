package expr

import (
	"os"
	"path/filepath"
	"testing"
)

// cryptoScope returns variables holding the files of testdata/crypto (by
// base name without extension, dots as underscores) plus bare forms.
func cryptoScope(t *testing.T) mapScope {
	t.Helper()
	sc := mapScope{"data": "my data"}
	files, err := filepath.Glob("testdata/crypto/*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		name := base[:len(base)-len(filepath.Ext(base))]
		sc[name] = string(b)
		sc[name+"_bare"] = bare(string(b))
	}
	return sc
}

// evalErr evaluates src and returns its error (failing when there is none).
func evalErr(t *testing.T, src string, sc mapScope) error {
	t.Helper()
	v, err := MustCompile(src).Eval(&Context{Scope: sc})
	if err == nil {
		t.Fatalf("Eval(%s) = %s, want an error", src, show(v))
	}
	return err
}
