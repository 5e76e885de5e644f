package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnEscapeXML(t *testing.T) {
	v := flowvar.Map{"a": `<a href="x">Tom & Jerry's</a>`, "c": "a\x00b\x01c\td\xff\uFFFEe"}
	runFnCases(t, []fnCase{
		{tmpl: "{escapeXML(a)}", vars: v, want: "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"},
		{tmpl: "{escapeXML11(a)}", vars: v, want: "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"},
		{tmpl: "{escapeXML(c)}", vars: v, want: "abc\tde"},
		{tmpl: "{escapeXML11(c)}", vars: v, want: "ab&#1;c\tde"},
		{tmpl: "{escapeXML('é€')}", want: "é€"},
		{tmpl: "{escapeXML(missing)}", want: ""},
	})
}
