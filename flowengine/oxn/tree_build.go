package oxn

import (
	"fmt"
	"strings"
)

// TreeBuilder builds a Tree from Go values instead of JSON text, for
// documents a server assembles per request (FLAT's $request): the nodes
// are one pointer-free slice and every text goes into one string, so the
// result costs a small fraction of the *dom.Node form and nothing for the
// garbage collector to scan. Materialize (or a Doc) builds that form when
// a caller needs it.
//
// Elements are added under a parent already built, after its last child.
// The texts must stay under 2 GiB in all. Start a builder with Reset.
type TreeBuilder struct {
	// While building, the prev link of an element's first child holds
	// the element's last child (so appending needs no second slice);
	// Tree restores it to -1.
	nodes []tnode
	text  strings.Builder
	root  string
	// scratch, when not nil, is the arena whose scratch buffer takes the
	// text instead of text (StartBuilder); finish copies it to the
	// arena's text chunk.
	scratch *TreeArena
}

// Reset starts a new tree whose root element is an object named rootName
// (RootName when empty). hint is the expected number of elements,
// textHint the expected bytes of keys and texts; both only size the first
// allocations.
func (b *TreeBuilder) Reset(rootName string, hint, textHint int) {
	*b = TreeBuilder{root: rootName}
	b.nodes = make([]tnode, 0, max(hint, 1))
	if textHint > 0 {
		b.text.Grow(textHint)
	}
	b.add(Object, -1, "")
}

// Root is the index of the root element.
func (b *TreeBuilder) Root() int32 { return 0 }

// add appends an element of type t as the last child of parent (-1 for
// the root) with the member key key ("" for none) and returns its index.
func (b *TreeBuilder) add(t Type, parent int32, key string) int32 {
	i := int32(len(b.nodes))
	n := tnode{typ: t, up: parent, first: -1, next: -1, prev: -1}
	if parent >= 0 {
		if f := b.nodes[parent].first; f >= 0 {
			last := b.nodes[f].prev
			b.nodes[last].next = i
			n.prev = last
			b.nodes[f].prev = i
		} else {
			b.nodes[parent].first = i
			n.prev = i // the first child is also the last
		}
		if b.nodes[parent].typ == Object {
			n.flags |= flagKey
			n.name = b.span(key)
			if !IsXMLName(key) {
				n.flags |= flagKeyElem
			}
		}
	}
	b.nodes = append(b.nodes, n)
	return i
}

// span stores s in the text and returns where.
func (b *TreeBuilder) span(s string) span {
	if a := b.scratch; a != nil {
		off := len(a.btext)
		a.btext = append(a.btext, s...)
		return span{int32(off), int32(len(s))}
	}
	off := b.text.Len()
	b.text.WriteString(s)
	return span{int32(off), int32(len(s))}
}

// Object adds an empty object member key under the object parent (or an
// array item when parent is an array) and returns its index.
func (b *TreeBuilder) Object(parent int32, key string) int32 {
	return b.add(Object, parent, key)
}

// Array adds an empty array member key under parent and returns its index.
func (b *TreeBuilder) Array(parent int32, key string) int32 {
	return b.add(Array, parent, key)
}

// Scalar adds a member of type t (String, Number, Boolean or Null) with
// the text v under parent and returns its index. The text of a Number or
// Boolean must be valid JSON for it; Null ignores v.
func (b *TreeBuilder) Scalar(parent int32, key string, t Type, v string) int32 {
	i := b.add(t, parent, key)
	if t != Null && v != "" {
		b.nodes[i].val = b.span(v)
	}
	return i
}

// String adds a string member.
func (b *TreeBuilder) String(parent int32, key, v string) int32 {
	return b.Scalar(parent, key, String, v)
}

// Concat adds a string member whose text is parts joined, without
// building the joined string first.
func (b *TreeBuilder) Concat(parent int32, key string, parts ...string) int32 {
	i := b.add(String, parent, key)
	var sp span // the parts are written one after the other
	for _, p := range parts {
		if p == "" {
			continue
		}
		if s := b.span(p); sp.n == 0 {
			sp = s
		} else {
			sp.n += s.n
		}
	}
	b.nodes[i].val = sp
	return i
}

// Member returns the first child of the object parent with the member
// key key, or NoIndex.
func (b *TreeBuilder) Member(parent int32, key string) int32 {
	for c := b.nodes[parent].first; c >= 0; c = b.nodes[c].next {
		n := &b.nodes[c]
		if n.flags&flagKey != 0 && int(n.name.n) == len(key) && b.textAt(n.name) == key {
			return c
		}
	}
	return NoIndex
}

// SetText replaces the text of scalar element i.
func (b *TreeBuilder) SetText(i int32, v string) {
	b.nodes[i].val = span{}
	if v != "" {
		b.nodes[i].val = b.span(v)
	}
}

// textAt returns the text a span refers to while building.
func (b *TreeBuilder) textAt(s span) string {
	if a := b.scratch; a != nil {
		return string(a.btext[s.off : s.off+s.n])
	}
	return b.text.String()[s.off : s.off+s.n]
}

// Tree returns the built tree. The builder must be Reset before it is
// used again.
func (b *TreeBuilder) Tree() *Tree {
	t := b.finish()
	return &t
}

// finish ends the build and returns the tree.
func (b *TreeBuilder) finish() Tree {
	for i := range b.nodes {
		if f := b.nodes[i].first; f >= 0 {
			b.nodes[f].prev = -1
		}
	}
	src := b.text.String()
	if a := b.scratch; a != nil {
		src = a.Text(a.btext)
		a.building = false
		a.btext = a.btext[:0]
		if cap(a.btext) > maxBuilderScratch {
			a.btext = nil
		}
	}
	t := Tree{src: src, nodes: b.nodes, rootName: b.root}
	*b = TreeBuilder{}
	return t
}

// Copy adds a copy of element i of src (the json element for DocIndex)
// as member key under parent: the same types, keys and texts ParseTree
// gives for src.WriteJSON's output of that element. depth is the
// nesting of objects and arrays already above the copy; a copy that would
// nest deeper than maxDepth (DefaultMaxDepth when not positive) in all
// adds nothing and returns an error wrapping ErrTooDeep, as parsing that
// text would.
func (b *TreeBuilder) Copy(parent int32, key string, src *Tree, i int32, depth, maxDepth int) (int32, error) {
	if i == DocIndex {
		if len(src.nodes) == 0 {
			return NoIndex, fmt.Errorf("oxn: document without an element: %w", ErrNotJSON)
		}
		i = 0
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if depth+src.depth(i) > maxDepth {
		return NoIndex, fmt.Errorf("oxn: nesting deeper than %d: %w", maxDepth, ErrTooDeep)
	}
	return b.copy(parent, key, src, i), nil
}

// copy is Copy without the checks.
func (b *TreeBuilder) copy(parent int32, key string, src *Tree, i int32) int32 {
	n := &src.nodes[i]
	switch n.typ {
	case Object, Array:
		el := b.add(n.typ, parent, key)
		for c := n.first; c >= 0; c = src.nodes[c].next {
			b.copy(el, src.key(c), src, c)
		}
		return el
	}
	return b.Scalar(parent, key, n.typ, src.text(i))
}

// depth returns how deeply objects and arrays nest in element i: 0 for a
// scalar, 1 for a container of scalars.
func (t *Tree) depth(i int32) int {
	n := &t.nodes[i]
	if n.typ != Object && n.typ != Array {
		return 0
	}
	d := 0
	for c := n.first; c >= 0; c = t.nodes[c].next {
		d = max(d, t.depth(c))
	}
	return d + 1
}

// StartBuilder is TreeBuilder.Reset with the builder's first hint nodes
// taken from a (it allocates only when the tree outgrows them). A nil a
// is plain Reset.
func (a *TreeArena) StartBuilder(b *TreeBuilder, rootName string, hint, textHint int) {
	if a == nil {
		b.Reset(rootName, hint, textHint)
		return
	}
	*b = TreeBuilder{root: rootName}
	b.nodes = a.nodeSlice(max(hint, 1))
	switch {
	case a.reused && !a.building && textHint <= maxKeptText:
		// A recycled run's arena: the text goes to its scratch buffer
		// and then to its chunk, not to an allocation of its own. One
		// builder at a time: another one started meanwhile, or after
		// this one was abandoned, writes its own text.
		a.building = true
		b.scratch = a
	case textHint > 0:
		b.text.Grow(textHint)
	}
	b.add(Object, -1, "")
}

// BuiltTree is TreeBuilder.Tree with the Tree itself taken from a. A nil
// a is plain Tree.
func (a *TreeArena) BuiltTree(b *TreeBuilder) *Tree {
	if a == nil {
		return b.Tree()
	}
	t := a.tree()
	*t = b.finish()
	return t
}
