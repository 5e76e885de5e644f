package oxn

import (
	"sync"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// Doc is a parsed JSON body held as a Tree, whose *dom.Node form is built
// only when a node has to leave XPath as a *dom.Node (a copy, a template,
// an output) and then once: every later request for a node returns the
// same *dom.Node, so node identity (unions, dedup, "is this the same
// node") is the same whether a caller saw the node through the Tree's
// navigator or through the materialised document.
//
// A Doc is safe for concurrent use.
type Doc struct {
	tree *Tree
	once sync.Once
	root *dom.Node   // the materialised document, after once
	els  []*dom.Node // element of each tree index, after once
}

// NewDoc returns a Doc over t; nothing is materialised yet.
func NewDoc(t *Tree) *Doc { return &Doc{tree: t} }

// Tree returns the compact tree the Doc was made from.
func (d *Doc) Tree() *Tree { return d.tree }

// Navigator returns a navigator over the Tree, positioned at its root.
func (d *Doc) Navigator() *TreeNavigator { return d.tree.Navigator() }

// Materialized reports whether the *dom.Node document has been built.
func (d *Doc) Materialized() bool { return d.root != nil }

func (d *Doc) build() {
	d.once.Do(func() { d.root, d.els = d.tree.materialize() })
}

// Document returns the *dom.Node document (as Parse returns it for the
// same text), building it on the first call.
func (d *Doc) Document() *dom.Node {
	d.build()
	return d.root
}

// Node returns the *dom.Node at nav's position, as a dom.Navigator over
// Document would report it: the document for the root, the element for an
// element, the text child for a text node, and for an attribute the owner
// element (nav.AttrIndex is then the index into its Attrs). nav must walk
// d's Tree; Node returns nil for a navigator over another tree.
func (d *Doc) Node(nav *TreeNavigator) *dom.Node {
	if nav == nil || nav.t != d.tree {
		return nil
	}
	d.build()
	if nav.node < 0 {
		return d.root
	}
	el := d.els[nav.node]
	if nav.text && nav.attr < 0 {
		return el.FirstChild
	}
	return el
}

// AttrIndex returns the index of the current attribute in the attributes
// the element has in the materialised document (see Doc.Node), or -1 when
// nav is not on an attribute.
func (nav *TreeNavigator) AttrIndex() int { return int(nav.attr) }
