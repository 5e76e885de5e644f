package flowtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsShowTheTestedFiles: every ```xml file=PATH block of
// docs/testing.md is the file at PATH as it is, so the examples on that
// page are the tests CI runs (TestRunExample, `flowproc test examples/hello`).
func TestDocsShowTheTestedFiles(t *testing.T) {
	md, err := os.ReadFile("../docs/testing.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```xml file=(\\S+)\n(.*?)```").FindAllSubmatch(md, -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d file blocks in docs/testing.md", len(blocks))
	}
	for _, b := range blocks {
		path := string(b[1])
		want, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Errorf("docs/testing.md shows %s: %v", path, err)
			continue
		}
		if strings.TrimSpace(string(b[2])) != strings.TrimSpace(string(want)) {
			t.Errorf("docs/testing.md shows %s differently from the file", path)
		}
	}
}
