package msgtemplate

import (
	"strings"
	"unicode/utf8"
)

// escapeJSON(s): s escaped for use inside a JSON string literal (no
// surrounding quotes): \" \\ \b \f \n \r \t, other control characters as
// \u00XX, invalid UTF-8 as \ufffd. "/" is not escaped [inferred: Apigee's
// escapeJSON output for "/" is undocumented; RFC 8259 allows both].
func init() {
	register("escapeJSON", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
		return escapeJSON(a[0].str()), nil
	}})
}

func escapeJSON(s string) string {
	var b strings.Builder
	const hexd = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte(hexd[c>>4])
				b.WriteByte(hexd[c&15])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	return b.String()
}
