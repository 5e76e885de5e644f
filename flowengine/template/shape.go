package template

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/oxn"
)

// A shape is the fixed structure of a template whose output is always one
// JSON object of the same members: literal text and {{ expr }} values only
// (no blocks, pair producers, explicit commas or locals), where every
// value stands where a JSON value goes. Such a template (the headers of
// set-response-headers, a proxy-request spec, a log object) is
// run by ExecuteTree straight into an oxn.Tree, without writing the text
// and parsing it again.
//
// The shape is found by running the writer over the literal text with a
// marker string in place of each value and parsing the result with
// oxn.ParseTree: the comma and whitespace rules, and what the output
// means, are those of Execute and of the parser the callers use on its
// text, by construction.
type shape struct {
	ops []shapeOp
	// text is the bytes of the literal keys and constants, a hint for the
	// builder and the base of the output charge.
	text int
	// depth is the deepest nesting of objects and arrays.
	depth int
	// holes is the number of values.
	holes int
	// holeOps are the indexes in ops of the values, in document order.
	holeOps []int32
	// skel is the tree of ops with a scalar hole for each value
	// (ExecuteTree fills it when every value is a scalar).
	skel *oxn.Skeleton
	// record: the root object holds only scalars and values, so that
	// ExecuteRecord can give its members without a tree (IsRecord).
	record bool
	// single: every value is one expression (no "??" chain), so that
	// directFields may read them without a state (ExecuteValues).
	single bool
	// direct: a record of single values (directRecord).
	direct bool
}

// shapeOp is one element of the shape, in document order.
type shapeOp struct {
	typ    oxn.Type
	parent int32  // index of the parent op; -1 for the root
	key    string // member key ("" under an array)
	text   string // the text of a constant scalar
	hole   int32  // index of the opValue node in Template.nodes; -1 for a constant
	depth  int32  // objects and arrays above the element, the root included
}

// holeMarker is the string a value stands as in the skeleton: NUL cannot
// be in a key or string of the literal text unless escaped, and any
// string with a NUL makes the template shapeless (see shapeOf).
func holeMarker(i int) string { return "\x00" + strconv.Itoa(i) }

// shapeOf returns t's shape, or nil when t's output is not always a JSON
// object of the same members.
func shapeOf(t *Template) *shape {
	if len(t.locals) > 0 || len(t.nodes) == 0 {
		return nil
	}
	var b bytes.Buffer
	var w writer
	w.reset(&b)
	holes := 0
	for i := range t.nodes {
		switch n := &t.nodes[i]; n.kind {
		case opText:
			w.text(n.text)
		case opValue:
			w.string(holeMarker(i))
			holes++
		default:
			return nil
		}
	}
	w.finish()
	if w.inString {
		return nil // an unterminated string literal: not JSON
	}
	tree, err := oxn.ParseTree(bytes.TrimSpace(b.Bytes()), 0)
	if err != nil || tree.TypeAt(0) != oxn.Object {
		return nil
	}
	s := &shape{}
	next := 0  // the opValue expected next, in node order
	found := 0 // values found in the tree
	ok := true
	var walk func(i, parent int32, depth int32)
	walk = func(i, parent int32, depth int32) {
		op := shapeOp{typ: tree.TypeAt(i), parent: parent, hole: -1, depth: depth}
		if parent >= 0 && s.ops[parent].typ == oxn.Object {
			op.key = tree.Key(i)
			if strings.IndexByte(op.key, 0) >= 0 {
				ok = false // a value in a key's place
			}
			s.text += len(op.key)
		}
		switch op.typ {
		case oxn.Object, oxn.Array:
			s.depth = max(s.depth, int(depth)+1)
		default:
			op.text = tree.StringValue(i)
			if strings.IndexByte(op.text, 0) >= 0 {
				for next < len(t.nodes) && t.nodes[next].kind != opValue {
					next++
				}
				if op.typ != oxn.String || op.text != holeMarker(next) {
					ok = false // a value inside a string, or out of order
				}
				op.hole, op.text = int32(next), ""
				next++
				found++
			}
			s.text += len(op.text)
		}
		self := int32(len(s.ops))
		s.ops = append(s.ops, op)
		if op.typ == oxn.Object || op.typ == oxn.Array {
			for c := tree.FirstChild(i); c != oxn.NoIndex && ok; c = tree.Next(c) {
				walk(c, self, depth+1)
			}
		}
	}
	walk(0, -1, 0)
	if !ok || found != holes {
		return nil
	}
	s.holes = holes
	s.skel, s.holeOps = skeletonOf(s.ops)
	s.record = s.skel != nil && s.depth == 1
	s.single = s.skel != nil
	for _, i := range s.holeOps {
		s.single = s.single && len(t.nodes[s.ops[i].hole].chain) == 1
	}
	s.direct = s.record && s.single
	return s
}

// skeletonOf builds the tree of ops with a scalar hole for each value, and
// lists the ops of the values.
func skeletonOf(ops []shapeOp) (*oxn.Skeleton, []int32) {
	var b oxn.TreeBuilder
	b.Reset("", len(ops), 0)
	elems := make([]int32, len(ops))
	var holes, holeOps []int32
	for i := 1; i < len(ops); i++ {
		op := &ops[i]
		parent := elems[op.parent]
		switch {
		case op.typ == oxn.Object:
			elems[i] = b.Object(parent, op.key)
		case op.typ == oxn.Array:
			elems[i] = b.Array(parent, op.key)
		case op.hole < 0:
			elems[i] = b.Scalar(parent, op.key, op.typ, op.text)
		default:
			elems[i] = b.Scalar(parent, op.key, oxn.Null, "")
			holes = append(holes, elems[i])
			holeOps = append(holeOps, int32(i))
		}
	}
	skel, err := b.Skeleton(holes)
	if err != nil {
		// Cannot happen (values are scalars below the root); ExecuteTree
		// then builds every tree op by op.
		return nil, holeOps
	}
	return skel, holeOps
}

// HasShape reports whether t's output is always a JSON object of the same
// members, so that ExecuteTree runs it.
func (t *Template) HasShape() bool { return t.shape != nil }

// ObjectKeys returns the keys of the members t always writes in the object
// at path (member keys from the root; the root object itself when path is
// empty), in document order. It returns nil when t has no shape or path
// does not lead to an object of it; with a key given twice on the path,
// the first such member is followed.
func (t *Template) ObjectKeys(path ...string) []string {
	s := t.shape
	if s == nil {
		return nil
	}
	obj := int32(0)
	for _, k := range path {
		next := int32(-1)
		for i := range s.ops {
			if s.ops[i].parent == obj && s.ops[i].key == k {
				next = int32(i)
				break
			}
		}
		if next < 0 || s.ops[next].typ != oxn.Object {
			return nil
		}
		obj = next
	}
	var keys []string
	for i := range s.ops {
		if s.ops[i].parent == obj {
			keys = append(keys, s.ops[i].key)
		}
	}
	return keys
}
