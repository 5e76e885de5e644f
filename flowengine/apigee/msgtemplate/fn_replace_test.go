package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnReplace(t *testing.T) {
	v := flowvar.Map{"a": "a-b-c", "p": "/v1/users/42", "re": "[0-9]+", "rep": "<$0>", "bad": "(?=x)"}
	runFnCases(t, []fnCase{
		{tmpl: "{replaceAll(a,'-','+')}", vars: v, want: "a+b+c"},
		{tmpl: "{replaceFirst(a,'-','+')}", vars: v, want: "a+b-c"},
		{tmpl: "{replaceAll(p,'/v([0-9])/','/v$1.0/')}", vars: v, want: "/v1.0/users/42"},
		{tmpl: "{replaceAll(p,'(?<n>[0-9]+)$','#${n}')}", vars: v, want: "/v1/users/#42"},
		{tmpl: "{replaceAll(p,re,rep)}", vars: v, want: "/v<1>/users/<42>"},
		{tmpl: "{replaceAll(a,'-','\\$')}", vars: v, want: "a$b$c"},
		{tmpl: "{replaceAll(a,'(b)','$10')}", vars: v, want: "a-b0-c"},
		{tmpl: "{replaceAll(a,'x*','.')}", vars: v, want: ".a.-.b.-.c."},
		{tmpl: "{replaceAll(a,'\\s','')}", vars: flowvar.Map{"a": "a b\tc"}, want: "abc"},
		{tmpl: "{replaceAll(missing,'x','y')}", want: ""},
		{tmpl: "{replaceAll(a,'(?=x)','y')}", vars: v, err: CodeBadArgument},
		{tmpl: "{replaceAll(a,'(','y')}", vars: v, err: CodeBadArgument},
		{tmpl: "{replaceAll(a,'-','$2')}", vars: v, err: CodeBadArgument},
		{tmpl: "{replaceAll(a,'-','$')}", vars: v, err: CodeBadArgument},
		{tmpl: "{replaceAll(a,bad,'y')}", vars: v, err: CodeFunctionFailed},
		{tmpl: "{replaceAll(a,'-')}", vars: v, err: CodeArity},
	})
}
