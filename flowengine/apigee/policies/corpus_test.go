package policies

import (
	corpusdir "github.com/flowproc/flowproc/internal/corpus"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// corpusExpected are the corpus policies that must not load, with the
// reason; every other AssignMessage, RaiseFault and ServiceCallout of the
// public corpus must compile without a diagnostic.
var corpusExpected = map[string]string{}

// TestCorpusPolicies compiles every AssignMessage, RaiseFault and
// ServiceCallout policy of the public Apigee corpus.
func TestCorpusPolicies(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	var files []string
	_ = filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".xml") && filepath.Base(filepath.Dir(p)) == "policies" {
			files = append(files, p)
		}
		return nil
	})
	n := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		root, err := bundle.ParseXML(src)
		if err != nil {
			continue
		}
		switch root.Name {
		case "AssignMessage", "RaiseFault", "ServiceCallout":
		default:
			continue
		}
		n++
		rel, _ := filepath.Rel(corpus, f)
		_, errs := engine.TestPolicy(string(src), nil, nil)
		got := errs.Error()
		if want, ok := corpusExpected[rel]; ok {
			if !strings.Contains(got, want) {
				t.Errorf("%s: want an error containing %q, got %q", rel, want, got)
			}
			continue
		}
		if len(errs) > 0 {
			t.Errorf("%s:\n%v", rel, errs)
		}
	}
	t.Logf("%d policies compiled", n)
}
