package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnEncodeHTML(t *testing.T) {
	runFnCases(t, []fnCase{
		{tmpl: "{encodeHTML(a)}", vars: flowvar.Map{"a": `<script>alert("x & y's")</script>`}, want: "&lt;script&gt;alert(&quot;x &amp; y's&quot;)&lt;/script&gt;"},
		{tmpl: "{encodeHTML(a)}", vars: flowvar.Map{"a": "café €5\u00a0"}, want: "caf&#233; &#8364;5&#160;"},
		{tmpl: "{encodeHTML(missing)}", want: ""},
		{tmpl: "{encodeHTML()}", err: CodeArity},
	})
}
