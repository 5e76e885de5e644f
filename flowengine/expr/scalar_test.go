package expr

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// scalarScope is a mapScope that answers Scalar for the scalar members
// of $obj by walking its element tree, as FLAT's run answers
// $upstream/main/status from the response; calls counts the answers.
type scalarScope struct {
	mapScope
	obj   *dom.Node
	calls int
}

func (s *scalarScope) Scalar(name string, path []string) (ScalarValue, bool) {
	if name != "obj" {
		return ScalarValue{}, false
	}
	n := s.obj
	for _, step := range path {
		var next *dom.Node
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == dom.ElementNode && ch.Name == step {
				next = ch
				break
			}
		}
		if next == nil {
			return ScalarValue{}, false
		}
		n = next
	}
	s.calls++
	switch t := oxn.TypeOf(n); t {
	case oxn.Number, oxn.Boolean, oxn.String:
		return ScalarValue{Type: t, Text: n.StringValue()}, true
	}
	return ScalarValue{}, false
}

// TestScalarScope: a plain path $obj/a/b compared with a number, or asked
// for its scalar, takes the scope's value and gives what the XPath engine
// gives over the whole variable; other paths do not ask.
func TestScalarScope(t *testing.T) {
	doc := mustJSON(t, `{"main":{"status":502,"url":"http://up/x","hit":false,"n":"12"},"list":[1,2]}`)
	obj := doc.FirstElement()
	for _, tc := range []struct {
		src   string
		asked bool
	}{
		{"$obj/main/status >= 500", true},
		{"$obj/main/status < 500", true},
		{"500 > $obj/main/status", true},
		{"$obj/main/status <= 502", true},
		{"$obj/main/url > 0", true},
		{"$obj/main/hit >= 0", true},
		{"$obj/main/n > 11", true},
		{"$obj/main/missing > 1", false}, // asked, but the scope cannot say
		{"$obj/main/* >= 500", false},
		{"$obj/main[1]/status >= 500", false},
		{"$obj/main/status[1] >= 500", false},
		{"$obj[1]/main/status >= 500", false},
		{"$obj/main/@status >= 500", false},
		{"$other/main/status >= 500", false},
		{"$obj/main/status = 502", false}, // not a relational comparison
	} {
		fast, engine, err := compileBoth(t, tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		sc := &scalarScope{mapScope: mapScope{"obj": NodeSet{obj}, "other": NodeSet{obj}}, obj: obj}
		a, err1 := fast.Eval(&Context{Scope: sc})
		b, err2 := engine.Eval(&Context{Scope: sc})
		if err1 != nil || err2 != nil || show(a) != show(b) {
			t.Errorf("%q: fast %s %v, engine %s %v", tc.src, show(a), err1, show(b), err2)
		}
		if asked := sc.calls > 0; asked != tc.asked {
			t.Errorf("%q: answered by Scalar %v, want %v", tc.src, asked, tc.asked)
		}
	}
}

// TestExprScalar: Expr.Scalar answers only for plain paths from a
// variable, with the scope's value.
func TestExprScalar(t *testing.T) {
	doc := mustJSON(t, `{"main":{"status":502,"url":"http://up/x","hit":false}}`)
	sc := &scalarScope{mapScope: mapScope{"obj": NodeSet{doc.FirstElement()}}, obj: doc.FirstElement()}
	for _, tc := range []struct {
		src  string
		want ScalarValue // zero: not answered
	}{
		{"$obj/main/status", ScalarValue{oxn.Number, "502"}},
		{"$obj/main/url", ScalarValue{oxn.String, "http://up/x"}},
		{"$obj/main/hit", ScalarValue{oxn.Boolean, "false"}},
		{"$obj/main", ScalarValue{}}, // not a scalar
		{"$obj", ScalarValue{}},
		{"$obj/main/*", ScalarValue{}},
		{"main/status", ScalarValue{}},
		{"$obj/main/status + 1", ScalarValue{}},
	} {
		e, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		got, ok := e.Scalar(&Context{Scope: sc})
		if ok != (tc.want != ScalarValue{}) || got != tc.want {
			t.Errorf("%q: Scalar = %v, %v; want %v", tc.src, got, ok, tc.want)
		}
	}
}
