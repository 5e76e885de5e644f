package cond

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

// fuzzVars are evaluated against every condition the fuzzer manages to
// parse: strings, numbers, booleans, null, unknown and an unsupported type.
var fuzzVars = []flowvar.Map{
	{},
	{"a": "x", "b": "10", "c": 5, "d": 1.5, "e": true, "f": nil, "request.verb": "GET", "proxy.pathsuffix": "/users/1"},
	{"a": 7, "b": "abc", "c": "", "d": false, "e": "true", "x": []string{"o"}},
}

// FuzzParse: Parse never panics and reports only *SyntaxError values with
// a code and a column inside the source; Eval of anything that parses never
// panics and fails only with *EvalError.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`(proxy.pathsuffix MatchesPath "/users/*") and (request.verb = "GET")`,
		`a = "x" or b = "y" and not c`, `!(a != null) || b >= 10`, `a not Matches "x*"`,
		`a ~~ "[0-9]+"`, `a ~~ "(?=x)"`, `'a b' =| "x"`, `a := "X" && b < 1.5f`,
		`a = "unterminated`, `((a)`, `a LessThan 5`, `a = -.5`, `a !~ "*"`, `a ~/ "/**/x/*"`,
		`a = 10L`, `a > b`, `a Is null`, `true`, `'x`, `a =|`, `a = "%*%{}"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *SyntaxError", src, err, err)
			}
			if se.Code == "" || se.Col < 1 || se.Col > utf8.RuneCountInString(src)+1 {
				t.Fatalf("Parse(%q): bad error %+v", src, se)
			}
			return
		}
		if e.Source() != src {
			t.Fatalf("Source() = %q, want %q", e.Source(), src)
		}
		_ = e.String()
		for _, v := range fuzzVars {
			if _, err := e.Eval(v); err != nil {
				var ee *EvalError
				if !errors.As(err, &ee) {
					t.Fatalf("Eval(%q) error %T %v, want *EvalError", src, err, err)
				}
			}
		}
	})
}

// FuzzGlob checks the bit-parallel Matches/MatchesPath matcher against the
// one-position-at-a-time simulation, and that simulation against an
// equivalent Go regexp when both pattern and value are valid UTF-8.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"/users/*", "/users/12"}, {"/a/**/feed/**", "/a/b/feed/rss/1"}, {"*x*", "abxcd"},
		{"**/india/blr**", "/india/blr"}, {"/%*cat", "/*cat"}, {"a*b*c", "aXbYbZc"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		for _, path := range []bool{false, true} {
			g := compileGlob(pat, path)
			el := globElems(pat, path)
			got, want := g.match(s), matchLong(el, s)
			if got != want {
				t.Fatalf("pattern %q (path %v) on %q: bit-parallel %v, simulation %v", pat, path, s, got, want)
			}
			if utf8.ValidString(pat) && utf8.ValidString(s) {
				if re := regexp.MustCompile(globRegexp(el)); re.MatchString(s) != want {
					t.Fatalf("pattern %q (path %v) on %q: simulation %v, regexp %v", pat, path, s, want, !want)
				}
			}
		}
	})
}

// globRegexp is the regexp equivalent of a pattern's elements.
func globRegexp(el []gelem) string {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	var lit []byte
	for _, e := range el {
		if e.kind == 'l' {
			lit = append(lit, e.c)
			continue
		}
		b.WriteString(regexp.QuoteMeta(string(lit)))
		lit = lit[:0]
		if e.kind == 'A' {
			b.WriteString(`.*`)
		} else {
			b.WriteString(`[^/]*`)
		}
	}
	b.WriteString(regexp.QuoteMeta(string(lit)))
	b.WriteString(`)\z`)
	return b.String()
}
