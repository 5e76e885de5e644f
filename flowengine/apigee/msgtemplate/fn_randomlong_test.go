package msgtemplate

import (
	"strconv"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnRandomLong(t *testing.T) {
	for _, tc := range []struct {
		tmpl   string
		lo, hi int64
	}{
		{"{randomLong(1,4)}", 1, 3},
		{"{randomLong(lo,hi)}", -5, -3},
		{"{randomLong(9223372036854775806)}", 9223372036854775806, 9223372036854775806},
	} {
		tp := MustParse(tc.tmpl)
		for range 50 {
			s, _, err := tp.String(flowvar.Map{"lo": -5, "hi": "-2"})
			n, perr := strconv.ParseInt(s, 10, 64)
			if err != nil || perr != nil || n < tc.lo || n > tc.hi {
				t.Fatalf("%s = %q, %v; want a long in [%d, %d]", tc.tmpl, s, err, tc.lo, tc.hi)
			}
		}
	}
	if s, _, err := MustParse("{randomLong()}").String(nil); err != nil {
		t.Fatal(err)
	} else if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		t.Fatalf("randomLong() = %q", s)
	}
	runFnCases(t, []fnCase{
		{tmpl: "{randomLong(5,5)}", err: CodeFunctionFailed},
		{tmpl: "{randomLong('x')}", err: CodeBadArgument},
		{tmpl: "{randomLong(a)}", vars: flowvar.Map{"a": "1.5"}, err: CodeFunctionFailed},
		{tmpl: "{randomLong(1,2,3)}", err: CodeArity},
	})
}
