package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnFirstNonNull(t *testing.T) {
	v := flowvar.Map{"a": "A", "empty": "", "n": nil}
	runFnCases(t, []fnCase{
		{tmpl: "{firstnonnull(missing,a)}", vars: v, want: "A"},
		{tmpl: "{firstnonnull(n,missing,'default')}", vars: v, want: "default"},
		{tmpl: "{firstnonnull(empty,a)}", vars: v, want: ""},
		{tmpl: "{firstnonnull(missing,null)}", vars: v, want: ""},
		{tmpl: "{firstnonnull(a)}", vars: v, want: "A"},
		{tmpl: "{firstnonnull()}", err: CodeArity},
	})
	tp := MustParse("{firstnonnull(missing,'x')}")
	if _, miss, _ := tp.String(v); miss != "" {
		t.Errorf("firstnonnull reported %q unresolved", miss)
	}
}
