package apigee

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/flowproc/flowproc/flowtest"
)

// policiesDir is the per-policy example project: one conditional Flow per
// policy type and one tests/<policy>.yaml per type. It needs no corpus.
const policiesDir = "policies"

// policiesXSLTDir is the example project of the policies that need a
// binary built with -tags xslt (TestPolicyExamplesXSLT).
const policiesXSLTDir = "policies-xslt"

// TestPolicyExamples runs the YAML bundle tests of testdata/policies and
// fails on any failing test, so every example there stays true.
func TestPolicyExamples(t *testing.T) {
	// Quota counts, KVM values, cache entries and tokens live in the run's
	// own memory store (flowtest gives each run a fresh one), so the file
	// order within a run matters and runs are independent.
	runPolicyExamples(t, filepath.Join("testdata", policiesDir))
}

// runPolicyExamples runs the YAML bundle tests of the example project in
// dir and fails on any failing test. Every file holds at least one
// passing and one failing case, so fewer results than twice the files
// means files were skipped.
func runPolicyExamples(t *testing.T, dir string) {
	t.Helper()
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
