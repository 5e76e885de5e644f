package expr

import (
	"context"
	"strings"
	"testing"
)

// testWarner records function warnings.
type testWarner struct{ msgs []string }

func (w *testWarner) Warn(_ context.Context, fn, msg string) { w.msgs = append(w.msgs, fn+": "+msg) }

// evalWarn evaluates src and returns the result and the warnings.
func evalWarn(t *testing.T, src string, sc mapScope) (Value, []string) {
	t.Helper()
	w := &testWarner{}
	v, err := MustCompile(src).Eval(&Context{Scope: sc, Runtime: w})
	if err != nil {
		t.Fatalf("Eval(%s): %v", src, err)
	}
	return v, w.msgs
}

func TestFnXMLParse(t *testing.T) {
	deep := strings.Repeat("<a>", 600) + strings.Repeat("</a>", 600)
	sc := mapScope{"x": `<root foo="bar"><x/><p:y xmlns:p="urn:p">t</p:y></root>`, "deep": deep}
	for _, tc := range []struct {
		src, want string
		warns     int
	}{
		{"xml-parse($x)", "[#doc]", 0},
		{"xml-parse($x)/root/@foo", "[@foo=bar]", 0},
		{"xml-parse($x)/root/y", "[y=t]", 0},
		{"count(xml-parse($x)/root/*)", "2", 0},
		{"xml-parse('<a>1</a>')/a + 1", "2", 0},
		{"xml-parse('<a>')", "[]", 1},
		{"xml-parse('')", "[]", 1},
		{"xml-parse('<a/><b/>')", "[]", 1},
		{"xml-parse('text')", "[]", 1},
		{"xml-parse($deep)", "[]", 1},
		{"xml-parse($undefined)", "[]", 1},
	} {
		t.Run(tc.src, func(t *testing.T) {
			v, warns := evalWarn(t, tc.src, sc)
			if got := show(v); got != tc.want || len(warns) != tc.warns {
				t.Errorf("got %s with warnings %q, want %s with %d", got, warns, tc.want, tc.warns)
			}
		})
	}
}
