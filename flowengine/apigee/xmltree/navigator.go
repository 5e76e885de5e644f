package xmltree

import "github.com/antchfx/xpath"

// Navigator walks a tree for antchfx/xpath. Compile expressions with
// xpath.CompileWithNS so that prefixed names match by namespace URI.
type Navigator struct {
	root, cur *Node
	attr      int // index into cur.Attrs, -1 when on cur itself
}

// NewNavigator returns a navigator positioned at n.
func NewNavigator(n *Node) *Navigator {
	root := n
	for root.Parent != nil {
		root = root.Parent
	}
	return &Navigator{root: root, cur: n, attr: -1}
}

// Current is the node the navigator is on (the element, when on one of
// its attributes).
func (nav *Navigator) Current() *Node { return nav.cur }

// AttrIndex is the attribute the navigator is on, -1 for none.
func (nav *Navigator) AttrIndex() int { return nav.attr }

// NodeType implements xpath.NodeNavigator.
func (nav *Navigator) NodeType() xpath.NodeType {
	if nav.attr >= 0 {
		return xpath.AttributeNode
	}
	switch nav.cur.Type {
	case Document:
		return xpath.RootNode
	case Element:
		return xpath.ElementNode
	case Comment:
		return xpath.CommentNode
	case ProcInst:
		return xpath.ElementNode // antchfx/xpath has no processing-instruction kind
	}
	return xpath.TextNode
}

// LocalName implements xpath.NodeNavigator.
func (nav *Navigator) LocalName() string {
	if nav.attr >= 0 {
		return nav.cur.Attrs[nav.attr].Local
	}
	return nav.cur.Local
}

// Prefix implements xpath.NodeNavigator.
func (nav *Navigator) Prefix() string {
	if nav.attr >= 0 {
		return nav.cur.Attrs[nav.attr].Prefix
	}
	return nav.cur.Prefix
}

// NamespaceURL is the namespace URI antchfx/xpath matches prefixed names
// against.
func (nav *Navigator) NamespaceURL() string {
	if nav.attr >= 0 {
		return nav.cur.Attrs[nav.attr].Space
	}
	return nav.cur.Space
}

// Value implements xpath.NodeNavigator.
func (nav *Navigator) Value() string {
	if nav.attr >= 0 {
		return nav.cur.Attrs[nav.attr].Value
	}
	return nav.cur.Text()
}

// Copy implements xpath.NodeNavigator.
func (nav *Navigator) Copy() xpath.NodeNavigator {
	c := *nav
	return &c
}

// MoveToRoot implements xpath.NodeNavigator.
func (nav *Navigator) MoveToRoot() { nav.cur, nav.attr = nav.root, -1 }

// MoveToParent implements xpath.NodeNavigator.
func (nav *Navigator) MoveToParent() bool {
	if nav.attr >= 0 {
		nav.attr = -1
		return true
	}
	if nav.cur.Parent == nil {
		return false
	}
	nav.cur = nav.cur.Parent
	return true
}

// MoveToNextAttribute implements xpath.NodeNavigator.
func (nav *Navigator) MoveToNextAttribute() bool {
	if nav.cur.Type != Element || nav.attr+1 >= len(nav.cur.Attrs) {
		return false
	}
	nav.attr++
	return true
}

// MoveToChild implements xpath.NodeNavigator.
func (nav *Navigator) MoveToChild() bool {
	if nav.attr >= 0 || len(nav.cur.Children) == 0 {
		return false
	}
	nav.cur = nav.cur.Children[0]
	return true
}

// MoveToFirst implements xpath.NodeNavigator.
func (nav *Navigator) MoveToFirst() bool {
	if nav.attr >= 0 || nav.cur.Parent == nil {
		return false
	}
	nav.cur = nav.cur.Parent.Children[0]
	return true
}

// MoveToNext implements xpath.NodeNavigator.
func (nav *Navigator) MoveToNext() bool {
	if nav.attr >= 0 || nav.cur.Parent == nil || nav.cur.index+1 >= len(nav.cur.Parent.Children) {
		return false
	}
	nav.cur = nav.cur.Parent.Children[nav.cur.index+1]
	return true
}

// MoveToPrevious implements xpath.NodeNavigator.
func (nav *Navigator) MoveToPrevious() bool {
	if nav.attr >= 0 || nav.cur.Parent == nil || nav.cur.index == 0 {
		return false
	}
	nav.cur = nav.cur.Parent.Children[nav.cur.index-1]
	return true
}

// MoveTo implements xpath.NodeNavigator.
func (nav *Navigator) MoveTo(other xpath.NodeNavigator) bool {
	o, ok := other.(*Navigator)
	if !ok || o.root != nav.root {
		return false
	}
	nav.cur, nav.attr = o.cur, o.attr
	return true
}
