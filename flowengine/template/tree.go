package template

import (
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// item is a node the template writes or makes the context node: a
// *dom.Node, or a node of a JSON document held as an oxn.Tree (t.Doc set),
// which simple paths select without materialising the document.
type item struct {
	n *dom.Node
	t expr.TreeNode
}

// itemOf returns c's context node.
func itemOf(c *expr.Context) item {
	if c.Node == nil && c.Tree.Doc != nil {
		return item{t: c.Tree}
	}
	return item{n: c.Node}
}

// setDot makes it c's context node.
func (it item) setDot(c *expr.Context) {
	c.Node, c.Tree = it.n, it.t
}

// none reports whether there is no node.
func (it item) none() bool { return it.n == nil && it.t.Doc == nil }

// element returns the tree index of the element it stands for: the json
// element for the document.
func (it item) element() int32 {
	if it.t.Index == oxn.DocIndex {
		return 0
	}
	return it.t.Index
}

// isNull is isNullNode for an item.
func (it item) isNull() bool {
	if it.t.Doc == nil {
		return isNullNode(it.n)
	}
	t := it.t.Doc.Tree()
	if t.Len() == 0 {
		return true
	}
	return t.TypeAt(it.element()) == oxn.Null
}

// item writes it as node does.
func (st *state) item(it item) error {
	if it.t.Doc == nil {
		return st.node(it.n)
	}
	t := it.t.Doc.Tree()
	if t.Len() == 0 {
		st.w.null()
		return nil
	}
	st.w.beginValue()
	st.w.last = 'v'
	return t.WriteJSON(st.w.b, it.element())
}

// treeItems is items for Tree nodes: the children of a single array
// (a document counts as its json element), nothing for a single null,
// otherwise every node.
func (st *state) treeItems(n *node, tns []expr.TreeNode) error {
	if len(tns) == 1 {
		it := item{t: tns[0]}
		t := it.t.Doc.Tree()
		switch t.TypeAt(it.element()) {
		case oxn.Array:
			for c := t.FirstChild(it.element()); c != oxn.NoIndex; c = t.Next(c) {
				if err := st.iter(n, item{t: expr.TreeNode{Doc: it.t.Doc, Index: c}}); err != nil {
					return err
				}
			}
			return nil
		case oxn.Null:
			return nil
		}
	}
	for _, tn := range tns {
		if err := st.iter(n, item{t: tn}); err != nil {
			return err
		}
	}
	return nil
}

// evalBool is expr.Bool of eval: a single operand is evaluated with
// EvalBool, which tests a simple path over a Tree without materialising.
func (st *state) evalBool(c chain) (bool, error) {
	if len(c) == 1 {
		ok, err := c[0].e.EvalBool(&st.ctx)
		if err != nil {
			return false, st.errorf(c[0].off, err)
		}
		return ok, nil
	}
	v, err := st.eval(c)
	if err != nil {
		return false, err
	}
	return expr.Bool(v), nil
}
