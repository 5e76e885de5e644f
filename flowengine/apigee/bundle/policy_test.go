package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestLoadPolicies(t *testing.T) {
	fsys := fstest.MapFS{
		"policies/AM-1.xml":  {Data: []byte(`<AssignMessage name="AM-1" continueOnError="true" enabled="false"/>`)},
		"policies/RF.xml":    {Data: []byte(`<RaiseFault name="RF"/>`)},
		"policies/JS.xml":    {Data: []byte("<Javascript name=\"JS\">\n</Javascript>")},
		"policies/Other.xml": {Data: []byte(`<RaiseFault name="RF"/>`)},
		"policies/Bad.xml":   {Data: []byte(`<RaiseFault name="Bad">`)},
		"policies/Flag.xml":  {Data: []byte(`<RaiseFault name="Flag" enabled="yes"/>`)},
	}
	pols, errs := LoadPolicies(fsys, "policies")
	am := pols["AM-1"]
	if am == nil || am.Type != "AssignMessage" || !am.ContinueOnError || am.Enabled {
		t.Fatalf("AM-1 = %+v", am)
	}
	if rf := pols["RF"]; rf == nil || !rf.Enabled || rf.ContinueOnError {
		t.Fatalf("RF = %+v", rf)
	}
	want := map[diag.Code]string{
		diag.APUnsupportedPolicy: "unsupported policy type Javascript",
		diag.APNameMismatch:      `"RF" differs from file name "Other"`,
		diag.APDuplicateName:     `policy "RF" already defined`,
		diag.APXMLSyntax:         "not closed",
		diag.APBadPolicy:         `enabled="yes"`,
	}
	got := map[diag.Code]string{}
	for _, e := range errs {
		got[e.Code] = e.Error()
	}
	for code, msg := range want {
		if !strings.Contains(got[code], msg) {
			t.Errorf("%s: got %q, want it to contain %q", code, got[code], msg)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("errors = %v", errs)
	}
}

// TestCorpusRegexProtection loads a real bundle that uses a policy type
// flowproc does not run yet; its load must fail naming that type.
func TestCorpusRegexProtection(t *testing.T) {
	dir := "/work/shared/corpus/apigee/aps-regex-protection"
	root := filepath.Join(dir, "apiproxy")
	if _, err := os.Stat(filepath.Join(root, "policies")); err != nil {
		t.Skipf("corpus bundle %s not present: %v", dir, err)
	}
	_, errs := LoadPolicies(os.DirFS(root), "policies")
	for _, e := range errs {
		if e.Code == diag.APUnsupportedPolicy && strings.Contains(e.Msg, "RegularExpressionProtection") {
			return
		}
	}
	t.Fatalf("want AP400 for RegularExpressionProtection, got %v", errs)
}
