package policies

import (
	corpusdir "github.com/flowproc/flowproc/internal/corpus"

	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/xslt"
)

// TestCorpusPolicies compiles every ExtractVariables, JSONToXML, XMLToJSON
// and XSL policy of the public Apigee corpus: policies real bundles deploy
// must load (XSL only where this binary has libxslt).
func TestCorpusExtractPolicies(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	root := regexp.MustCompile(`<(ExtractVariables|JSONToXML|XMLToJSON|XSL)[\s>]`)
	n := 0
	err := filepath.WalkDir(corpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") || filepath.Base(filepath.Dir(path)) != "policies" {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m := root.FindSubmatch(src)
		if m == nil {
			return nil
		}
		if string(m[1]) == "XSL" && (!xslt.Available() || strings.Contains(path, "/_supplements/")) {
			return nil // the supplements are lone policy files, without their stylesheets
		}
		resources := map[string]string{}
		bundleDir := filepath.Dir(filepath.Dir(path))
		xsl, _ := filepath.Glob(filepath.Join(bundleDir, "resources", "xsl", "*"))
		for _, f := range xsl {
			b, _ := os.ReadFile(f)
			resources["resources/xsl/"+filepath.Base(f)] = string(b)
		}
		n++
		if _, errs := engine.TestPolicy(string(src), resources, nil); len(errs) > 0 {
			t.Errorf("%s:\n%v", path, errs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d corpus policies compiled", n)
}
