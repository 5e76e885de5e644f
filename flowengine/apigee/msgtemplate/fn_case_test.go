package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnCase(t *testing.T) {
	runFnCases(t, []fnCase{
		{tmpl: "{toUpperCase(a)}", vars: flowvar.Map{"a": "héllo"}, want: "HÉLLO"},
		{tmpl: "{toLowerCase(a)}", vars: flowvar.Map{"a": "GET"}, want: "get"},
		{tmpl: "{toUpperCase('abc')}", want: "ABC"},
		{tmpl: "{toUpperCase(missing)}", want: ""},
		{tmpl: "{toUpperCase(a)}", vars: flowvar.Map{"a": 42}, want: "42"},
		{tmpl: "{toUpperCase()}", err: CodeArity},
		{tmpl: "{toUpperCase(a,b)}", err: CodeArity},
	})
}
