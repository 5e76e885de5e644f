package msgtemplate

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// escapeXML(s): s escaped for XML 1.0 text and attribute values: & < > "
// ' become &amp; &lt; &gt; &quot; &apos;, and characters XML 1.0 cannot
// hold (controls other than tab, newline and carriage return; U+FFFE,
// U+FFFF; invalid UTF-8) are dropped, as Apache Commons Text's
// escapeXml10 does [inferred: Apigee documents no further detail].
//
// escapeXML11(s): the same for XML 1.1, which allows the control
// characters U+0001–U+001F escaped as &#n; (only U+0000 is dropped).
func init() {
	register("escapeXML", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
		return escapeXML(a[0].str(), false), nil
	}})
	register("escapeXML11", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
		return escapeXML(a[0].str(), true), nil
	}})
}

func escapeXML(s string, xml11 bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1, r == 0xFFFE, r == 0xFFFF:
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&apos;")
		case r == '\t', r == '\n', r == '\r':
			b.WriteRune(r)
		case r < 0x20:
			if xml11 && r != 0 {
				b.WriteString("&#" + strconv.Itoa(int(r)) + ";")
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
