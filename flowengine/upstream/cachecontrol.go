package upstream

import (
	"net/http"
	"strconv"
	"strings"
)

// directives are parsed Cache-Control directives: lower-cased names to
// unquoted values ("" for a bare directive).
type directives map[string]string

// parseCacheControl parses every Cache-Control field value given.
func parseCacheControl(values []string) directives {
	d := directives{}
	for _, v := range values {
		for _, part := range splitDirectives(v) {
			name, val, _ := strings.Cut(part, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = unquote(val[1 : len(val)-1])
			}
			if _, dup := d[name]; !dup { // RFC 9111 §4.2.1: the first occurrence counts
				d[name] = val
			}
		}
	}
	return d
}

// unquote removes the backslashes of quoted-pairs (RFC 9110 §5.6.4).
func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitDirectives splits at commas outside quoted strings.
func splitDirectives(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++ // quoted-pair: the next byte is literal
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func (d directives) has(name string) bool { _, ok := d[name]; return ok }

// seconds returns a delta-seconds directive. present is false when the
// directive is absent; valid is false when its value is not a
// non-negative integer (RFC 9111 §1.2.2).
func (d directives) seconds(name string) (secs int64, present, valid bool) {
	v, ok := d[name]
	if !ok {
		return 0, false, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		if err != nil && strings.Trim(v, "0123456789") == "" && v != "" {
			return 1<<31 - 1, true, true // overflow: RFC 9111 §1.2.2 says use 2^31
		}
		return 0, true, false
	}
	return n, true, true
}

// requestDirectives returns the directives a request carries: its own
// Cache-Control, or Pragma: no-cache when it has none (RFC 9111 §5.4).
func requestDirectives(h http.Header, extraCC, extraPragma string) directives {
	cc := append([]string(nil), h.Values("Cache-Control")...)
	pragma := append([]string(nil), h.Values("Pragma")...)
	if extraCC != "" {
		cc = append(cc, extraCC)
	}
	if extraPragma != "" {
		pragma = append(pragma, extraPragma)
	}
	d := parseCacheControl(cc)
	if len(cc) == 0 {
		for _, p := range pragma {
			if parseCacheControl([]string{p}).has("no-cache") {
				d["no-cache"] = ""
			}
		}
	}
	return d
}
