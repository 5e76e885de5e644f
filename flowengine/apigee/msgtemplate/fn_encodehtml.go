package msgtemplate

import (
	"strconv"
	"strings"
)

// encodeHTML(s): s escaped for HTML: & < > " become &amp; &lt; &gt;
// &quot;, and non-ASCII characters from U+00A0 on become numeric
// references (&#233;). Apache Commons' escapeHtml4, which Apigee is
// believed to use, writes named entities (&eacute;) for Latin-1 and HTML 4
// symbols; browsers decode both alike [inferred; documented difference].
// "'" is left alone, as escapeHtml4 does.
func init() {
	register("encodeHTML", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
		return encodeHTML(a[0].str()), nil
	}})
}

func encodeHTML(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r >= 0xA0:
			b.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
