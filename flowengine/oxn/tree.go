package oxn

import (
	"fmt"
	"math"
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// Tree is a parsed JSON document in a compact form: one slice of fixed-size
// nodes linked by int32 indexes, whose names and texts are offsets into the
// JSON text (or, for strings that needed unescaping, into one side buffer).
// It shows the same OXN document as Parse does — Navigator walks it for
// XPath, Materialize builds the equal *dom.Node tree — at about a fifth of
// the memory, because it holds no pointer nodes, no separate text nodes and
// no copied strings.
//
// A Tree is immutable once parsed and safe for concurrent reading.
type Tree struct {
	src   string  // the JSON text
	aux   string  // unescaped strings, referenced by nodes with the aux flags
	nodes []tnode // nodes[0] is the json element
	// rootName names nodes[0] when it is not RootName (a TreeBuilder's
	// tree, such as FLAT's $request).
	rootName string
}

// tnode is one OXN element. Its text child (scalars with non-empty text)
// and its attributes are implicit.
type tnode struct {
	typ   Type
	flags uint8
	name  span  // member key (flagKey); unused for the root and array items
	val   span  // text of strings, numbers and booleans
	up    int32 // parent element, -1 for the root
	first int32 // first child element, -1 when none
	next  int32 // next sibling element, -1 when none
	prev  int32 // previous sibling element, -1 when none
}

// span is a substring of a Tree's src (or aux, by the node's flags).
type span struct{ off, n int32 }

// tnode flags.
const (
	flagKey     uint8 = 1 << iota // an object member: name holds its key
	flagKeyElem                   // the key is not an XML name: the element is json-element
	flagNameAux                   // name is in aux
	flagValAux                    // val is in aux
)

// tnodeSize is the size of one compact node in bytes (see TreeCostFactor).
const tnodeSize = 36

// ParseTree parses the JSON text data like Parse (same syntax, limits and
// errors) into a compact Tree. The text is copied once; use ParseTreeString
// to share a string's memory instead.
func ParseTree(data []byte, maxDepth int) (*Tree, error) {
	return ParseTreeString(string(data), maxDepth)
}

// ParseTreeString is ParseTree for JSON text held in a string; the tree
// keeps s and refers into it.
func ParseTreeString(s string, maxDepth int) (*Tree, error) {
	t, err := parseTree(s, maxDepth, nil)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// parseTree parses s into a Tree value. nodes, when not nil, supplies the
// node slice for a capacity (an upper bound of the values, so that the
// parser's appends stay within it); nil makes one.
func parseTree(s string, maxDepth int, nodes func(n int) []tnode) (Tree, error) {
	if len(s) > math.MaxInt32 {
		return Tree{}, fmt.Errorf("%w: text of %d bytes is larger than 2 GiB", ErrSyntax, len(s))
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	tp := treeParser{parser: parser{s: s, max: maxDepth}}
	if n := countValues(s); nodes != nil {
		tp.nodes = nodes(n)
	} else {
		tp.nodes = make([]tnode, 0, n)
	}
	tp.skipWS()
	tp.value(-1, -1)
	if tp.err != nil {
		return Tree{}, tp.err
	}
	tp.skipWS()
	if tp.i < len(tp.s) {
		return Tree{}, tp.syntax("unexpected data after the top-level value")
	}
	return Tree{src: s, aux: tp.aux.String(), nodes: tp.nodes}, nil
}

// countValues returns an upper bound of the number of JSON values in s, so
// that the node slice is allocated once at its final size.
//
// The vectorised strings.Count of commas and opening brackets is an upper
// bound too: it also counts those inside strings. It is used when it cannot
// cost much memory, at most one node per four bytes of text (ordinary JSON
// has far fewer: the example's 4 KiB body has one per eight). A denser
// count, from short values or from separators in strings, is made exact by
// exactValues, so a string full of commas still gets one node.
func countValues(s string) int {
	n := 1 + strings.Count(s, ",") + strings.Count(s, "[") + strings.Count(s, "{")
	if n <= len(s)/4+1 {
		return n
	}
	return exactValues(s)
}

// exactValues counts commas, opening brackets and one, outside strings: an
// upper bound of the values in s, exact for valid JSON but for empty
// containers.
func exactValues(s string) int {
	n := 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '[', '{':
			n++
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
	}
	return n
}

// treeParser builds a Tree with the scanner of parser.
type treeParser struct {
	parser
	nodes []tnode
	aux   strings.Builder
}

// span returns the span of str's result v, which the scanner took from
// s[start:end] (quotes excluded): the raw text when v equals it, otherwise
// v appended to aux (aux reports true).
func (tp *treeParser) span(v string, start, end int) (span, bool) {
	if v == tp.s[start:end] {
		return span{int32(start), int32(end - start)}, false
	}
	off := tp.aux.Len()
	tp.aux.WriteString(v)
	return span{int32(off), int32(len(v))}, true
}

// add appends an element of type t under parent after the sibling prev and
// returns its index.
func (tp *treeParser) add(t Type, parent, prev int32) int32 {
	i := int32(len(tp.nodes))
	tp.nodes = append(tp.nodes, tnode{typ: t, up: parent, first: -1, next: -1, prev: prev})
	if prev >= 0 {
		tp.nodes[prev].next = i
	} else if parent >= 0 {
		tp.nodes[parent].first = i
	}
	return i
}

// value parses one JSON value at tp.i into a new element under parent
// after prev and returns its index, -1 on error (tp.err is set).
func (tp *treeParser) value(parent, prev int32) int32 {
	if tp.i >= len(tp.s) {
		tp.syntax("unexpected end of input")
		return -1
	}
	switch c := tp.s[tp.i]; {
	case c == '{':
		return tp.object(parent, prev)
	case c == '[':
		return tp.array(parent, prev)
	case c == '"':
		start := tp.i + 1
		s, ok := tp.str()
		if !ok {
			return -1
		}
		sp, aux := tp.span(s, start, tp.i-1)
		n := tp.add(String, parent, prev)
		tp.nodes[n].val = sp
		if aux {
			tp.nodes[n].flags |= flagValAux
		}
		return n
	case c == '-' || (c >= '0' && c <= '9'):
		start := tp.i
		if _, ok := tp.number(); !ok {
			return -1
		}
		n := tp.add(Number, parent, prev)
		tp.nodes[n].val = span{int32(start), int32(tp.i - start)}
		return n
	case c == 't' || c == 'f':
		start := tp.i
		lit := "true"
		if c == 'f' {
			lit = "false"
		}
		if !tp.literal(lit) {
			return -1
		}
		n := tp.add(Boolean, parent, prev)
		tp.nodes[n].val = span{int32(start), int32(len(lit))}
		return n
	case c == 'n':
		if !tp.literal("null") {
			return -1
		}
		return tp.add(Null, parent, prev)
	}
	tp.syntax(fmt.Sprintf("invalid character %q looking for a value", tp.s[tp.i]))
	return -1
}

func (tp *treeParser) object(parent, prev int32) int32 {
	if !tp.enter() {
		return -1
	}
	n := tp.add(Object, parent, prev)
	tp.i++ // '{'
	tp.skipWS()
	if tp.i < len(tp.s) && tp.s[tp.i] == '}' {
		tp.i++
		tp.depth--
		return n
	}
	last := int32(-1)
	for {
		if tp.i >= len(tp.s) || tp.s[tp.i] != '"' {
			tp.syntax("expected a string key")
			return -1
		}
		start := tp.i + 1
		key, ok := tp.str()
		if !ok {
			return -1
		}
		name, aux := tp.span(key, start, tp.i-1)
		tp.skipWS()
		if tp.i >= len(tp.s) || tp.s[tp.i] != ':' {
			tp.syntax("expected ':' after a key")
			return -1
		}
		tp.i++
		tp.skipWS()
		v := tp.value(n, last)
		if v < 0 {
			return -1
		}
		last = v
		c := &tp.nodes[v]
		c.name = name
		c.flags |= flagKey
		if aux {
			c.flags |= flagNameAux
		}
		if !IsXMLName(key) {
			c.flags |= flagKeyElem
		}
		tp.skipWS()
		if tp.i >= len(tp.s) {
			tp.syntax("unexpected end of input in an object")
			return -1
		}
		switch tp.s[tp.i] {
		case ',':
			tp.i++
			tp.skipWS()
		case '}':
			tp.i++
			tp.depth--
			return n
		default:
			tp.syntax("expected ',' or '}' in an object")
			return -1
		}
	}
}

func (tp *treeParser) array(parent, prev int32) int32 {
	if !tp.enter() {
		return -1
	}
	n := tp.add(Array, parent, prev)
	tp.i++ // '['
	tp.skipWS()
	if tp.i < len(tp.s) && tp.s[tp.i] == ']' {
		tp.i++
		tp.depth--
		return n
	}
	last := int32(-1)
	for {
		v := tp.value(n, last)
		if v < 0 {
			return -1
		}
		last = v
		tp.skipWS()
		if tp.i >= len(tp.s) {
			tp.syntax("unexpected end of input in an array")
			return -1
		}
		switch tp.s[tp.i] {
		case ',':
			tp.i++
			tp.skipWS()
		case ']':
			tp.i++
			tp.depth--
			return n
		default:
			tp.syntax("expected ',' or ']' in an array")
			return -1
		}
	}
}

// Len returns the number of elements (JSON values) in t.
func (t *Tree) Len() int { return len(t.nodes) }

// Size returns the bytes t holds: its text, its side buffer and its nodes.
func (t *Tree) Size() int64 {
	return int64(len(t.src)) + int64(len(t.aux)) + int64(cap(t.nodes))*tnodeSize
}

// key returns the member key of element i ("" for the root and array items).
func (t *Tree) key(i int32) string {
	n := &t.nodes[i]
	if n.flags&flagKey == 0 {
		return ""
	}
	if n.flags&flagNameAux != 0 {
		return t.aux[n.name.off : n.name.off+n.name.n]
	}
	return t.src[n.name.off : n.name.off+n.name.n]
}

// name returns the element name of element i.
func (t *Tree) name(i int32) string {
	n := &t.nodes[i]
	switch {
	case i == 0:
		if t.rootName != "" {
			return t.rootName
		}
		return RootName
	case n.flags&flagKey == 0:
		return ValueName
	case n.flags&flagKeyElem != 0:
		return KeyElementName
	}
	return t.key(i)
}

// text returns the text of element i: the value of a scalar, "" for null,
// objects and arrays.
func (t *Tree) text(i int32) string {
	n := &t.nodes[i]
	if n.flags&flagValAux != 0 {
		return t.aux[n.val.off : n.val.off+n.val.n]
	}
	return t.src[n.val.off : n.val.off+n.val.n]
}

// hasText reports whether element i has a text child.
func (t *Tree) hasText(i int32) bool { return t.nodes[i].val.n > 0 }

// stringValue returns the XPath string-value of element i: its text, or
// the concatenated text of its descendants.
func (t *Tree) stringValue(i int32) string {
	n := &t.nodes[i]
	if n.typ != Object && n.typ != Array {
		return t.text(i)
	}
	var b strings.Builder
	t.appendText(&b, i)
	return b.String()
}

func (t *Tree) appendText(b *strings.Builder, i int32) {
	for c := t.nodes[i].first; c >= 0; c = t.nodes[c].next {
		if t.nodes[c].typ == Object || t.nodes[c].typ == Array {
			t.appendText(b, c)
		} else {
			b.WriteString(t.text(c))
		}
	}
}

// Materialize builds the *dom.Node document that Parse returns for the
// same text: a DocumentNode whose only child is the json element. The
// tree's strings are shared, not copied.
func (t *Tree) Materialize() *dom.Node {
	doc, _ := t.materialize()
	return doc
}

// materialize is Materialize that also returns the element built for each
// tree index (els[i] is the element of t.nodes[i]).
func (t *Tree) materialize() (*dom.Node, []*dom.Node) {
	// One block for the document, every element and the text children
	// of the scalars that have text: sized exactly, not 2 per element.
	keyAttrs, texts := 0, 0
	for i := range t.nodes {
		if t.nodes[i].flags&flagKeyElem != 0 {
			keyAttrs++
		}
		if t.nodes[i].val.n > 0 {
			texts++
		}
	}
	nodes := make([]dom.Node, 1, 1+len(t.nodes)+texts)
	nodes[0].Type = dom.DocumentNode
	attrs := make([]dom.Attr, 2*keyAttrs)
	// Children are appended to their parent in index order, which is
	// document order; els maps a tree index to its element.
	els := make([]*dom.Node, len(t.nodes))
	for i := range t.nodes {
		tn := &t.nodes[i]
		nodes = append(nodes, dom.Node{Type: dom.ElementNode, Name: t.name(int32(i))})
		el := &nodes[len(nodes)-1]
		els[i] = el
		if tn.flags&flagKeyElem != 0 {
			a := attrs[:2:2]
			attrs = attrs[2:]
			a[0] = dom.Attr{Name: KeyAttr, Value: t.key(int32(i))}
			a[1] = dom.Attr{Name: typeNames[tn.typ]}
			el.Attrs = a
		} else {
			el.Attrs = typeAttrs(tn.typ)
		}
		if tn.up >= 0 {
			els[tn.up].AppendChild(el)
		} else {
			nodes[0].AppendChild(el)
		}
		if t.hasText(int32(i)) {
			nodes = append(nodes, dom.Node{Type: dom.TextNode, Data: t.text(int32(i))})
			el.AppendChild(&nodes[len(nodes)-1])
		}
	}
	return &nodes[0], els
}

// TextLen returns the bytes of t's text and side buffer: for a built tree,
// its keys and scalar texts.
func (t *Tree) TextLen() int { return len(t.src) + len(t.aux) }
