// Package xmlsrc parses XML source files (flow files, policies) into a
// small element tree that keeps the line and column of every element,
// attribute and text, for compilers that report positioned diagnostics.
// Parsing is linear in the size of the input.
package xmlsrc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Element is an XML element with its source position.
type Element struct {
	// Name is the qualified name: "space:local" when namespaced, where
	// space is the namespace URL when declared, else the prefix.
	Name string
	// Line and Col (1-based) locate the element's "<".
	Line, Col int
	// Attrs are the attributes in source order.
	Attrs []Attr
	// Children are the child elements in source order.
	Children []*Element
	// Text is the element's own character data: its text and CDATA
	// children concatenated, comments and child elements left out.
	Text string
	// TextLine and TextCol locate the first non-space character of Text
	// (or its start when Text is all space).
	TextLine, TextCol int
	// HasText reports whether the element has any character data.
	HasText bool
}

// Attr is an attribute with its source position.
type Attr struct {
	// Name is the qualified name.
	Name string
	// Value is the unescaped value.
	Value string
	// Line and Col (1-based) locate the attribute's name; when it cannot
	// be found in the start tag, the element's position.
	Line, Col int
}

// Attr returns the attribute called name.
func (e *Element) Attr(name string) (Attr, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Describe renders the element name for messages: "<name>".
func (e *Element) Describe() string { return fmt.Sprintf("<%s>", e.Name) }

// lineIndex maps byte offsets to 1-based line and column.
type lineIndex []int

func newLineIndex(src []byte) lineIndex {
	idx := make(lineIndex, 1, bytes.Count(src, []byte{'\n'})+1)
	for i, c := range src {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (li lineIndex) pos(off int64) (int, int) {
	o := int(off)
	i := sort.Search(len(li), func(i int) bool { return li[i] > o }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, o - li[i] + 1
}

// open is an element being parsed: its character data is collected in a
// builder and copied into Text once, at the end tag.
type open struct {
	el       *Element
	text     strings.Builder
	nonSpace bool // text has a non-space character
}

// Parse parses the XML document data read from the file called name. A
// malformed document is a *diag.Error with code diag.XMLSyntax and the
// position of the problem. Attribute positions are found by searching the
// start tag's source for the attribute name, as encoding/xml reports only
// token offsets.
func Parse(name string, data []byte) (*Element, error) {
	li := newLineIndex(data)
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var stack []*open
	var root *Element
	finish := func(o *open) {
		if o.el.HasText {
			o.el.Text = o.text.String()
		}
	}
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(name, li, d, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, col := li.pos(start)
			el := &Element{Name: qname(t.Name), Line: line, Col: col}
			if len(t.Attr) > 0 {
				tag := data[start:d.InputOffset()]
				el.Attrs = make([]Attr, 0, len(t.Attr))
				for _, a := range t.Attr {
					al, ac := line, col
					if i := attrOffset(tag, qname(a.Name)); i >= 0 {
						al, ac = li.pos(start + int64(i))
					}
					el.Attrs = append(el.Attrs, Attr{Name: qname(a.Name), Value: a.Value, Line: al, Col: ac})
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1].el
				p.Children = append(p.Children, el)
			} else if root == nil {
				root = el
			} else {
				line, col := li.pos(start)
				return nil, diag.Errorf(name, line, col, diag.XMLSyntax, "malformed XML: more than one root element")
			}
			stack = append(stack, &open{el: el})
		case xml.EndElement:
			if len(stack) == 0 { // unreachable: the strict decoder checks nesting
				continue
			}
			finish(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			o := stack[len(stack)-1]
			if !o.nonSpace {
				// Position of the first non-space character.
				trim := len(t) - len(bytes.TrimLeft(t, " \t\r\n"))
				if trim < len(t) || !o.el.HasText {
					o.el.TextLine, o.el.TextCol = li.pos(start + int64(trim))
				}
				o.nonSpace = trim < len(t)
			}
			o.text.Write(t)
			o.el.HasText = true
		}
	}
	if root == nil {
		return nil, diag.Errorf(name, 1, 1, diag.XMLSyntax, "malformed XML: no root element")
	}
	return root, nil
}

// syntaxError turns a decoder error into a positioned diagnostic.
func syntaxError(name string, li lineIndex, d *xml.Decoder, err error) error {
	line, col := li.pos(d.InputOffset())
	msg := err.Error()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, col, msg = se.Line, 0, se.Msg
	}
	return diag.Errorf(name, line, col, diag.XMLSyntax, "malformed XML: %s", msg)
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// attrOffset finds ` name=` or ` name =` in a start tag; -1 if absent.
func attrOffset(tag []byte, name string) int {
	from := 0
	for {
		i := bytes.Index(tag[from:], []byte(name))
		if i < 0 {
			return -1
		}
		i += from
		before := byte(' ')
		if i > 0 {
			before = tag[i-1]
		}
		rest := bytes.TrimLeft(tag[i+len(name):], " \t\r\n")
		if (before == ' ' || before == '\t' || before == '\n' || before == '\r') && len(rest) > 0 && rest[0] == '=' {
			return i
		}
		from = i + len(name)
	}
}
