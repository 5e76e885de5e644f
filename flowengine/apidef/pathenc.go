package apidef

import "strings"

// canonicalPath decodes the percent-escapes of a raw URL path for
// matching. "%2F" and "%25" stay encoded (with upper-case hex) so that
// segment boundaries and the escape character keep their meaning; invalid
// escapes are kept verbatim.
func canonicalPath(p string) string { return unescape(p, true) }

// canonicalText is canonicalPath for a piece of a path pattern.
func canonicalText(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	return unescape(s, true)
}

// unescape decodes the valid %XX escapes of s. With keep, "%2F" and "%25"
// are kept (normalized to upper case) instead of decoded.
func unescape(s string, keep bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			if keep && (v == '/' || v == '%') {
				b.WriteByte('%')
				b.WriteByte(upperHex(s[i+1]))
				b.WriteByte(upperHex(s[i+2]))
			} else {
				b.WriteByte(v)
			}
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
