package upstream

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseCacheControl(t *testing.T) {
	tests := []struct {
		in   []string
		want directives
	}{
		{nil, directives{}},
		{[]string{"max-age=60"}, directives{"max-age": "60"}},
		{[]string{"Max-Age = 60 ,  PUBLIC"}, directives{"max-age": "60", "public": ""}},
		{[]string{"max-age=60", "no-cache"}, directives{"max-age": "60", "no-cache": ""}},
		{[]string{"max-age=1, max-age=2"}, directives{"max-age": "1"}},
		{[]string{`private="Set-Cookie, X-A", max-age=5`}, directives{"private": "Set-Cookie, X-A", "max-age": "5"}},
		{[]string{`ext="a\"b,c", s-maxage=9`}, directives{"ext": `a"b,c`, "s-maxage": "9"}},
		{[]string{",,, ,no-store,"}, directives{"no-store": ""}},
		{[]string{`max-age="30"`}, directives{"max-age": "30"}},
		{[]string{`=5, x`}, directives{"x": ""}},
	}
	for _, tt := range tests {
		if got := parseCacheControl(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseCacheControl(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDirectiveSeconds(t *testing.T) {
	tests := []struct {
		in                  string
		secs                int64
		present, wantsValid bool
	}{
		{"max-age=60", 60, true, true},
		{"max-age=0", 0, true, true},
		{"no-cache", 0, false, false},
		{"max-age=-1", 0, true, false},
		{"max-age=abc", 0, true, false},
		{"max-age=", 0, true, false},
		{"max-age=1.5", 0, true, false},
		{"max-age=99999999999999999999999", 1<<31 - 1, true, true},
	}
	for _, tt := range tests {
		s, p, v := parseCacheControl([]string{tt.in}).seconds("max-age")
		if s != tt.secs || p != tt.present || v != tt.wantsValid {
			t.Errorf("%q: seconds %d present %v valid %v", tt.in, s, p, v)
		}
	}
}

func TestRequestDirectives(t *testing.T) {
	tests := []struct {
		name           string
		header         http.Header
		extraCC, extra string
		want           directives
	}{
		{"pragma no-cache alone", http.Header{"Pragma": {"no-cache"}}, "", "", directives{"no-cache": ""}},
		{"pragma ignored with Cache-Control", http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"max-age=5"}}, "", "", directives{"max-age": "5"}},
		{"client Cache-Control added", http.Header{}, "max-age=0", "", directives{"max-age": "0"}},
		{"client Pragma added", http.Header{}, "", "no-cache", directives{"no-cache": ""}},
		{"other pragma", http.Header{"Pragma": {"x"}}, "", "", directives{}},
	}
	for _, tt := range tests {
		if got := requestDirectives(tt.header, tt.extraCC, tt.extra); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzParseCacheControl checks the parser never panics and keeps its
// invariants: lower-case, trimmed, non-empty names; delta-seconds never
// negative when valid.
func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60", `private="a, b"`, `x="\"", y`, "s-maxage=99999999999999999999", `"`, `\`, "=,=", "MAX-AGE=1"} {
		f.Add(s, "")
	}
	f.Add("no-cache", "max-age=0")
	f.Fuzz(func(t *testing.T, a, b string) {
		d := parseCacheControl([]string{a, b})
		for name := range d {
			if name == "" || name != strings.ToLower(name) || name != strings.TrimSpace(name) {
				t.Fatalf("bad name %q from %q %q", name, a, b)
			}
		}
		for _, n := range []string{"max-age", "s-maxage", "min-fresh", "max-stale"} {
			if s, _, valid := d.seconds(n); valid && s < 0 {
				t.Fatalf("%s negative: %d", n, s)
			}
		}
		_ = requestDirectives(http.Header{"Cache-Control": {a}, "Pragma": {b}}, b, a)
	})
}
