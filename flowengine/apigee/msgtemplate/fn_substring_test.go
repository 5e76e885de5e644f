package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnSubstring(t *testing.T) {
	v := flowvar.Map{"a": "Hello, world", "s": 7, "e": "12", "u": "héllo"}
	runFnCases(t, []fnCase{
		{tmpl: "{substring(a,0,5)}", vars: v, want: "Hello"},
		{tmpl: "{substring(a,7)}", vars: v, want: "world"},
		{tmpl: "{substring(a,s,e)}", vars: v, want: "world"},
		{tmpl: "{substring(a,7,100)}", vars: v, want: "world"},
		{tmpl: "{substring(a,5,2)}", vars: v, want: ""},
		{tmpl: "{substring(a,-5)}", vars: v, want: "world"},
		{tmpl: "{substring(a,0,-7)}", vars: v, want: "Hello"},
		{tmpl: "{substring(u,1,2)}", vars: v, want: "é"},
		{tmpl: "{substring(missing,0,2)}", want: ""},
		{tmpl: "{substring(a,'x')}", vars: v, err: CodeBadArgument},
		{tmpl: "{substring(a,a)}", vars: v, err: CodeFunctionFailed},
		{tmpl: "{substring(a)}", vars: v, err: CodeArity},
	})
}
