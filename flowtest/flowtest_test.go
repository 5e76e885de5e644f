package flowtest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/flowproc/flowproc/flowengine/upstream"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestRunReports: a passing, a failing and a broken test give the TAP and
// JUnit reports of the golden files, and Failed is true.
func TestRunReports(t *testing.T) {
	var out bytes.Buffer
	junit := filepath.Join(t.TempDir(), "junit.xml")
	results, err := Run(context.Background(), Options{Dir: "testdata/app", Out: &out, JUnit: junit, Env: []string{}, Upstream: upstream.NewMock()})
	if err == nil {
		t.Error("the broken test file is not reported as an error")
	}
	if !Failed(results) || len(results) != 3 {
		t.Fatalf("results: %d, failed %v", len(results), Failed(results))
	}
	golden(t, "report.tap", out.Bytes())
	j, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.junit.xml", regexp.MustCompile(`time="[0-9.]+"`).ReplaceAll(j, []byte(`time="0"`)))
}

// TestRunExample: the example project's own tests pass (CI runs them with
// `flowproc test examples/hello` too).
func TestRunExample(t *testing.T) {
	var out bytes.Buffer
	results, err := Run(context.Background(), Options{Dir: "../examples/hello", Out: &out, Env: []string{}, Upstream: upstream.NewMock()})
	if err != nil || Failed(results) || len(results) == 0 {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

// TestRunFiles: named test files run alone, found relative to the app.
func TestRunFiles(t *testing.T) {
	var out bytes.Buffer
	results, err := Run(context.Background(), Options{Dir: "testdata/app", Files: []string{"tests/a-pass.xml"}, Out: &out, Env: []string{}})
	if err != nil || len(results) != 1 || !results[0].OK() {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if _, err := Run(context.Background(), Options{Dir: "testdata/app", Files: []string{"tests/missing.xml"}, Env: []string{}}); err == nil {
		t.Error("a missing test file is not an error")
	}
}

// TestRunBrokenProject: a project that does not load is one failed test.
func TestRunBrokenProject(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "swagger.yaml"), []byte("swagger: \"2.0\"\npaths:\n  /a:\n    x-flat-flow: missing.xml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), Options{Dir: dir, Out: &out, Env: []string{}}); err == nil {
		t.Fatal("no error")
	}
	if !bytes.Contains(out.Bytes(), []byte("not ok 1")) {
		t.Errorf("TAP: %s", out.String())
	}
}
