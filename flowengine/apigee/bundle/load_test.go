package bundle

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestLoadMissingTarget(t *testing.T) {
	fsys := fstest.MapFS{
		"proxies/default.xml": {Data: []byte("<ProxyEndpoint name=\"default\">\n<RouteRule name=\"r\"><TargetEndpoint>nope</TargetEndpoint></RouteRule></ProxyEndpoint>")},
		"targets/default.xml": {Data: []byte(`<TargetEndpoint name="default"/>`)},
	}
	_, errs := Load(fsys)
	if len(errs) != 1 || errs[0].Code != diag.APMissingTarget || errs[0].Line != 2 {
		t.Fatalf("errs = %v", errs)
	}
}

// TestCorpusPagination loads a real bundle: its structure must check out,
// and its ResponseCache and XSL policies (not supported yet) must be the
// only errors, each AP400 naming the type.
func TestCorpusPagination(t *testing.T) {
	matches, _ := filepath.Glob("/work/shared/corpus/apigee/aps-pagination/*/apiproxy")
	if m, _ := filepath.Glob("/work/shared/corpus/apigee/aps-pagination/apiproxy"); len(m) > 0 {
		matches = m
	}
	if len(matches) == 0 {
		t.Skip("corpus bundle aps-pagination not present under /work/shared/corpus/apigee")
	}
	b, errs := Load(os.DirFS(matches[0]))
	if len(errs) != 2 || errs[0].Code != diag.APUnsupportedPolicy || errs[1].Code != diag.APUnsupportedPolicy ||
		errs[0].Msg != "unsupported policy type ResponseCache" || errs[1].Msg != "unsupported policy type XSL" {
		t.Fatalf("errs = %v", errs)
	}
	if len(b.Proxies) == 0 {
		t.Fatal("no proxies")
	}
}
