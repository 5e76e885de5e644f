package oxn

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// checkTreeRead compares Tree's read API with the document Parse built
// (want): element order, names, keys, types, attributes, string-values and
// the JSON WriteJSON writes against Write, for every element and the
// document; and NodeAt against the materialised Doc.
func checkTreeRead(t *testing.T, tree *Tree, want *dom.Node) {
	t.Helper()
	var walk func(i int32, n *dom.Node)
	walk = func(i int32, n *dom.Node) {
		if i != DocIndex {
			if got := tree.Name(i); got != n.Name {
				t.Fatalf("Name(%d) = %q, want %q", i, got, n.Name)
			}
			if got := tree.Key(i); got != Key(n) {
				t.Fatalf("Key(%d) = %q, want %q", i, got, Key(n))
			}
			if got := tree.TypeAt(i); got != TypeOf(n) {
				t.Fatalf("TypeAt(%d) = %v, want %v", i, got, TypeOf(n))
			}
			if got := tree.AttrCount(i); got != len(n.Attrs) {
				t.Fatalf("AttrCount(%d) = %d, want %d", i, got, len(n.Attrs))
			}
			for j, a := range n.Attrs {
				if name, v := tree.Attr(i, j); name != a.Name || v != a.Value {
					t.Fatalf("Attr(%d, %d) = %q=%q, want %q=%q", i, j, name, v, a.Name, a.Value)
				}
			}
		}
		if got := tree.StringValue(i); got != n.StringValue() {
			t.Fatalf("StringValue(%d) = %q, want %q", i, got, n.StringValue())
		}
		var gb, wb bytes.Buffer
		gerr, werr := tree.WriteJSON(&gb, i), Write(&wb, n)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || gb.String() != wb.String() {
			t.Fatalf("WriteJSON(%d) = %s, %v; Write = %s, %v", i, gb.String(), gerr, wb.String(), werr)
		}
		c := tree.FirstChild(i)
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type != dom.ElementNode {
				continue
			}
			if c == NoIndex {
				t.Fatalf("children of %d end early", i)
			}
			if i != DocIndex && tree.Parent(c) != i {
				t.Fatalf("Parent(%d) = %d, want %d", c, tree.Parent(c), i)
			}
			walk(c, ch)
			c = tree.Next(c)
		}
		if c != NoIndex {
			t.Fatalf("element %d has more children than Parse's", i)
		}
	}
	walk(DocIndex, want)
	d := NewDoc(tree)
	nav := tree.Navigator()
	if d.NodeAt(DocIndex) != d.Node(nav) {
		t.Fatal("NodeAt(DocIndex) is not the document")
	}
	for i := range int32(tree.Len()) {
		if n := d.NodeAt(i); n.Type != dom.ElementNode || n.Name != tree.Name(i) {
			t.Fatalf("NodeAt(%d) = %v %q", i, n.Type, n.Name)
		}
	}
}

func TestTreeReadMatchesParse(t *testing.T) {
	for _, src := range treeCorpus() {
		want, err := ParseString(src, 0)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := ParseTreeString(src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkTreeRead(t, tree, want)
	}
}
