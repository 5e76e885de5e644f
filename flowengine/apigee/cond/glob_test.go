package cond

import (
	"strings"
	"testing"
)

// TestGlobLong covers patterns past the 63-element bit-parallel limit.
func TestGlobLong(t *testing.T) {
	seg := strings.Repeat("abcdefghij", 7) // 70 literal bytes
	for _, tc := range []struct {
		pat, s string
		path   bool
		want   bool
	}{
		{"/" + seg + "/*", "/" + seg + "/x", true, true},
		{"/" + seg + "/*", "/" + seg + "/x/y", true, false},
		{"/" + seg + "/**", "/" + seg + "/x/y", true, true},
		{"*" + seg, "xx" + seg, false, true},
		{"*" + seg, "xx" + seg + "!", false, false},
		{seg + "%*", seg + "*", false, true},
	} {
		g := compileGlob(tc.pat, tc.path)
		if g.long == nil {
			t.Fatalf("%q: expected the long-pattern matcher", tc.pat)
		}
		if got := g.match(tc.s); got != tc.want {
			t.Errorf("%q on %q (path %v) = %v, want %v", tc.pat, tc.s, tc.path, got, tc.want)
		}
	}
}
