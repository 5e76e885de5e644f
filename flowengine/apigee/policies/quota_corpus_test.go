package policies

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	corpusdir "github.com/flowproc/flowproc/internal/corpus"
)

// TestQuotaCorpus compiles every Quota, SpikeArrest and ResetQuota policy
// of the public Apigee corpus with the other policies of its bundle
// beside it (a Quota's UseQuotaConfigInAPIProduct names a VerifyAPIKey).
func TestQuotaCorpus(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present")
	}
	n := 0
	_ = filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() != "policies" {
			return nil
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		var targets []string
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".xml") {
				continue
			}
			src, err := os.ReadFile(filepath.Join(p, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			root, err := bundle.ParseXML(src)
			if err != nil {
				continue
			}
			files[e.Name()] = string(src)
			switch root.Name {
			case "Quota", "SpikeArrest", "ResetQuota":
				name, _ := root.Attr("name")
				targets = append(targets, name)
			}
		}
		for _, name := range targets {
			n++
			rel, _ := filepath.Rel(corpus, p)
			if _, errs := quotaPolicyInErrors(files, name); errs != "" {
				t.Errorf("%s/%s:\n%s", rel, name, errs)
			}
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no Quota or SpikeArrest policy found in the corpus")
	}
	t.Logf("%d rate-limit policies compiled", n)
}
