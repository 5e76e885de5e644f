package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnBase64(t *testing.T) {
	runFnCases(t, []fnCase{
		{tmpl: "{encodeBase64(a)}", vars: flowvar.Map{"a": "user:pass"}, want: "dXNlcjpwYXNz"},
		{tmpl: "{encodeBase64('a')}", want: "YQ=="},
		{tmpl: "{decodeBase64(a)}", vars: flowvar.Map{"a": "dXNlcjpwYXNz"}, want: "user:pass"},
		{tmpl: "{decodeBase64('YQ==')}", want: "a"},
		{tmpl: "{decodeBase64('YQ')}", want: "a"},
		{tmpl: "{decodeBase64('-_8')}", want: "\xfb\xff"},
		{tmpl: "{decodeBase64('!!')}", err: CodeFunctionFailed},
		{tmpl: "{encodeBase64(missing)}", want: ""},
		{tmpl: "{encodeBase64(a,b)}", err: CodeArity},
	})
}
