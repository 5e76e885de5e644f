package expr

import (
	"fmt"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// TreeNode is a node of a JSON document held as an *oxn.Doc (a compact
// oxn.Tree whose *dom.Node form is built only on first need): the document
// itself (Index oxn.DocIndex) or the element with that tree index. It lets
// a context node and the nodes a simple path selects stay in the Tree;
// Node materialises it (once per Doc, with node identity).
type TreeNode struct {
	// Doc holds the tree; nil means no node.
	Doc *oxn.Doc
	// Index is the element's tree index, or oxn.DocIndex for the document.
	Index int32
}

// Node returns n as a *dom.Node of the Doc's materialised document (nil
// when n.Doc is nil).
func (n TreeNode) Node() *dom.Node {
	if n.Doc == nil {
		return nil
	}
	return n.Doc.NodeAt(n.Index)
}

// TreeScope is a Scope that can also hand out a variable held in an
// *oxn.Doc without materialising it. The expression layer asks TreeVar
// first where it can evaluate over the Tree (simple paths, template
// context nodes); Var must still return the variable, materialised (a
// NodeSet holding the Doc's node at that index), for everything else.
type TreeScope interface {
	Scope
	// TreeVar returns $name's node when $name is such a variable: the
	// document (Index oxn.DocIndex, as for a parsed body) or one element
	// (as for FLAT's $request, whose node-set is its root element).
	TreeVar(name string) (TreeNode, bool)
}

// treeVar returns $name's Tree node when the scope holds it as one (Doc
// nil otherwise).
func treeVar(c *Context, name string) TreeNode {
	ts, ok := c.Scope.(TreeScope)
	if !ok {
		return TreeNode{}
	}
	n, ok := ts.TreeVar(name)
	if !ok {
		return TreeNode{}
	}
	return n
}

// contextNode returns the context node as a *dom.Node, materialising a
// Tree context node.
func (c *Context) contextNode() *dom.Node {
	if c.Node == nil && c.Tree.Doc != nil {
		return c.Tree.Node()
	}
	return c.Node
}

// hasNode reports whether there is a context node (a *dom.Node or a Tree
// node).
func (c *Context) hasNode() bool { return c.Node != nil || c.Tree.Doc != nil }

// sel is one node a fast path selects: a *dom.Node (with attr, an
// attribute of it) or a Tree node (with attr, an attribute of that
// element).
type sel struct {
	n    *dom.Node
	doc  *oxn.Doc
	i    int32
	attr int
}

// str returns the selected node's string-value.
func (s sel) str() string {
	if s.doc != nil {
		if s.attr >= 0 {
			_, v := s.doc.Tree().Attr(s.i, s.attr)
			return v
		}
		return s.doc.Tree().StringValue(s.i)
	}
	if s.attr >= 0 {
		return s.n.Attrs[s.attr].Value
	}
	return s.n.StringValue()
}

// node returns the selected node as the node-set member Eval returns: an
// attribute as a detached text node, a Tree node materialised.
func (s sel) node() *dom.Node {
	if s.doc != nil {
		if s.attr >= 0 {
			name, v := s.doc.Tree().Attr(s.i, s.attr)
			return &dom.Node{Type: dom.TextNode, Name: name, Data: v}
		}
		return s.doc.NodeAt(s.i)
	}
	if s.attr >= 0 {
		a := s.n.Attrs[s.attr]
		return &dom.Node{Type: dom.TextNode, Name: a.Name, Data: a.Value}
	}
	return s.n
}

// walkTree is walk over a Tree: the steps from node i (oxn.DocIndex for
// the document) on.
func (fp *fastPath) walkTree(d *oxn.Doc, i int32, k int, f func(sel) bool) bool {
	t := d.Tree()
	if k == len(fp.steps) {
		if fp.attr == "" {
			return f(sel{doc: d, i: i, attr: -1})
		}
		if i == oxn.DocIndex {
			return true
		}
		for j := range t.AttrCount(i) {
			if name, _ := t.Attr(i, j); fp.attr == "*" || name == fp.attr {
				if !f(sel{doc: d, i: i, attr: j}) {
					return false
				}
			}
		}
		return true
	}
	st := fp.steps[k]
	count := 0
	for ch := t.FirstChild(i); ch != oxn.NoIndex; ch = t.Next(ch) {
		if st.name != "*" && t.Name(ch) != st.name {
			continue
		}
		if st.cond != nil && !st.cond.atTree(d, ch) {
			continue
		}
		count++
		if st.pos > 0 && count != st.pos {
			continue
		}
		if !fp.walkTree(d, ch, k+1, f) {
			return false
		}
		if st.pos > 0 {
			break
		}
	}
	return true
}

// atTree is at with Tree node i as the context node.
func (fc *fastCmp) atTree(d *oxn.Doc, i int32) bool {
	found := false
	fc.path.walkTree(d, i, 0, fc.visitor(&found))
	return found
}

// treeFirst returns the first Tree element or document a fast path
// selects, without materialising. ok is false when the path does not run
// over a Tree (or selects an attribute): the caller then evaluates it the
// usual way.
func (fp *fastPath) treeFirst(c *Context) (n TreeNode, ok bool) {
	if fp.attr != "" || fp.none {
		return TreeNode{}, false
	}
	d, i, ok := fp.treeStart(c)
	if !ok {
		return TreeNode{}, false
	}
	fp.walkTree(d, i, 0, func(s sel) bool {
		n = TreeNode{Doc: s.doc, Index: s.i}
		return false
	})
	return n, true
}

// treeStart returns the Tree node a fast path starts from when it runs
// over a Tree: a TreeScope variable holding an *oxn.Doc (as the first and
// only node of its node-set), or a Tree context node.
func (fp *fastPath) treeStart(c *Context) (*oxn.Doc, int32, bool) {
	if fp.varName == "" {
		if c.Node == nil && c.Tree.Doc != nil {
			return c.Tree.Doc, c.Tree.Index, true
		}
		return nil, 0, false
	}
	if fp.varPos > 1 {
		return nil, 0, false
	}
	if n := treeVar(c, fp.varName); n.Doc != nil {
		return n.Doc, n.Index, true
	}
	return nil, 0, false
}

// EvalTreeNodes evaluates e over a Tree without materialising it: ok is
// true when e is a Tree variable, or a simple path that starts at a Tree
// variable or a Tree context node and selects elements (or the document); the selected nodes
// are then appended to out in document order. When ok is false nothing was
// evaluated and the caller uses Eval.
func (e *Expr) EvalTreeNodes(c *Context, out []TreeNode) (nodes []TreeNode, ok bool, err error) {
	if c == nil {
		return out, false, nil
	}
	if e.kind == kVar {
		if n := treeVar(c, e.name); n.Doc != nil {
			return append(out, n), true, nil
		}
		return out, false, nil
	}
	if e.kind != kFastPath {
		return out, false, nil
	}
	fp := e.fpath
	if fp.attr != "" || fp.none {
		return out, false, nil
	}
	d, i, ok := fp.treeStart(c)
	if !ok {
		return out, false, nil
	}
	if c.Ctx != nil {
		if err := c.Ctx.Err(); err != nil {
			return out, true, fmt.Errorf("expr: %s: %w", e.src, err)
		}
	}
	fp.walkTree(d, i, 0, func(s sel) bool {
		out = append(out, TreeNode{Doc: s.doc, Index: s.i})
		return true
	})
	return out, true, nil
}

// EvalFirstTree is EvalFirst for a caller that can use a Tree node: when
// e is a simple path over a Tree (see EvalTreeNodes) it returns its first
// node as a TreeNode (Doc nil when none) and ok; otherwise ok is false and
// the caller uses EvalFirst.
func (e *Expr) EvalFirstTree(c *Context) (first TreeNode, ok bool, err error) {
	if c == nil {
		return TreeNode{}, false, nil
	}
	if e.kind == kVar {
		if n := treeVar(c, e.name); n.Doc != nil {
			return n, true, nil
		}
		return TreeNode{}, false, nil
	}
	if e.kind != kFastPath {
		return TreeNode{}, false, nil
	}
	n, ok := e.fpath.treeFirst(c)
	if ok && c.Ctx != nil {
		if err := c.Ctx.Err(); err != nil {
			return TreeNode{}, true, fmt.Errorf("expr: %s: %w", e.src, err)
		}
	}
	return n, ok, nil
}
