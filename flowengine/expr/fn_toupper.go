package expr

import (
	"strings"
	"unicode/utf8"
)

// toupper([s]) returns s upper-cased (Unicode); without an argument the
// context node's string-value.
func init() {
	Register(&Func{Name: "toupper", MinArgs: 0, MaxArgs: 1, UsesContext: true,
		Call: func(c *Context, args []Value) (Value, error) {
			if len(args) == 0 {
				return strings.ToUpper(contextString(c)), nil
			}
			return strings.ToUpper(String(args[0])), nil
		}, str: strings.ToUpper, appendStr: appendUpper})
}

// appendUpper appends strings.ToUpper(s) to dst. ASCII is mapped byte by
// byte (what strings.ToUpper does for it); anything else goes through
// strings.ToUpper.
func appendUpper(dst []byte, s string) []byte {
	return appendASCIICase(dst, s, 'a', 'z', strings.ToUpper)
}

// appendASCIICase appends s with the bytes from lo to hi shifted to the
// other case, when s is ASCII; else it appends full(s).
func appendASCIICase(dst []byte, s string, lo, hi byte, full func(string) string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, full(s)...)
		}
	}
	n := len(dst)
	dst = append(dst, s...)
	for i := n; i < len(dst); i++ {
		if c := dst[i]; lo <= c && c <= hi {
			dst[i] = c ^ 0x20
		}
	}
	return dst
}
