package oxn

import "github.com/antchfx/xpath"

// TreeNavigator implements xpath.NodeNavigator over a Tree, showing the
// same nodes, names, attributes and values as a dom.Navigator over the
// document Parse returns: the root is the document, its only child the json
// element; every element has its type attribute (json-element elements
// their name attribute first); scalars with text have one text child.
// Moving allocates nothing. A TreeNavigator is not safe for concurrent use;
// Copy it instead.
type TreeNavigator struct {
	t    *Tree
	node int32 // current element, -1 on the root
	text bool  // on the text child of node
	attr int8  // attribute index, -1 when not on an attribute
}

var _ xpath.NodeNavigator = (*TreeNavigator)(nil)

// Navigator returns a navigator positioned at the document root.
func (t *Tree) Navigator() *TreeNavigator {
	return &TreeNavigator{t: t, node: -1, attr: -1}
}

// Index returns the tree index of the current element (the owner element on
// an attribute or text), or -1 on the root.
func (nav *TreeNavigator) Index() int { return int(nav.node) }

// attrCount returns the number of attributes of element i.
func (nav *TreeNavigator) attrCount(i int32) int8 {
	if nav.t.nodes[i].flags&flagKeyElem != 0 {
		return 2
	}
	return 1
}

// NodeType implements xpath.NodeNavigator.
func (nav *TreeNavigator) NodeType() xpath.NodeType {
	switch {
	case nav.node < 0:
		return xpath.RootNode
	case nav.attr >= 0:
		return xpath.AttributeNode
	case nav.text:
		return xpath.TextNode
	}
	return xpath.ElementNode
}

// LocalName implements xpath.NodeNavigator.
func (nav *TreeNavigator) LocalName() string {
	switch {
	case nav.node < 0 || nav.text:
		return ""
	case nav.attr >= 0:
		if nav.attr == 0 && nav.attrCount(nav.node) == 2 {
			return KeyAttr
		}
		return typeNames[nav.t.nodes[nav.node].typ]
	}
	return nav.t.name(nav.node)
}

// Prefix implements xpath.NodeNavigator. Names carry no prefixes.
func (nav *TreeNavigator) Prefix() string { return "" }

// Value implements xpath.NodeNavigator: the XPath string-value.
func (nav *TreeNavigator) Value() string {
	switch {
	case nav.node < 0:
		return nav.t.stringValue(0)
	case nav.attr >= 0:
		if nav.attr == 0 && nav.attrCount(nav.node) == 2 {
			return nav.t.key(nav.node)
		}
		return ""
	case nav.text:
		return nav.t.text(nav.node)
	}
	return nav.t.stringValue(nav.node)
}

// Copy implements xpath.NodeNavigator.
func (nav *TreeNavigator) Copy() xpath.NodeNavigator {
	c := *nav
	return &c
}

// MoveToRoot implements xpath.NodeNavigator.
func (nav *TreeNavigator) MoveToRoot() {
	nav.node, nav.text, nav.attr = -1, false, -1
}

// MoveToParent implements xpath.NodeNavigator.
func (nav *TreeNavigator) MoveToParent() bool {
	switch {
	case nav.attr >= 0:
		nav.attr = -1
	case nav.text:
		nav.text = false
	case nav.node < 0:
		return false
	default:
		nav.node = nav.t.nodes[nav.node].up
	}
	return true
}

// MoveToNextAttribute implements xpath.NodeNavigator.
func (nav *TreeNavigator) MoveToNextAttribute() bool {
	if nav.node < 0 || nav.text || nav.attr+1 >= nav.attrCount(nav.node) {
		return false
	}
	nav.attr++
	return true
}

// MoveToChild implements xpath.NodeNavigator.
func (nav *TreeNavigator) MoveToChild() bool {
	switch {
	case nav.attr >= 0 || nav.text:
		return false
	case nav.node < 0:
		nav.node = 0
		return true
	}
	n := &nav.t.nodes[nav.node]
	if n.first >= 0 {
		nav.node = n.first
		return true
	}
	if n.val.n > 0 {
		nav.text = true
		return true
	}
	return false
}

// MoveToFirst implements xpath.NodeNavigator: to the first sibling.
func (nav *TreeNavigator) MoveToFirst() bool {
	switch {
	case nav.attr >= 0 || nav.node < 0:
		return false
	case nav.text || nav.node == 0:
		return true // an only child
	}
	nav.node = nav.t.nodes[nav.t.nodes[nav.node].up].first
	return true
}

// MoveToNext implements xpath.NodeNavigator.
func (nav *TreeNavigator) MoveToNext() bool {
	if nav.attr >= 0 || nav.node < 0 || nav.text {
		return false
	}
	if next := nav.t.nodes[nav.node].next; next >= 0 {
		nav.node = next
		return true
	}
	return false
}

// MoveToPrevious implements xpath.NodeNavigator.
func (nav *TreeNavigator) MoveToPrevious() bool {
	if nav.attr >= 0 || nav.node < 0 || nav.text {
		return false
	}
	if prev := nav.t.nodes[nav.node].prev; prev >= 0 {
		nav.node = prev
		return true
	}
	return false
}

// MoveTo implements xpath.NodeNavigator: it succeeds for navigators over
// the same tree.
func (nav *TreeNavigator) MoveTo(other xpath.NodeNavigator) bool {
	o, ok := other.(*TreeNavigator)
	if !ok || o.t != nav.t {
		return false
	}
	*nav = *o
	return true
}
