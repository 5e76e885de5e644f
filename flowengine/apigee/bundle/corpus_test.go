package bundle

import (
	corpusdir "github.com/flowproc/flowproc/internal/corpus"

	"os"
	"path/filepath"
	"testing"
)

// TestCorpusStructure loads every public corpus bundle tree: the structure
// of bundles that real Apigee runs must load without a diagnostic (policy
// support is the engine's business, not this package's).
func TestCorpusStructure(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	proxies, _ := filepath.Glob(corpus + "/*/apiproxy")
	chained, _ := filepath.Glob(corpus + "/*/chained-proxies/*/apiproxy")
	shared, _ := filepath.Glob(corpus + "/*/sharedflows/*/sharedflowbundle")
	for _, dir := range append(proxies, chained...) {
		if _, errs := Load(os.DirFS(dir)); len(errs) > 0 {
			t.Errorf("%s:\n%v", dir, errs)
		}
	}
	for _, dir := range shared {
		if _, errs := LoadShared(os.DirFS(dir)); len(errs) > 0 {
			t.Errorf("%s:\n%v", dir, errs)
		}
	}
}
