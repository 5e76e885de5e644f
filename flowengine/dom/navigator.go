package dom

import (
	"strings"

	"github.com/antchfx/xpath"
)

// Mount is a synthetic element that a Navigator shows as a following
// sibling of its root: an element named Name whose children are Nodes (the
// nodes keep their own names, attributes and subtrees). The expression layer
// mounts variable values and extension-function results this way so that
// antchfx/xpath can reach them with a path such as
// /following-sibling::_fp.v.body/node(). In XPath the root has no siblings,
// so no step of an expression over the context tree (/*, //x, * at the root,
// the following axis, which climbs to the root) reaches a mount; only a
// following or following-sibling step taken at the root itself does.
type Mount struct {
	// Name is the mount element's local name. It must be an XPath NCName.
	Name string
	// Nodes are the mount's children, in order. A node may live in any tree
	// (or be detached); the navigator never follows it above itself.
	Nodes []*Node
}

// navEnv is what all copies of one navigator share.
type navEnv struct {
	top    *Node // top of the context node's tree; nil = empty document
	topDoc bool  // top is a DocumentNode: it is the root itself
	mounts []Mount
}

// Navigator positions.
const (
	posRoot  uint8 = iota // the (virtual) root
	posMount              // a mount element
	posNode               // a real node (mount >= 0: inside mounts[mount].Nodes[idx])
)

// Navigator implements xpath.NodeNavigator over a Node tree.
//
// The navigator's root is the top of the start node's tree: when that top is
// a DocumentNode, the document is the root; otherwise (a detached element or
// text) the root is a synthetic document whose only child is that top node.
// Mounts, when given, follow the root as its siblings (and are not its
// children): the root's MoveToNext moves to the first mount, unless the
// navigator climbed to the root from the tree (the following axis).
//
// Inside a mount, navigation never leaves the mounted node upward: the
// parent of a mounted node is its mount, and its siblings are the mount's
// other nodes. A Navigator is not safe for concurrent use; Copy it instead.
type Navigator struct {
	env   *navEnv
	cur   *Node // current node when kind == posNode
	kind  uint8
	mount int32 // mount index (posMount, or posNode inside a mount); -1 = context tree
	idx   int32 // index of the mounted node the position descends from
	attr  int32 // attribute index, -1 when not on an attribute
	// up: the navigator reached the root by MoveToParent. The following
	// axis climbs that way and then asks for the root's next sibling,
	// which must not be a mount; a path to a mount starts at / (MoveToRoot).
	up bool
}

var _ xpath.NodeNavigator = (*Navigator)(nil)

// NewNavigator returns a navigator positioned at n (nil: the root of an
// empty document).
func NewNavigator(n *Node) *Navigator {
	return NewMountNavigator(n, nil)
}

// NewMountNavigator returns a navigator positioned at n whose root is
// followed by mounts as sibling elements. The navigator keeps mounts; the caller
// must not change it while the navigator or its copies are in use.
func NewMountNavigator(n *Node, mounts []Mount) *Navigator {
	nav := &Navigator{}
	nav.Reset(n, mounts)
	return nav
}

// Reset repositions nav at n with a new set of mounts, reusing its storage.
// Copies made before Reset must no longer be used.
func (nav *Navigator) Reset(n *Node, mounts []Mount) {
	env := nav.env
	if env == nil {
		env = &navEnv{}
	}
	*env = navEnv{mounts: mounts}
	*nav = Navigator{env: env, mount: -1, idx: -1, attr: -1}
	if n == nil {
		return
	}
	top := n.Root()
	env.top = top
	env.topDoc = top.Type == DocumentNode
	if n == top && env.topDoc {
		return // the document is the root
	}
	nav.kind = posNode
	nav.cur = n
}

// Node returns the current node: for an attribute position the owner
// element (see AttrIndex), for the root the context tree's document (nil
// when that tree has no document), nil on a mount element.
func (nav *Navigator) Node() *Node {
	switch nav.kind {
	case posNode:
		return nav.cur
	case posRoot:
		if nav.env.topDoc {
			return nav.env.top
		}
	}
	return nil
}

// AttrIndex returns the index into Node().Attrs of the current attribute,
// or -1 when the navigator is not on an attribute.
func (nav *Navigator) AttrIndex() int { return int(nav.attr) }

// MountIndex returns the index of the mount element the navigator is on,
// or -1 when it is not on a mount element.
func (nav *Navigator) MountIndex() int {
	if nav.kind == posMount {
		return int(nav.mount)
	}
	return -1
}

// IsRoot reports whether the navigator is on its root.
func (nav *Navigator) IsRoot() bool { return nav.kind == posRoot }

// NodeType implements xpath.NodeNavigator.
func (nav *Navigator) NodeType() xpath.NodeType {
	switch nav.kind {
	case posRoot:
		return xpath.RootNode
	case posMount:
		return xpath.ElementNode
	}
	if nav.attr >= 0 {
		return xpath.AttributeNode
	}
	switch nav.cur.Type {
	case DocumentNode:
		return xpath.RootNode
	case TextNode:
		return xpath.TextNode
	}
	return xpath.ElementNode
}

// LocalName implements xpath.NodeNavigator.
func (nav *Navigator) LocalName() string {
	switch nav.kind {
	case posRoot:
		return ""
	case posMount:
		return nav.env.mounts[nav.mount].Name
	}
	if nav.attr >= 0 {
		return nav.cur.Attrs[nav.attr].Name
	}
	if nav.cur.Type == ElementNode {
		return nav.cur.Name
	}
	return ""
}

// Prefix implements xpath.NodeNavigator. Names carry no prefixes.
func (nav *Navigator) Prefix() string { return "" }

// Value implements xpath.NodeNavigator: the XPath string-value.
func (nav *Navigator) Value() string {
	switch nav.kind {
	case posRoot:
		if nav.env.top == nil {
			return ""
		}
		return nav.env.top.StringValue()
	case posMount:
		nodes := nav.env.mounts[nav.mount].Nodes
		if len(nodes) == 1 {
			return nodes[0].StringValue()
		}
		var b strings.Builder
		for _, n := range nodes {
			b.WriteString(n.StringValue())
		}
		return b.String()
	}
	if nav.attr >= 0 {
		return nav.cur.Attrs[nav.attr].Value
	}
	return nav.cur.StringValue()
}

// Copy implements xpath.NodeNavigator.
func (nav *Navigator) Copy() xpath.NodeNavigator {
	c := *nav
	return &c
}

// MoveToRoot implements xpath.NodeNavigator.
func (nav *Navigator) MoveToRoot() {
	nav.kind, nav.cur, nav.mount, nav.idx, nav.attr, nav.up = posRoot, nil, -1, -1, -1, false
}

// base returns the mounted node the current position descends from, or nil
// in the context tree.
func (nav *Navigator) base() *Node {
	if nav.mount < 0 {
		return nil
	}
	return nav.env.mounts[nav.mount].Nodes[nav.idx]
}

// topLevel reports whether n is a top-level node of the context tree (a
// child of the root).
func (env *navEnv) topLevel(n *Node) bool {
	if env.topDoc {
		return n.Parent == env.top
	}
	return n == env.top
}

// firstTop returns the first top-level node of the context tree, or nil.
func (env *navEnv) firstTop() *Node {
	if env.top == nil {
		return nil
	}
	if env.topDoc {
		return env.top.FirstChild
	}
	return env.top
}

func (nav *Navigator) toMount(m int) {
	nav.kind, nav.cur, nav.mount, nav.idx, nav.attr = posMount, nil, int32(m), -1, -1
}

func (nav *Navigator) toTree(n *Node) {
	nav.kind, nav.cur, nav.mount, nav.idx, nav.attr = posNode, n, -1, -1, -1
}

// MoveToParent implements xpath.NodeNavigator.
func (nav *Navigator) MoveToParent() bool {
	if nav.attr >= 0 {
		nav.attr = -1
		return true
	}
	switch nav.kind {
	case posRoot:
		return false
	case posMount:
		nav.MoveToRoot()
		nav.up = true
		return true
	}
	if nav.mount >= 0 {
		if nav.cur == nav.base() || nav.cur.Parent == nil {
			nav.toMount(int(nav.mount))
			return true
		}
		nav.cur = nav.cur.Parent
		return true
	}
	if nav.env.topLevel(nav.cur) || nav.cur.Parent == nil {
		nav.MoveToRoot()
		nav.up = true
		return true
	}
	nav.cur = nav.cur.Parent
	return true
}

// MoveToNextAttribute implements xpath.NodeNavigator.
func (nav *Navigator) MoveToNextAttribute() bool {
	if nav.kind != posNode || nav.cur.Type != ElementNode {
		return false
	}
	if int(nav.attr)+1 >= len(nav.cur.Attrs) {
		return false
	}
	nav.attr++
	return true
}

// MoveToChild implements xpath.NodeNavigator.
func (nav *Navigator) MoveToChild() bool {
	if nav.attr >= 0 {
		return false
	}
	switch nav.kind {
	case posRoot:
		if n := nav.env.firstTop(); n != nil {
			nav.toTree(n)
			return true
		}
		return false
	case posMount:
		nodes := nav.env.mounts[nav.mount].Nodes
		if len(nodes) == 0 {
			return false
		}
		nav.kind, nav.cur, nav.idx = posNode, nodes[0], 0
		return true
	}
	if nav.cur.FirstChild == nil {
		return false
	}
	nav.cur = nav.cur.FirstChild
	return true
}

// MoveToFirst implements xpath.NodeNavigator.
func (nav *Navigator) MoveToFirst() bool {
	if nav.attr >= 0 {
		return false
	}
	switch nav.kind {
	case posRoot:
		return false
	case posMount:
		nav.toMount(0)
		return true
	}
	if b := nav.base(); b != nil {
		if nav.cur == b {
			nav.idx = 0
			nav.cur = nav.env.mounts[nav.mount].Nodes[0]
			return true
		}
	} else if nav.env.topLevel(nav.cur) {
		nav.cur = nav.env.firstTop()
		return true
	}
	if nav.cur.Parent == nil {
		return true
	}
	nav.cur = nav.cur.Parent.FirstChild
	return true
}

// MoveToNext implements xpath.NodeNavigator.
func (nav *Navigator) MoveToNext() bool {
	if nav.attr >= 0 {
		return false
	}
	switch nav.kind {
	case posRoot:
		if len(nav.env.mounts) > 0 && !nav.up {
			nav.toMount(0)
			return true
		}
		return false
	case posMount:
		if int(nav.mount)+1 < len(nav.env.mounts) {
			nav.toMount(int(nav.mount) + 1)
			return true
		}
		return false
	}
	if b := nav.base(); b != nil && nav.cur == b {
		nodes := nav.env.mounts[nav.mount].Nodes
		if int(nav.idx)+1 >= len(nodes) {
			return false
		}
		nav.idx++
		nav.cur = nodes[nav.idx]
		return true
	}
	if nav.cur.Parent == nil || nav.cur.NextSibling == nil {
		return false
	}
	nav.cur = nav.cur.NextSibling
	return true
}

// MoveToPrevious implements xpath.NodeNavigator.
func (nav *Navigator) MoveToPrevious() bool {
	if nav.attr >= 0 {
		return false
	}
	switch nav.kind {
	case posRoot:
		return false
	case posMount:
		if nav.mount > 0 {
			nav.toMount(int(nav.mount) - 1)
			return true
		}
		return false
	}
	if b := nav.base(); b != nil && nav.cur == b {
		if nav.idx == 0 {
			return false
		}
		nav.idx--
		nav.cur = nav.env.mounts[nav.mount].Nodes[nav.idx]
		return true
	}
	if nav.cur.Parent != nil && nav.cur.PrevSibling != nil {
		nav.cur = nav.cur.PrevSibling
		return true
	}
	return false
}

// MoveTo implements xpath.NodeNavigator: it succeeds for navigators that
// share nav's tree and mounts (copies of one navigator).
func (nav *Navigator) MoveTo(other xpath.NodeNavigator) bool {
	o, ok := other.(*Navigator)
	if !ok || o.env != nav.env {
		return false
	}
	*nav = *o
	return true
}
