package oxn

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// Tree index conventions for the read API below: elements are numbered
// 0…Len()-1 in document order (0 is the json element); DocIndex stands for
// the document node above it; NoIndex is returned when there is no such
// node.
const (
	// DocIndex is the index of a Tree's document node.
	DocIndex int32 = -1
	// NoIndex is returned by FirstChild and Next when there is no node.
	NoIndex int32 = -2
)

// FirstChild returns the first child element of i (the json element for
// DocIndex), or NoIndex.
func (t *Tree) FirstChild(i int32) int32 {
	if i == DocIndex {
		if len(t.nodes) == 0 {
			return NoIndex
		}
		return 0
	}
	if c := t.nodes[i].first; c >= 0 {
		return c
	}
	return NoIndex
}

// Next returns the next sibling element of element i, or NoIndex.
func (t *Tree) Next(i int32) int32 {
	if n := t.nodes[i].next; n >= 0 {
		return n
	}
	return NoIndex
}

// Parent returns the parent of element i (DocIndex for the json element).
func (t *Tree) Parent(i int32) int32 { return t.nodes[i].up }

// TypeAt returns the JSON type of element i.
func (t *Tree) TypeAt(i int32) Type { return t.nodes[i].typ }

// Name returns the element name element i has in the document Parse builds.
func (t *Tree) Name(i int32) string { return t.name(i) }

// Key returns the member key of element i: its name attribute for a
// json-element, else its name ("" for the json element and array items,
// whose names are RootName and ValueName).
func (t *Tree) Key(i int32) string {
	if t.nodes[i].flags&flagKey == 0 {
		return t.name(i)
	}
	return t.key(i)
}

// StringValue returns the XPath string-value of element i (of the whole
// document for DocIndex).
func (t *Tree) StringValue(i int32) string {
	if i == DocIndex {
		if len(t.nodes) == 0 {
			return ""
		}
		i = 0
	}
	return t.stringValue(i)
}

// AttrCount returns the number of attributes element i has in the document
// Parse builds: its type attribute, preceded by the name attribute for a
// json-element.
func (t *Tree) AttrCount(i int32) int {
	if t.nodes[i].flags&flagKeyElem != 0 {
		return 2
	}
	return 1
}

// Attr returns the name and value of attribute j of element i, in the
// order AttrCount describes.
func (t *Tree) Attr(i int32, j int) (name, value string) {
	if j == 0 && t.nodes[i].flags&flagKeyElem != 0 {
		return KeyAttr, t.key(i)
	}
	return typeNames[t.nodes[i].typ], ""
}

// WriteJSON writes element i (the json element for DocIndex) as compact
// JSON, exactly as Write writes the corresponding *dom.Node of the
// materialised document.
func (t *Tree) WriteJSON(b *bytes.Buffer, i int32) error {
	if i == DocIndex {
		if len(t.nodes) == 0 {
			return fmt.Errorf("oxn: document without an element: %w", ErrNotJSON)
		}
		i = 0
	}
	switch t.nodes[i].typ {
	case Object, Array:
		open, end := byte('{'), byte('}')
		if t.nodes[i].typ == Array {
			open, end = '[', ']'
		}
		b.WriteByte(open)
		for c := t.nodes[i].first; c >= 0; c = t.nodes[c].next {
			if c != t.nodes[i].first {
				b.WriteByte(',')
			}
			if open == '{' {
				WriteString(b, t.Key(c))
				b.WriteByte(':')
			}
			if err := t.WriteJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(end)
	case String:
		WriteString(b, t.text(i))
	case Number:
		s := strings.TrimSpace(t.text(i))
		if IsJSONNumber(s) {
			b.WriteString(s)
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("oxn: number element %q holds %q: %w", t.name(i), s, ErrNotJSON)
		}
		b.WriteString(FormatNumber(f))
	case Boolean:
		switch strings.TrimSpace(t.text(i)) {
		case "true", "1":
			b.WriteString("true")
		default:
			b.WriteString("false")
		}
	default:
		b.WriteString("null")
	}
	return nil
}

// NodeAt returns the *dom.Node of tree index i in the materialised
// document (the document itself for DocIndex), building the document on
// first need; see Node for identity.
func (d *Doc) NodeAt(i int32) *dom.Node {
	d.build()
	if i == DocIndex {
		return d.root
	}
	return d.els[i]
}
