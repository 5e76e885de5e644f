package bundle

import (
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
	root := "/work/shared/corpus/apigee/aps-pagination/apiproxy"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("corpus bundle aps-pagination not present: %v", err)
	}
	b, errs := Load(os.DirFS(root))
	if len(errs) != 0 {
		t.Fatalf("errs = %v", errs)
	}
	if len(b.Proxies) != 1 || len(b.Targets) != 1 || b.Name == "" {
		t.Fatalf("bundle = %+v", b)
	}
}
