package bundle

import (
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
		diag.APDuplicateName: `policy "RF" already defined`,
		diag.APXMLSyntax:     "not closed",
		diag.APBadPolicy:     `enabled="yes"`,
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
