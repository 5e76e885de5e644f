package bundle

import (
	"path/filepath"

	corpusdir "github.com/flowproc/flowproc/internal/corpus"

	"os"
	"testing"
	"testing/fstest"

	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestLoadMissingTarget(t *testing.T) {
	fsys := fstest.MapFS{
		"proxies/default.xml": {Data: []byte("<ProxyEndpoint name=\"default\">\n<RouteRule name=\"r\"><TargetEndpoint>nope</TargetEndpoint></RouteRule></ProxyEndpoint>")},
		"targets/default.xml": {Data: []byte(`<TargetEndpoint name="default"><HTTPTargetConnection><URL>http://b</URL></HTTPTargetConnection></TargetEndpoint>`)},
	}
	_, errs := Load(fsys)
	if len(errs) != 1 || errs[0].Code != diag.APMissingTarget || errs[0].Line != 2 {
		t.Fatalf("errs = %v", errs)
	}
}

// TestCorpusPagination loads a real bundle: its structure must check out.
func TestCorpusPagination(t *testing.T) {
	dir, ok := corpusdir.ApigeeDir()
	root := filepath.Join(dir, "aps-pagination", "apiproxy")
	if _, err := os.Stat(root); !ok || err != nil {
		t.Skip("corpus bundle aps-pagination not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	b, errs := Load(os.DirFS(root))
	if len(errs) != 0 {
		t.Fatalf("errs = %v", errs)
	}
	if len(b.Proxies) != 1 || len(b.Targets) != 1 || b.Name == "" {
		t.Fatalf("bundle = %+v", b)
	}
}

// TestManifestNameAndRevision: the manifest's name and revision are kept
// (the status API reports the revision as the project's version).
func TestManifestNameAndRevision(t *testing.T) {
	tests := []struct {
		manifest, name, revision string
	}{
		{`<APIProxy name="orders" revision="7"><Description>d</Description></APIProxy>`, "orders", "7"},
		{`<APIProxy name="orders"/>`, "orders", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{
			"proxies/default.xml": {Data: []byte(`<ProxyEndpoint name="default"><RouteRule name="r"/></ProxyEndpoint>`)},
		}
		if tt.manifest != "" {
			fsys["orders.xml"] = &fstest.MapFile{Data: []byte(tt.manifest)}
		}
		b, errs := Load(fsys)
		if len(errs) != 0 {
			t.Fatalf("%q: %v", tt.manifest, errs)
		}
		if b.Name != tt.name || b.Revision != tt.revision {
			t.Errorf("%q: name %q revision %q, want %q %q", tt.manifest, b.Name, b.Revision, tt.name, tt.revision)
		}
	}
}
