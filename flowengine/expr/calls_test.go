package expr

import "testing"

// TestCalls: a call of the function is found wherever the expression
// holds it: alone, compared, in a concat, in an XPath expression, in a
// predicate, or as another call's argument.
func TestCalls(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"get-log()", true},
		{"get-log()/service", true},
		{"get-log()/service = 'x'", true},
		{"concat('a', get-log()/service)", true},
		{"$x[. = get-log()/a]", true},
		{"tolower(get-log()/service)", true},
		{"json-stringify(get-log())", true},
		{"count(get-log()/*) > 1", true},
		{"fit-log('get-log()')", false},
		{"'get-log()'", false},
		{"$get-log", false},
		{"tolower($x)", false},
		{"$x/a = 'b'", false},
		{"concat($a, 'b')", false},
		{"1 + 2", false},
	} {
		e, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		if got := e.Calls("get-log"); got != tc.want {
			t.Errorf("%q: Calls(get-log) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
