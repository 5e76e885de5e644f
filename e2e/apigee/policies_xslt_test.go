//go:build xslt && cgo

package apigee

import (
	"path/filepath"
	"testing"
)

// TestPolicyExamplesXSLT runs the YAML bundle tests of
// testdata/policies-xslt: the policies that need a binary built with
// -tags xslt (MessageValidation with a schema, XSL). Every file holds at
// least one passing and one failing case.
func TestPolicyExamplesXSLT(t *testing.T) {
	runPolicyExamples(t, filepath.Join("testdata", policiesXSLTDir))
}
