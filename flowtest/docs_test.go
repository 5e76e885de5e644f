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

// TestApigeeDocs: every ```yaml file=PATH block of docs/apigee-testing.md
// is the file at PATH as it is, and the schema example on that page
// parses except for its "…" placeholders.
func TestApigeeDocs(t *testing.T) {
	md, err := os.ReadFile("../docs/apigee-testing.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml file=(\\S+)\n(.*?)```").FindAllSubmatch(md, -1)
	if len(blocks) < 1 {
		t.Fatal("no file blocks in docs/apigee-testing.md")
	}
	for _, b := range blocks {
		path := string(b[1])
		want, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Errorf("docs/apigee-testing.md shows %s: %v", path, err)
			continue
		}
		if strings.TrimSpace(string(b[2])) != strings.TrimSpace(string(want)) {
			t.Errorf("docs/apigee-testing.md shows %s differently from the file", path)
		}
	}
	schema := regexp.MustCompile("(?s)```yaml\n(tests:.*?)```").FindSubmatch(md)
	if schema == nil {
		t.Fatal("no schema example in docs/apigee-testing.md")
	}
	src := strings.NewReplacer("json: {…}", "json: {}", "https://…", "https://x").Replace(string(schema[1]))
	src = regexp.MustCompile(`(?m)^(\s*)body: "raw body".*$`).ReplaceAllString(src, "")
	src = regexp.MustCompile(`(?m)^(\s*)json: \{…\}.*$`).ReplaceAllString(src, "")
	if _, err := ParseBundleTests([]byte(src)); err != nil {
		t.Errorf("the schema example does not parse: %v", err)
	}
}
