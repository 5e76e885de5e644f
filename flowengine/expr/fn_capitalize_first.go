package expr

import (
	"unicode"
	"unicode/utf8"
)

// capitalize-first(s) upper-cases the first character of s (Unicode) and
// leaves the rest unchanged.
func init() {
	Register(stringFunc("capitalize-first", capitalizeFirst))
}

func capitalizeFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || (r == utf8.RuneError && size == 1) {
		return s
	}
	u := unicode.ToUpper(r)
	if u == r {
		return s
	}
	return string(u) + s[size:]
}
