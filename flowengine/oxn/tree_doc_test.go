package oxn

import (
	"sync"
	"testing"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// posOf is a node identity: the *dom.Node and the attribute index.
type posOf struct {
	n    *dom.Node
	attr int
}

// TestDocNodeIdentity checks that Doc.Node maps every node an XPath
// expression selects over the Tree to the very node (and attribute) the
// same expression selects over the materialised document, for every corpus
// document and every node-set expression of the differential test.
func TestDocNodeIdentity(t *testing.T) {
	for _, src := range treeCorpus() {
		tree, err := ParseTreeString(src, 0)
		if err != nil {
			t.Fatalf("ParseTree(%.40q): %v", src, err)
		}
		d := NewDoc(tree)
		if d.Materialized() || d.Tree() != tree {
			t.Fatal("a new Doc is already materialised or lost its tree")
		}
		for _, xs := range treeXPaths {
			e := xpath.MustCompile(xs)
			tit, ok := e.Evaluate(d.Navigator()).(*xpath.NodeIterator)
			if !ok {
				continue // a scalar result: nothing leaves as a node
			}
			var got []posOf
			for tit.MoveNext() {
				nav := tit.Current().(*TreeNavigator)
				got = append(got, posOf{d.Node(nav), nav.AttrIndex()})
			}
			dit := e.Evaluate(dom.NewNavigator(d.Document())).(*xpath.NodeIterator)
			var want []posOf
			for dit.MoveNext() {
				nav := dit.Current().(*dom.Navigator)
				want = append(want, posOf{nav.Node(), nav.AttrIndex()})
			}
			if len(got) != len(want) {
				t.Fatalf("%s over %.40q: %d nodes through the tree, %d through the document", xs, src, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s over %.40q: node %d is %p/%d through the tree, %p/%d through the document",
						xs, src, i, got[i].n, got[i].attr, want[i].n, want[i].attr)
				}
			}
		}
	}
}

// TestDocMaterializesOnce checks that the document is built on first need,
// once, also under concurrent use, and that a foreign navigator maps to nil.
func TestDocMaterializesOnce(t *testing.T) {
	tree, err := ParseTreeString(`{"a":[1,{"b c":"x"}]}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDoc(tree)
	nav := d.Navigator()
	nav.MoveToChild()
	var wg sync.WaitGroup
	got := make([]*dom.Node, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = d.Node(nav.Copy().(*TreeNavigator))
		}()
	}
	wg.Wait()
	for _, n := range got {
		if n == nil || n != got[0] || n.Name != RootName {
			t.Fatalf("Node of the json element = %v, want one shared json element", n)
		}
	}
	if !d.Materialized() || d.Document() != d.Document() || got[0].Parent != d.Document() {
		t.Fatal("Document is not the one materialisation Node used")
	}
	if want, _ := Parse([]byte(`{"a":[1,{"b c":"x"}]}`), 0); dom.XMLString(d.Document()) != dom.XMLString(want) {
		t.Fatalf("Document = %s, want %s", dom.XMLString(d.Document()), dom.XMLString(want))
	}
	other, _ := ParseTreeString(`1`, 0)
	if d.Node(other.Navigator()) != nil || d.Node(nil) != nil {
		t.Fatal("a navigator over another tree mapped to a node")
	}
	if nav.AttrIndex() != -1 || !nav.MoveToNextAttribute() || nav.AttrIndex() != 0 || d.Node(nav) != got[0] {
		t.Fatal("attribute position")
	}
}
