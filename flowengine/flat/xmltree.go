package flat

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

// xelem is a flow-file element with source positions, the compiler's input.
type xelem struct {
	name     string
	line     int
	col      int
	attrs    []xattr
	children []*xelem
	// text is the element's own character data (text and CDATA children
	// concatenated, comments dropped), and textLine/textCol where it starts.
	text     string
	textLine int
	textCol  int
	hasText  bool
}

type xattr struct {
	name  string
	value string
	line  int
	col   int
}

func (e *xelem) attr(name string) (xattr, bool) {
	for _, a := range e.attrs {
		if a.name == name {
			return a, true
		}
	}
	return xattr{}, false
}

// lineIndex maps byte offsets to 1-based line and column.
type lineIndex []int

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
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

// parseXML parses a flow file into an xelem tree. Attribute positions are
// approximated by searching the start tag's source text for the attribute
// name (encoding/xml reports only token offsets).
func parseXML(file string, src []byte) (*xelem, error) {
	li := newLineIndex(src)
	d := xml.NewDecoder(bytes.NewReader(src))
	d.Strict = true
	var stack []*xelem
	var root *xelem
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, col := li.pos(d.InputOffset())
			var se *xml.SyntaxError
			msg := err.Error()
			if errors.As(err, &se) {
				line = se.Line
				col = 0
				msg = se.Msg
			}
			return nil, diag.Errorf(file, line, col, diag.XMLSyntax, "malformed XML: %s", msg)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			// Skip leading whitespace/“<” to point at the name.
			line, col := li.pos(start)
			el := &xelem{name: qname(t.Name), line: line, col: col}
			tag := src[start:d.InputOffset()]
			for _, a := range t.Attr {
				al, ac := line, col
				if i := attrOffset(tag, qname(a.Name)); i >= 0 {
					al, ac = li.pos(start + int64(i))
				}
				el.attrs = append(el.attrs, xattr{name: qname(a.Name), value: a.Value, line: al, col: ac})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, el)
			} else if root == nil {
				root = el
			}
			stack = append(stack, el)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			p := stack[len(stack)-1]
			if !p.hasText || strings.TrimSpace(p.text) == "" {
				// Position of the first non-space character.
				s := string(t)
				trim := len(s) - len(strings.TrimLeft(s, " \t\r\n"))
				if strings.TrimSpace(s) != "" || !p.hasText {
					p.textLine, p.textCol = li.pos(start + int64(trim))
				}
			}
			p.text += string(t)
			p.hasText = true
		}
	}
	if root == nil {
		return nil, diag.Errorf(file, 1, 1, diag.XMLSyntax, "malformed XML: no root element")
	}
	return root, nil
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

// describe renders an element name for messages.
func (e *xelem) describe() string { return fmt.Sprintf("<%s>", e.name) }
