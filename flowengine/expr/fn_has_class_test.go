package expr

import "testing"

func TestFnHasClass(t *testing.T) {
	doc := mustXML(t, `<r class="Top"><p class=" a  MyClass b">1</p><p class="x">2</p><p>3</p><p class="myclass">4</p></r>`)
	sc := mapScope{"doc": NodeSet{doc}}
	for _, tc := range []struct {
		src, want string
		warns     int
	}{
		{"$doc//*[has-class('myClass')]", "[p=1 p=4]", 0},
		{"count($doc//p[has-class('x')])", "1", 0},
		{"count($doc//p[not(has-class('x'))])", "3", 0},
		{"has-class('top', $doc/r)", "true", 0},
		{"has-class('TOP', $doc/*)", "true", 0},
		{"has-class('to', $doc/r)", "false", 0},
		{"has-class('a', $doc/r/p)", "true", 0}, // first node
		{"has-class('x', $doc/r/p)", "false", 0},
		{"has-class('a', $undefined)", "false", 0},
		{"has-class('a', 'text')", "false", 0},
		{"has-class('myclass')", "false", 0}, // no context node
		{"has-class('a b', $doc/r/p)", "false", 1},
		{"has-class('', $doc/r/p)", "false", 1},
		{"has-class($doc/r/p[2]/@class, $doc/r/p[2])", "true", 0},
	} {
		t.Run(tc.src, func(t *testing.T) {
			v, warns := evalWarn(t, tc.src, sc)
			if got := show(v); got != tc.want || len(warns) != tc.warns {
				t.Errorf("got %s with warnings %q, want %s with %d", got, warns, tc.want, tc.warns)
			}
		})
	}
	// Evaluated at a context node.
	e := MustCompile("has-class('top')")
	v, err := e.Eval(&Context{Node: doc.FirstChild})
	if err != nil || v != true {
		t.Fatalf("context node: %v, %v", v, err)
	}
}
