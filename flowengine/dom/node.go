// Package dom is flowproc's small in-memory node tree: the data model behind
// every XPath evaluation. Flow variables, $request, parsed JSON (as OXN) and
// parsed XML bodies are all trees of *Node.
package dom

import "strings"

// NodeType is the kind of a Node.
type NodeType uint8

const (
	// DocumentNode is the root of a parsed document ($body, content()).
	DocumentNode NodeType = iota
	// ElementNode is an element; OXN values are elements.
	ElementNode
	// TextNode is character data.
	TextNode
)

// Attr is one attribute of an element.
type Attr struct {
	Name  string
	Value string
}

// Node is a node of a tree. Children are a doubly linked list so that XPath
// navigation needs no index bookkeeping.
type Node struct {
	Type  NodeType
	Name  string // element name; empty for documents and text
	Data  string // text of a TextNode
	Attrs []Attr

	Parent, FirstChild, LastChild, PrevSibling, NextSibling *Node
}

// NewDocument returns an empty document node.
func NewDocument() *Node { return &Node{Type: DocumentNode} }

// NewElement returns an element named name.
func NewElement(name string) *Node { return &Node{Type: ElementNode, Name: name} }

// NewText returns a text node.
func NewText(s string) *Node { return &Node{Type: TextNode, Data: s} }

// AppendChild appends c (which must be detached) as n's last child.
func (n *Node) AppendChild(c *Node) {
	c.Parent = n
	c.PrevSibling = n.LastChild
	c.NextSibling = nil
	if n.LastChild != nil {
		n.LastChild.NextSibling = c
	} else {
		n.FirstChild = c
	}
	n.LastChild = c
}

// SetAttr sets attribute name to value, replacing an existing one. It
// never writes into the existing attribute array (parsers may share it
// between nodes): a changed value goes into a copy.
func (n *Node) SetAttr(name, value string) {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			if n.Attrs[i].Value != value {
				a := append([]Attr(nil), n.Attrs...)
				a[i].Value = value
				n.Attrs = a
			}
			return
		}
	}
	n.Attrs = append(n.Attrs, Attr{Name: name, Value: value})
}

// Attr returns the value of attribute name and whether it exists.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// HasAttr reports whether attribute name exists.
func (n *Node) HasAttr(name string) bool {
	_, ok := n.Attr(name)
	return ok
}

// Child returns the first child element named name, or nil.
func (n *Node) Child(name string) *Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == ElementNode && c.Name == name {
			return c
		}
	}
	return nil
}

// FirstElement returns the first element child, or nil.
func (n *Node) FirstElement() *Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == ElementNode {
			return c
		}
	}
	return nil
}

// StringValue returns the XPath string-value: the text of a text node, the
// concatenated descendant text of an element or document.
func (n *Node) StringValue() string {
	if n.Type == TextNode {
		return n.Data
	}
	// Fast path: a single text child (the common case for OXN scalars).
	if c := n.FirstChild; c != nil && c.NextSibling == nil && c.Type == TextNode {
		return c.Data
	}
	var b strings.Builder
	n.appendText(&b)
	return b.String()
}

func (n *Node) appendText(b *strings.Builder) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == TextNode {
			b.WriteString(c.Data)
		} else {
			c.appendText(b)
		}
	}
}

// Root returns the top of n's tree.
func (n *Node) Root() *Node {
	for n.Parent != nil {
		n = n.Parent
	}
	return n
}
