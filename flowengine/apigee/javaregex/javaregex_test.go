package javaregex

import (
	"errors"
	"strings"
	"testing"
)

func TestCompile(t *testing.T) {
	for _, tc := range []struct {
		pat, in     string
		find, whole bool
	}{
		{"/c*t", "/cat", false, false},
		{"ca", "/cat", true, false},
		{"/c.*t", "/cat", true, true},
		{"a|b", "ab", true, false},
		{"(?i)get", "GET", true, true},
		{`\d{3}`, "x404", true, false},
		{`\Q*+\E`, "*+", true, true},
		{`[]a]+`, "]a", true, true},
		{`x}+`, "x}}", true, true},
		{`(?<id>[a-z]+)`, "abc", true, true},
	} {
		f, err := Compile(tc.pat)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.pat, err)
		}
		w, err := CompileWhole(tc.pat)
		if err != nil {
			t.Fatalf("CompileWhole(%q): %v", tc.pat, err)
		}
		if got := f.MatchString(tc.in); got != tc.find {
			t.Errorf("Compile(%q) on %q = %v, want %v", tc.pat, tc.in, got, tc.find)
		}
		if got := w.MatchString(tc.in); got != tc.whole {
			t.Errorf("CompileWhole(%q) on %q = %v, want %v", tc.pat, tc.in, got, tc.whole)
		}
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		pat, names string
		unsup      bool
	}{
		{"(?=x)", "lookahead", true},
		{"(?!x)", "lookahead", true},
		{"(?<=x)", "lookbehind", true},
		{"(?<!x)", "lookbehind", true},
		{`(a)\1`, "backreference", true},
		{`(?<n>a)\k<n>`, "named backreference", true},
		{"(?>a)", "atomic group", true},
		{"a++", "possessive", true},
		{"a?+", "possessive", true},
		{"a{2,3}+", "possessive", true},
		{"[a-z&&[^b]]", "intersection", true},
		{"[a-z&&b]", "intersection", true},
		{"[[:alpha:]]", "nested character class", true},
		{"(?U)a", "inline flag U", true},
		{"(?x)a", "inline flag x", true},
		{`\p{javaLowerCase}`, `\p{javaLowerCase}`, true},
		{`\p{IsAlphabetic}`, `\p{IsAlphabetic}`, true},
		{`a\Z`, `\Z`, true},
		{`\G`, `\G`, true},
		{`\R`, `\R`, true},
		{`\h`, `\h`, true},
		{"(a", "does not compile", false},
		{"a{1001}", "does not compile", false},
		{"*", "does not compile", false},
	} {
		_, err := Compile(tc.pat)
		if err == nil {
			t.Errorf("Compile(%q): no error", tc.pat)
			continue
		}
		if !strings.Contains(err.Error(), tc.names) {
			t.Errorf("Compile(%q) = %v, want it to name %q", tc.pat, err, tc.names)
		}
		if errors.Is(err, ErrUnsupported) != tc.unsup || errors.Is(err, ErrInvalid) == tc.unsup {
			t.Errorf("Compile(%q) = %v: unsupported %v, want %v", tc.pat, err, errors.Is(err, ErrUnsupported), tc.unsup)
		}
	}
}
