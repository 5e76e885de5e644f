//go:build xslt && cgo

package apigee

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/flowproc/flowproc/flowtest"
)

// TestPolicyExamplesXSLT runs the YAML bundle tests of
// testdata/policies-xslt: the policies that need a binary built with
// -tags xslt (MessageValidation with a schema, XSL). Every file holds at
// least one passing and one failing case.
func TestPolicyExamplesXSLT(t *testing.T) {
	dir := filepath.Join("testdata", policiesXSLTDir)
	var out bytes.Buffer
	results, err := flowtest.Run(context.Background(), flowtest.Options{Dir: dir, Out: &out, Verbose: true})
	if err != nil {
		t.Fatalf("flowtest.Run: %v\n%s", err, out.String())
	}
	files, err := filepath.Glob(filepath.Join(dir, "tests", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 2*len(files) || len(files) == 0 {
		t.Fatalf("%d tests from %d files\n%s", len(results), len(files), out.String())
	}
	if flowtest.Failed(results) {
		t.Errorf("policy example tests failed:\n%s", out.String())
	}
}
