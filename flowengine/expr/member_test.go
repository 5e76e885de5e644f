package expr

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// indexScope is a mapScope that answers MemberNode for $obj from an index
// of its children, as FLAT's run does for $env; calls counts the answers.
type indexScope struct {
	mapScope
	obj   *dom.Node
	calls int
}

func (s *indexScope) MemberNode(name, member string) (*dom.Node, bool) {
	if name != "obj" {
		return nil, false
	}
	var found *dom.Node
	for ch := s.obj.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == dom.ElementNode && ch.Name == member {
			if found != nil {
				return nil, false // several: the caller walks
			}
			found = ch
		}
	}
	s.calls++
	return found, true
}

// TestMemberNodeScope: a path starting $obj/name takes the scope's member
// node and gives what the XPath engine gives over the whole variable;
// paths the first step of which is not a plain name do not ask.
func TestMemberNodeScope(t *testing.T) {
	doc := mustJSON(t, `{"a":"1","b":{"c":"2","d":["x","y"]},"e":{"@id":"7"},"dup":1}`)
	obj := doc.FirstElement()
	// A second element named dup: the index cannot answer it.
	obj.AppendChild(&dom.Node{Type: dom.ElementNode, Name: "dup"})
	for _, tc := range []struct {
		src   string
		asked bool
	}{
		{"$obj/a", true},
		{"$obj/b/c", true},
		{"$obj/b/d/value[2]", true},
		{"$obj/b/*", true},
		{"$obj/missing", true},
		{"$obj/missing/x", true},
		{"$obj/e/@id", true},
		{"$obj/dup", false}, // asked, but the scope cannot say
		{"$obj/*", false},
		{"$obj[1]/a", false},
		{"$obj/a[1]", false},
		{"$obj/b[c = '2']", false},
		{"$other/a", false},
		{"$obj/a = '1'", true},
	} {
		fast, engine, err := compileBoth(t, tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		sc := &indexScope{mapScope: mapScope{"obj": NodeSet{obj}, "other": NodeSet{obj}}, obj: obj}
		a, err1 := fast.Eval(&Context{Scope: sc})
		b, err2 := engine.Eval(&Context{Scope: sc})
		if err1 != nil || err2 != nil || show(a) != show(b) {
			t.Errorf("%q: fast %s %v, engine %s %v", tc.src, show(a), err1, show(b), err2)
		}
		if asked := sc.calls > 0; asked != tc.asked {
			t.Errorf("%q: answered by MemberNode %v, want %v", tc.src, asked, tc.asked)
		}
	}
}
