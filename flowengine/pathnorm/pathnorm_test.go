package pathnorm

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/t/hello", "/t/hello"},
		{"/", "/"},
		{"", ""},
		{"*", "*"},
		{"//t/hello", "/t/hello"},
		{"/t//hello", "/t/hello"},
		{"/./t/hello", "/t/hello"},
		{"/t/./hello", "/t/hello"},
		{"/t/../t/hello", "/t/hello"},
		{"/x/../../t/hello", "/t/hello"}, // never above the root
		{"/t/hello/.", "/t/hello/"},
		{"/t/hello/..", "/t/"},
		{"/t/hello/", "/t/hello/"},
		{"/t/hello//", "/t/hello/"},
		{"/t%2Fhello", "/t/hello"},
		{"/t%2fhello", "/t/hello"},
		{"/t%5Chello", "/t/hello"},
		{"/t\\hello", "/t/hello"},
		{"\\t/hello", "/t/hello"},
		{"/%74/hello", "/t/hello"},
		{"/%2e/t/hello", "/t/hello"},
		{"/%2E%2E/t/hello", "/t/hello"},
		{"/t/%7Euser", "/t/~user"},
		{"/t/a%20b", "/t/a%20b"}, // reserved/other escapes keep their spelling
		{"/t/a%2cb", "/t/a%2cb"}, // hex case of kept escapes is not changed
		{"/t/100%", "/t/100%"},   // an invalid escape is kept
		{"/t/%zz", "/t/%zz"},
		{"/T/hello", "/T/hello"},                        // case is significant
		{"/t/..hello", "/t/..hello"},                    // not a dot segment
		{"//t/hello?a=//b/../c", "/t/hello?a=//b/../c"}, // the query is kept
		{"/t/hello?", "/t/hello?"},
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got, want := IsNormal(tc.in), tc.in == tc.want; got != want {
			t.Errorf("IsNormal(%q) = %v, want %v", tc.in, got, want)
		}
	}
}

func TestIsNormalAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { IsNormal("/api/hello/world?x=1") }); n != 0 {
		t.Errorf("IsNormal allocates %v times for a normal path", n)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/t/hello", "//t/../x", "/%2e%2E/%2F", "\\a\\..\\b", "/a/./b/../../c/", "*", "/a?b/../c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n := Normalize(in)
		if Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent: %q → %q → %q", in, n, Normalize(n))
		}
		if !IsNormal(n) {
			t.Fatalf("IsNormal(Normalize(%q)) = false (%q)", in, n)
		}
		if IsNormal(in) != (n == in) {
			t.Fatalf("IsNormal(%q) = %v but Normalize gives %q", in, IsNormal(in), n)
		}
		p, _, _ := strings.Cut(n, "?")
		if strings.HasPrefix(p, "/") && (strings.Contains(p, "//") || strings.Contains(p+"/", "/./") || strings.Contains(p+"/", "/../")) {
			t.Fatalf("Normalize(%q) = %q keeps an empty or dot segment", in, n)
		}
	})
}
