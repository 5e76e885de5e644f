//go:build !(xslt && cgo)

package apigee

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowtest"
)

// TestPolicyExamplesXSLTNeedTag: the default (pure Go) build refuses to
// load testdata/policies-xslt, naming the build tag, instead of running
// its MessageValidation and XSL policies without their schema or
// stylesheet.
func TestPolicyExamplesXSLTNeedTag(t *testing.T) {
	var out bytes.Buffer
	results, err := flowtest.Run(context.Background(), flowtest.Options{Dir: filepath.Join("testdata", policiesXSLTDir), Out: &out})
	msg := out.String()
	if err != nil {
		msg += err.Error()
	}
	if err == nil && !flowtest.Failed(results) {
		t.Fatalf("the project ran without -tags xslt:\n%s", msg)
	}
	for _, want := range []string{"AP400", "-tags xslt", "MessageValidation MV-Order-WSDL", "XSL XSL-Receipt"} {
		if !strings.Contains(msg, want) {
			t.Errorf("load errors lack %q:\n%s", want, msg)
		}
	}
}
