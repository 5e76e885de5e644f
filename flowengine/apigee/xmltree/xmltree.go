// Package xmltree is the namespace-aware XML tree of the Apigee policies
// that read XML (ExtractVariables' XMLPayload, XMLToJSON): elements keep
// their prefix, namespace URI and namespace declarations, and an XPath 1.0
// navigator (antchfx/xpath) matches prefixed names by namespace URI.
//
// Parse never expands entities: a document with a DOCTYPE (or any other
// <!…> directive) is refused, so entity bombs and external entities cannot
// exist; only XML's five predefined entities and character references are
// decoded.
package xmltree

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Type is a node's kind.
type Type int

// Node kinds.
const (
	Document Type = iota
	Element
	Text
	Comment
	ProcInst
)

// Attr is an attribute (namespace declarations are in Node.NS).
type Attr struct {
	Space, Prefix, Local, Value string
}

// NS is a namespace declaration: xmlns:Prefix="URI" (Prefix "" for the
// default namespace).
type NS struct {
	Prefix, URI string
}

// Node is a node of the tree.
type Node struct {
	Type Type
	// Space is the element's namespace URI, Prefix its prefix as written,
	// Local its local name (the target of a processing instruction).
	Space, Prefix, Local string
	Attrs                []Attr
	// NS are the namespace declarations on this element, in order.
	NS []NS
	// Data is the text of a text, comment or processing instruction node.
	Data     string
	Parent   *Node
	Children []*Node
	index    int // position among the parent's children
}

// ErrDoctype is returned for a document with a DOCTYPE or other directive.
var ErrDoctype = errors.New("DOCTYPE and other <!...> declarations are not allowed (entity expansion is refused)")

// DefaultMaxDepth bounds element nesting when Parse gets 0.
const DefaultMaxDepth = 512

// Parse reads a well-formed XML document. maxDepth bounds element nesting
// (0: DefaultMaxDepth).
func Parse(b []byte, maxDepth int) (*Node, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	doc := &Node{Type: Document}
	cur := doc
	depth := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxDepth {
				return nil, fmt.Errorf("elements nest deeper than %d", maxDepth)
			}
			if cur == doc && doc.Root() != nil {
				return nil, errors.New("more than one root element")
			}
			n := &Node{Type: Element, Prefix: t.Name.Space, Local: t.Name.Local}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					n.NS = append(n.NS, NS{Prefix: a.Name.Local, URI: a.Value})
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					n.NS = append(n.NS, NS{URI: a.Value})
				default:
					n.Attrs = append(n.Attrs, Attr{Prefix: a.Name.Space, Local: a.Name.Local, Value: a.Value})
				}
			}
			cur.add(n)
			var ok bool
			if n.Space, ok = n.Lookup(n.Prefix); !ok && n.Prefix != "" {
				return nil, fmt.Errorf("undeclared namespace prefix %q", n.Prefix)
			}
			for i := range n.Attrs {
				a := &n.Attrs[i]
				if a.Prefix == "" {
					continue
				}
				if a.Space, ok = n.Lookup(a.Prefix); !ok {
					return nil, fmt.Errorf("undeclared namespace prefix %q", a.Prefix)
				}
			}
			cur = n
		case xml.EndElement:
			if cur.Type != Element || cur.Prefix != t.Name.Space || cur.Local != t.Name.Local {
				return nil, fmt.Errorf("unexpected end element </%s>", qname(t.Name))
			}
			depth--
			cur = cur.Parent
		case xml.CharData:
			if cur == doc {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("text outside the root element")
				}
				continue
			}
			if k := len(cur.Children); k > 0 && cur.Children[k-1].Type == Text {
				cur.Children[k-1].Data += string(t)
				continue
			}
			cur.add(&Node{Type: Text, Data: string(t)})
		case xml.Comment:
			cur.add(&Node{Type: Comment, Data: string(t)})
		case xml.ProcInst:
			if t.Target == "xml" {
				continue
			}
			cur.add(&Node{Type: ProcInst, Local: t.Target, Data: string(t.Inst)})
		case xml.Directive:
			return nil, ErrDoctype
		}
	}
	if cur != doc {
		return nil, errors.New("unexpected end of document")
	}
	if doc.Root() == nil {
		return nil, errors.New("no root element")
	}
	return doc, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func (n *Node) add(c *Node) {
	c.Parent, c.index = n, len(n.Children)
	n.Children = append(n.Children, c)
}

// Root returns the document element of a document node.
func (n *Node) Root() *Node {
	for _, c := range n.Children {
		if c.Type == Element {
			return c
		}
	}
	return nil
}

// Lookup resolves a namespace prefix in scope at n ("xml" is predefined).
func (n *Node) Lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return "http://www.w3.org/XML/1998/namespace", true
	}
	for e := n; e != nil; e = e.Parent {
		for _, ns := range e.NS {
			if ns.Prefix == prefix {
				return ns.URI, true
			}
		}
	}
	return "", prefix == ""
}

// Name is the element's qualified name as written (prefix:local).
func (n *Node) Name() string {
	if n.Prefix != "" {
		return n.Prefix + ":" + n.Local
	}
	return n.Local
}

// Text is the string value of n: the concatenated text of its descendants.
func (n *Node) Text() string {
	switch n.Type {
	case Text, Comment, ProcInst:
		return n.Data
	}
	var b strings.Builder
	var walk func(*Node)
	walk = func(m *Node) {
		for _, c := range m.Children {
			switch c.Type {
			case Text:
				b.WriteString(c.Data)
			case Element:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// WriteXML serialises n (an element with its subtree, text escaped) to b.
// Namespace declarations in scope but made above n are not repeated.
func (n *Node) WriteXML(b *bytes.Buffer) {
	switch n.Type {
	case Document:
		for _, c := range n.Children {
			c.WriteXML(b)
		}
	case Text:
		escapeText(b, n.Data)
	case Comment:
		b.WriteString("<!--")
		b.WriteString(n.Data)
		b.WriteString("-->")
	case ProcInst:
		b.WriteString("<?" + n.Local + " " + n.Data + "?>")
	case Element:
		b.WriteByte('<')
		b.WriteString(n.Name())
		for _, ns := range n.NS {
			if ns.Prefix == "" {
				b.WriteString(` xmlns="`)
			} else {
				b.WriteString(` xmlns:` + ns.Prefix + `="`)
			}
			escapeAttr(b, ns.URI)
			b.WriteByte('"')
		}
		for _, a := range n.Attrs {
			b.WriteByte(' ')
			if a.Prefix != "" {
				b.WriteString(a.Prefix + ":")
			}
			b.WriteString(a.Local + `="`)
			escapeAttr(b, a.Value)
			b.WriteByte('"')
		}
		if len(n.Children) == 0 {
			b.WriteString("/>")
			return
		}
		b.WriteByte('>')
		for _, c := range n.Children {
			c.WriteXML(b)
		}
		b.WriteString("</" + n.Name() + ">")
	}
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;")
)

// EscapeText writes s escaped as element content.
func escapeText(b *bytes.Buffer, s string) { _, _ = textEscaper.WriteString(b, s) }

// escapeAttr writes s escaped as a double-quoted attribute value.
func escapeAttr(b *bytes.Buffer, s string) { _, _ = attrEscaper.WriteString(b, s) }
