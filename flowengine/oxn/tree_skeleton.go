package oxn

import "fmt"

// Skeleton is a tree built once whose scalar holes get a type and a text
// each time it is filled: the fixed structure of a template output (FLAT's
// set-response-headers, proxy-request and log objects), so that a run
// copies the finished nodes instead of adding them one by one, checking
// each key and linking each sibling again.
//
// A Skeleton is read-only once made and safe for concurrent use.
type Skeleton struct {
	nodes    []tnode // finished: the prev links restored
	text     string  // the keys and constant texts the nodes refer to
	holes    []int32 // the elements the values go to, in the order given
	rootName string
}

// Hole is the value of one hole: a scalar type (String, Number, Boolean or
// Null) and its text, the bytes [Off, Off+Len) of the text given to Fill
// (ignored for Null). The text of a Number or Boolean must be valid JSON
// for it, as for TreeBuilder.Scalar.
type Hole struct {
	Type     Type
	Off, Len int32
}

// Skeleton ends the build and returns the tree built so far as a
// skeleton whose holes are the elements holes, each a scalar (added with
// Scalar, usually as Null). The builder must be Reset before it is used
// again.
func (b *TreeBuilder) Skeleton(holes []int32) (*Skeleton, error) {
	for _, h := range holes {
		if h <= 0 || int(h) >= len(b.nodes) {
			return nil, fmt.Errorf("oxn: skeleton hole %d is not an element below the root", h)
		}
		if t := b.nodes[h].typ; t == Object || t == Array {
			return nil, fmt.Errorf("oxn: skeleton hole %d is not a scalar", h)
		}
	}
	t := b.finish()
	return &Skeleton{nodes: t.nodes, text: t.src, holes: append([]int32(nil), holes...), rootName: t.rootName}, nil
}

// Len returns the number of elements of the trees s gives, the root
// included (Tree.Len of FillSkeleton's trees).
func (s *Skeleton) Len() int { return len(s.nodes) }

// TextLen returns the bytes of keys and constant texts s's trees refer to:
// Tree.TextLen of a tree FillSkeleton gives, less the values' text.
func (s *Skeleton) TextLen() int { return len(s.text) }

// FillSkeleton returns s's tree with hole i given vals[i], whose texts are
// in text; the tree and its nodes come from a (a nil a allocates them).
// The tree is the one a TreeBuilder gives for the same elements with
// those values: the same types, keys, texts and links. It refers to s's
// own text for the keys and constants, and to a copy of text for the
// values: in a's text chunk when it fits (see TreeArena), else a string
// of its own. It panics when vals does not hold one value per hole or a value is not
// a scalar.
func (a *TreeArena) FillSkeleton(s *Skeleton, vals []Hole, text []byte) *Tree {
	if len(vals) != len(s.holes) {
		panic(fmt.Sprintf("oxn: %d values for a skeleton of %d holes", len(vals), len(s.holes)))
	}
	var nodes []tnode
	var t *Tree
	if a == nil {
		nodes, t = make([]tnode, len(s.nodes)), &Tree{}
	} else {
		nodes, t = a.nodeSlice(len(s.nodes))[:len(s.nodes)], a.tree()
	}
	copy(nodes, s.nodes)
	for i, v := range vals {
		if v.Type == Object || v.Type == Array {
			panic("oxn: a skeleton hole filled with an object or array")
		}
		n := &nodes[s.holes[i]]
		n.typ, n.val = v.Type, span{}
		if v.Type != Null && v.Len > 0 {
			n.val = span{v.Off, v.Len}
			n.flags |= flagValAux
		}
	}
	*t = Tree{src: s.text, aux: a.Text(text), nodes: nodes, rootName: s.rootName}
	return t
}
