package template

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// op is one writer step in a test script.
type op struct {
	kind byte // 't' text, ',' comma, 'n' number, 's' string, 'k' key, 'z' null
	s    string
	f    float64
}

func runWriter(ops []op) string {
	var b bytes.Buffer
	var w writer
	w.reset(&b)
	for _, o := range ops {
		switch o.kind {
		case 't':
			w.text(o.s)
		case ',':
			w.comma()
		case 'n':
			w.number(o.f)
		case 's':
			w.string(o.s)
		case 'k':
			w.key(o.s)
		case 'z':
			w.null()
		}
	}
	w.finish()
	return b.String()
}

func T(s string) op    { return op{kind: 't', s: s} }
func N(f float64) op   { return op{kind: 'n', f: f} }
func S(s string) op    { return op{kind: 's', s: s} }
func K(s string) op    { return op{kind: 'k', s: s} }
func C() op            { return op{kind: ','} }
func Z() op            { return op{kind: 'z'} }
func ops(o ...op) []op { return o }

func TestWriterCommas(t *testing.T) {
	cases := []struct {
		name string
		ops  []op
		want string
	}{
		{"literal kept", ops(T(`{"a": 1, "b": 2}`)), `{"a": 1, "b": 2}`},
		{"literal formatting kept", ops(T("[\n  1,\n  2\n]")), "[\n  1,\n  2\n]"},
		{"trailing literal comma dropped", ops(T(`{"a": 1, }`)), `{"a": 1 }`},
		{"trailing comma before ]", ops(T("[1,\n]")), "[1\n]"},
		{"comma in string kept", ops(T(`{"a": "x, }y\", ]"}`)), `{"a": "x, }y\", ]"}`},
		{"generated between values", ops(T("["), N(1), C(), N(2), C(), T("]")), `[1,2]`},
		{"no comma after [", ops(T("["), C(), N(1), T("]")), `[1]`},
		{"no comma after {", ops(T("{"), C(), K("a"), N(1), T("}")), `{"a":1}`},
		{"no comma after :", ops(T(`{"a":`), C(), N(1), T("}")), `{"a":1}`},
		{"no double comma", ops(T("[1,"), C(), N(2), T("]")), `[1,2]`},
		{"double literal comma merged", ops(T("[1,,2]")), `[1,2]`},
		{"pending dropped at end", ops(N(1), C()), `1`},
		{"pending before literal key", ops(T("{"), K("a"), N(1), C(), T(` "b": 2}`)), `{"a":1, "b": 2}`},
		{"pending before literal comma", ops(T("{"), K("a"), N(1), C(), T(`, "b": 2}`)), `{"a":1, "b": 2}`},
		{"pending dropped before }", ops(T("{"), K("a"), N(1), C(), T(" }")), `{"a":1 }`},
		{"leading comma dropped", ops(T(", 1")), ` 1`},
		// U+2028/U+2029 are escaped (oxn.WriteString) so output is safe inside JavaScript too.
		{"string escaping", ops(S("a\"b\\c\n\t\x01\u2028é\xff")), `"a\"b\\c\n\t\u0001\u2028é\ufffd"`},
		{"numbers", ops(T("["), N(1), C(), N(-1.5), C(), N(1e21), C(), N(1e-7), C(), N(math.Copysign(0, -1)), C(), N(123456789), T("]")), `[1,-1.5,1e+21,1e-7,0,123456789]`},
		{"nan is null", ops(T("["), N(math.NaN()), C(), N(math.Inf(1)), T("]")), `[null,null]`},
		{"null", ops(Z()), `null`},
		{"escaped quote at segment edge", ops(T(`["a\`), T(`", b"`), T("]")), `["a\", b"]`},
	}
	for _, c := range cases {
		if got := runWriter(c.ops); got != c.want {
			t.Errorf("%s: got %q want %q", c.name, got, c.want)
		}
	}
}

func TestAppendNumberMatchesJSON(t *testing.T) {
	for _, f := range []float64{1, 0.1, 1e20, 1e21, 123.456, -1e-6, 1e-6, 5e-324, math.MaxFloat64, 1e100, 2.5e-10} {
		want, _ := json.Marshal(f)
		if got := appendNumber(nil, f); string(got) != string(want) {
			t.Errorf("appendNumber(%v) = %s, want %s", f, got, want)
		}
	}
}
