package oasvalidate

import (
	"os"
	"regexp"
	"testing"
)

// TestDocsExample: the definition docs/validation.md shows compiles, and
// each path gets the modes its comments promise.
func TestDocsExample(t *testing.T) {
	md, err := os.ReadFile("../../docs/validation.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(md)
	if m == nil {
		t.Fatal("no yaml example in docs/validation.md")
	}
	d, v := compileDir(t, writeApp(t, "swagger.yaml", string(m[1])))
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/api/relaxed", "report-only/false"},
		{"POST", "/api/strict", "true/report-only"},
		{"GET", "/api/strict", "true/true"},
		{"GET", "/api/experimental", "false/false"},
	} {
		mt := d.Match(c.method, c.path)
		req, resp := v.Modes(mt.Path, mt.Op)
		if got := req.String() + "/" + resp.String(); got != c.want {
			t.Errorf("%s %s: got %s, want %s (as docs/validation.md says)", c.method, c.path, got, c.want)
		}
	}
}
