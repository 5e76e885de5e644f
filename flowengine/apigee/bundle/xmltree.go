// Package bundle loads Apigee Edge proxy bundles (apiproxy/ directories and
// their zips) into a checked, positioned model.
package bundle

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Node is one XML element with its position (1-based line and column of
// its start tag). This file is a stand-in for the shared flowengine/xmlsrc
// package; it is meant to be swapped for it.
type Node struct {
	Name     string
	Attrs    []xml.Attr
	Children []*Node
	Text     string // concatenated character data directly inside the element, trimmed
	// Inner is the element's content as written (child markup included),
	// for payloads that embed XML.
	Inner string
	Line  int
	Col   int
}

// Attr returns the value of the attribute named name and whether it exists.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// Child returns the first child element named name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SyntaxError is a parse error with its position.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// ParseXML parses src into a tree. A DOCTYPE is rejected (no entity
// declarations are ever honoured; encoding/xml never expands external
// entities either). Time is linear in len(src).
func ParseXML(src []byte) (*Node, error) {
	lines := newLineIndex(src)
	d := xml.NewDecoder(bytes.NewReader(src))
	var stack []*Node
	var inner []int64 // offset where each open element's content starts
	var text [][]byte
	var root *Node
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			l, c := lines.pos(d.InputOffset())
			return nil, &SyntaxError{l, c, err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			l, c := lines.pos(off)
			n := &Node{Name: t.Name.Local, Attrs: append([]xml.Attr(nil), t.Attr...), Line: l, Col: c}
			if len(stack) == 0 {
				if root != nil {
					return nil, &SyntaxError{l, c, "more than one root element"}
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			inner = append(inner, d.InputOffset())
			text = append(text, nil)
		case xml.EndElement:
			if len(stack) == 0 {
				l, c := lines.pos(off)
				return nil, &SyntaxError{l, c, "unexpected end element"}
			}
			n := stack[len(stack)-1]
			if n.Name != t.Name.Local {
				l, c := lines.pos(off)
				return nil, &SyntaxError{l, c, fmt.Sprintf("element <%s> closed by </%s>", n.Name, t.Name.Local)}
			}
			n.Text = strings.TrimSpace(string(text[len(text)-1]))
			if start := inner[len(inner)-1]; start < off {
				n.Inner = string(src[start:off])
			}
			inner = inner[:len(inner)-1]
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			if len(text) > 0 {
				text[len(text)-1] = append(text[len(text)-1], t...)
			} else if trimmed := bytes.TrimLeft(t, " \t\r\n"); len(trimmed) > 0 {
				l, c := lines.pos(off + int64(len(t)-len(trimmed)))
				return nil, &SyntaxError{l, c, "text outside the root element"}
			}
		case xml.Directive:
			l, c := lines.pos(off)
			return nil, &SyntaxError{l, c, "DOCTYPE and other directives are not allowed"}
		}
	}
	if len(stack) > 0 {
		l, c := lines.pos(int64(len(src)))
		return nil, &SyntaxError{l, c, fmt.Sprintf("element <%s> not closed", stack[len(stack)-1].Name)}
	}
	if root == nil {
		return nil, &SyntaxError{1, 1, "no root element"}
	}
	return root, nil
}

// lineIndex maps byte offsets to line:col.
type lineIndex []int

func newLineIndex(src []byte) lineIndex {
	li := lineIndex{0}
	for i, b := range src {
		if b == '\n' {
			li = append(li, i+1)
		}
	}
	return li
}

func (li lineIndex) pos(off int64) (int, int) {
	lo, hi := 0, len(li)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if int64(li[mid]) <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, int(off) - li[lo] + 1
}
