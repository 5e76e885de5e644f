package dom

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting limit used when a parser is given a
// non-positive maxDepth.
const DefaultMaxDepth = 512

// ErrTooDeep is returned (wrapped) when a document nests elements deeper
// than the parser's limit.
var ErrTooDeep = errors.New("dom: document nesting too deep")

// ParseXML parses an XML document into a DocumentNode.
//
// Namespaces are flattened: element and attribute names keep their local
// part only, prefixes are dropped and namespace declarations (xmlns,
// xmlns:p) are not kept as attributes. Comments, processing instructions
// and directives are dropped; CDATA becomes text; adjacent text is merged.
// Elements nested deeper than maxDepth (DefaultMaxDepth when maxDepth <= 0)
// fail with an error wrapping ErrTooDeep. The document must have exactly one
// root element and no text other than whitespace outside it.
func ParseXML(r []byte, maxDepth int) (*Node, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	d := xml.NewDecoder(bytes.NewReader(r))
	d.Strict = true
	doc := NewDocument()
	cur := doc
	depth := 0
	roots := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("dom: parse XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return nil, fmt.Errorf("dom: parse XML: element depth over %d: %w", maxDepth, ErrTooDeep)
			}
			if cur == doc {
				roots++
				if roots > 1 {
					return nil, errors.New("dom: parse XML: more than one root element")
				}
			}
			el := NewElement(t.Name.Local)
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				el.SetAttr(a.Name.Local, a.Value)
			}
			cur.AppendChild(el)
			cur = el
		case xml.EndElement:
			depth--
			if cur.Parent == nil {
				return nil, errors.New("dom: parse XML: unbalanced end element")
			}
			cur = cur.Parent
		case xml.CharData:
			if cur == doc {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, errors.New("dom: parse XML: text outside the root element")
				}
				continue
			}
			if l := cur.LastChild; l != nil && l.Type == TextNode {
				l.Data += string(t)
				continue
			}
			cur.AppendChild(NewText(string(t)))
		}
	}
	if roots == 0 {
		return nil, errors.New("dom: parse XML: no root element")
	}
	if cur != doc {
		return nil, errors.New("dom: parse XML: unexpected end of document")
	}
	return doc, nil
}

// WriteXML serializes n as XML: a document as its children, an element with
// its attributes and subtree (empty elements as <name/>), a text node as
// escaped character data. No XML declaration is written.
func WriteXML(b *bytes.Buffer, n *Node) {
	if n == nil {
		return
	}
	switch n.Type {
	case DocumentNode:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			WriteXML(b, c)
		}
	case TextNode:
		EscapeXML(b, n.Data, false)
	case ElementNode:
		name := n.Name
		if name == "" {
			name = "_"
		}
		b.WriteByte('<')
		b.WriteString(name)
		for _, a := range n.Attrs {
			b.WriteByte(' ')
			b.WriteString(a.Name)
			b.WriteString(`="`)
			EscapeXML(b, a.Value, true)
			b.WriteByte('"')
		}
		if n.FirstChild == nil {
			b.WriteString("/>")
			return
		}
		b.WriteByte('>')
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			WriteXML(b, c)
		}
		b.WriteString("</")
		b.WriteString(name)
		b.WriteByte('>')
	}
}

// EscapeXML writes s with the XML special characters escaped; in attribute
// values (attr) quotes and whitespace control characters are escaped too.
// Bytes that are not valid UTF-8 become U+FFFD.
func EscapeXML(b *bytes.Buffer, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		size := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case attr && c == '"':
			esc = "&quot;"
		case attr && c == '\n':
			esc = "&#xA;"
		case attr && c == '\r':
			esc = "&#xD;"
		case attr && c == '\t':
			esc = "&#x9;"
		case c == '\r':
			esc = "&#xD;"
		case c < 0x20 && c != '\n' && c != '\t':
			esc = "\uFFFD" // not representable in XML 1.0
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			if r == utf8.RuneError && n == 1 {
				esc = "\uFFFD"
			}
		}
		if esc == "" {
			i += size
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		i += size
		last = i
	}
	b.WriteString(s[last:])
}

// XMLString returns n serialized by WriteXML.
func XMLString(n *Node) string {
	var b bytes.Buffer
	WriteXML(&b, n)
	return b.String()
}

// Clone returns a deep copy of n (attributes and subtree), detached from any
// parent and siblings. Clone of nil is nil.
func (n *Node) Clone() *Node {
	if n == nil {
		return nil
	}
	c := &Node{Type: n.Type, Name: n.Name, Data: n.Data}
	if len(n.Attrs) > 0 {
		c.Attrs = append([]Attr(nil), n.Attrs...)
	}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		c.AppendChild(k.Clone())
	}
	return c
}

// Detach removes n from its parent and siblings; n keeps its subtree.
func (n *Node) Detach() {
	if p := n.Parent; p != nil {
		if p.FirstChild == n {
			p.FirstChild = n.NextSibling
		}
		if p.LastChild == n {
			p.LastChild = n.PrevSibling
		}
	}
	if n.PrevSibling != nil {
		n.PrevSibling.NextSibling = n.NextSibling
	}
	if n.NextSibling != nil {
		n.NextSibling.PrevSibling = n.PrevSibling
	}
	n.Parent, n.PrevSibling, n.NextSibling = nil, nil, nil
}

// RemoveAttr removes attribute name if present.
func (n *Node) RemoveAttr(name string) {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			n.Attrs = append(n.Attrs[:i:i], n.Attrs[i+1:]...)
			return
		}
	}
}

// Elements returns n's element children in order.
func (n *Node) Elements() []*Node {
	var out []*Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == ElementNode {
			out = append(out, c)
		}
	}
	return out
}

// HasElementChildren reports whether n has at least one element child.
func (n *Node) HasElementChildren() bool {
	return n.FirstElement() != nil
}

// Path returns a readable location of n for diagnostics, e.g.
// "/json/items/value".
func (n *Node) Path() string {
	var parts []string
	for ; n != nil; n = n.Parent {
		switch n.Type {
		case ElementNode:
			parts = append(parts, n.Name)
		case TextNode:
			parts = append(parts, "text()")
		}
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}
