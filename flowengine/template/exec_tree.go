package template

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// ErrNoShape is returned by ExecuteTree for a template without a shape
// (HasShape false): run it with Execute and parse the output instead.
var ErrNoShape = errors.New("template: output has no fixed shape")

// ExecuteTree runs a template that HasShape against c, as Execute does,
// and returns its output as the tree oxn.ParseTree(output, maxDepth) gives
// (the same members, types, keys and texts), built without writing or
// parsing the text. Nodes and the tree come from arena when it is not nil
// (see oxn.TreeArena). Errors are Execute's; a value nesting deeper than
// maxDepth is an error wrapping oxn.ErrTooDeep, as parsing would give. The
// output charged to c.Budget is the tree's text plus four bytes an element,
// close to the length of Execute's output.
func (t *Template) ExecuteTree(c *expr.Context, arena *oxn.TreeArena, maxDepth int) (*oxn.Tree, error) {
	_, tree, err := t.executeShape(c, arena, maxDepth, nil, false)
	return tree, err
}

// executeShape is ExecuteTree, and ExecuteRecord when record is set: then
// the members of output whose values are all scalars are appended to
// out[:0] and returned instead of a tree.
func (t *Template) executeShape(c *expr.Context, arena *oxn.TreeArena, maxDepth int, out []Field, record bool) ([]Field, *oxn.Tree, error) {
	s := t.shape
	if s == nil {
		return nil, nil, ErrNoShape
	}
	if record && !s.record {
		return nil, nil, ErrNotRecord
	}
	if c == nil {
		c = &emptyContext
	}
	if maxDepth <= 0 {
		maxDepth = oxn.DefaultMaxDepth
	}
	st := t.newState(c)
	defer st.release()
	if err := st.checkCtx(0); err != nil {
		return nil, nil, err
	}
	if s.depth > maxDepth {
		return nil, nil, st.errorf(0, errTooDeep(maxDepth))
	}
	// The values first, in document order, each a scalar whose text goes
	// to st.vtext, or a node to copy. Nothing a value's expression sees
	// depends on the tree, so building it afterwards changes nothing.
	st.holes, st.vtext = st.holes[:0], st.vtext[:0]
	st.holeItems = st.holeItems[:0]
	scalars := true
	for _, i := range s.holeOps {
		h, it, err := st.evalHole(&st.t.nodes[s.ops[i].hole])
		if err != nil {
			return nil, nil, err
		}
		st.holes, st.holeItems = append(st.holes, h), append(st.holeItems, it)
		scalars = scalars && h.Type != holeNode
	}
	if record && scalars {
		out, err := st.record(arena, out)
		return out, nil, err
	}
	var tree *oxn.Tree
	if scalars && s.skel != nil {
		// The common case: the skeleton's finished nodes, copied.
		tree = arena.FillSkeleton(s.skel, st.holes, st.vtext)
	} else {
		var err error
		if tree, err = st.buildTree(arena, maxDepth); err != nil {
			return nil, nil, err
		}
	}
	if err := st.chargeTree(tree.TextLen(), tree.Len()); err != nil {
		return nil, nil, err
	}
	return nil, tree, nil
}

// chargeTree charges the output of a tree of elements holding textLen
// bytes of keys and texts (chargeOutputOf).
func (st *state) chargeTree(textLen, elements int) error {
	return st.t.chargeOutputOf(st.ctx.Budget, textLen, elements)
}

// chargeOutputOf charges b the output of a tree of elements holding textLen
// bytes of keys and texts: the text plus four bytes an element, close to
// the length of Execute's output. Every way a shape is executed charges
// through here, so that they charge alike.
func (t *Template) chargeOutputOf(b *budget.Budget, textLen, elements int) error {
	if n := textLen + 4*elements; n > 0 {
		if err := b.Output(int64(n)); err != nil {
			return t.errorAt(len(t.src), err)
		}
	}
	return nil
}

// holeNode marks a value that is a node to copy (st.holeItems), not a scalar.
const holeNode = oxn.Object

// buildTree builds the output op by op with the values st.holes and
// st.holeItems hold, for a shape with an object or array among its values.
func (st *state) buildTree(arena *oxn.TreeArena, maxDepth int) (*oxn.Tree, error) {
	t, s, b := st.t, st.t.shape, &st.b
	// The text of the last tree built, or the literal text and a short
	// value each: one allocation of about the right size.
	textHint := int(t.treeText.Load())
	if textHint == 0 {
		textHint = s.text + 16*s.holes
	}
	arena.StartBuilder(b, "", len(s.ops), textHint) // a nil arena allocates
	st.elems = append(st.elems[:0], 0)              // the root
	k := 0                                          // the next value
	for i := 1; i < len(s.ops); i++ {
		op := &s.ops[i]
		parent := st.elems[op.parent]
		var el int32
		switch {
		case op.typ == oxn.Object:
			el = b.Object(parent, op.key)
		case op.typ == oxn.Array:
			el = b.Array(parent, op.key)
		case op.hole < 0:
			el = b.Scalar(parent, op.key, op.typ, op.text)
		case st.holes[k].Type == holeNode:
			var err error
			if el, err = st.buildItem(b, parent, op, st.holeItems[k], maxDepth); err != nil {
				return nil, st.errorf(t.nodes[op.hole].pos, err)
			}
			k++
		default:
			h := st.holes[k]
			el = b.Scalar(parent, op.key, h.Type, string(st.vtext[h.Off:h.Off+h.Len]))
			k++
		}
		st.elems = append(st.elems, el)
	}
	tree := arena.BuiltTree(b)
	if n := min(tree.TextLen(), maxTreeTextHint); n > textHint || 2*n < textHint {
		t.treeText.Store(int32(n))
	}
	return tree, nil
}

// maxTreeTextHint bounds the text ExecuteTree allocates in advance.
const maxTreeTextHint = 16 << 10

// evalHole evaluates the {{ expr }} of n as a value of a shape: a scalar
// whose text it appends to st.vtext, as parsing Execute's text for it
// gives, or a node (Type holeNode, returned in it) that buildItem copies.
func (st *state) evalHole(n *node) (h oxn.Hole, it item, err error) {
	if sv, ok := st.scalar(n); ok {
		return st.holeText(sv.Type, sv.Text, sv.Type == oxn.String), it, nil
	}
	s, isString, first, v, err := st.evalValue(n)
	if err != nil {
		return h, it, err
	}
	if isString {
		return st.holeText(oxn.String, s, true), it, nil
	}
	if v != nil {
		switch x := v.(type) {
		case string:
			return st.holeText(oxn.String, x, true), it, nil
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return oxn.Hole{Type: oxn.Null}, it, nil
			}
			off := len(st.vtext)
			st.vtext = appendNumber(st.vtext, x)
			return oxn.Hole{Type: oxn.Number, Off: int32(off), Len: int32(len(st.vtext) - off)}, it, nil
		case bool:
			if x {
				return st.holeText(oxn.Boolean, "true", false), it, nil
			}
			return st.holeText(oxn.Boolean, "false", false), it, nil
		case expr.NodeSet:
			if len(x) > 0 {
				first = item{n: x[0]}
			}
		default:
			return oxn.Hole{Type: oxn.Null}, it, nil
		}
	}
	return st.itemHole(first), first, nil
}

// itemHole is the scalar buildItem adds for it, or Type holeNode when it
// copies an object or array (or writes and parses a *dom.Node element).
func (st *state) itemHole(it item) oxn.Hole {
	if it.t.Doc != nil {
		t := it.t.Doc.Tree()
		if t.Len() == 0 {
			return oxn.Hole{Type: oxn.Null}
		}
		el := it.element()
		switch typ := t.TypeAt(el); typ {
		case oxn.Object, oxn.Array:
			return oxn.Hole{Type: holeNode}
		case oxn.Null:
			return oxn.Hole{Type: oxn.Null}
		default: // as TreeBuilder.Copy adds a scalar: its text as it is
			return st.holeText(typ, t.StringValue(el), false)
		}
	}
	n := it.n
	if n != nil {
		switch n.Type {
		case dom.TextNode:
			return st.holeText(oxn.String, n.Data, true)
		case dom.DocumentNode:
			n = n.FirstElement()
		}
	}
	if n == nil {
		return oxn.Hole{Type: oxn.Null}
	}
	switch oxn.TypeOf(n) {
	case oxn.String:
		return st.holeText(oxn.String, n.StringValue(), true)
	case oxn.Null:
		return oxn.Hole{Type: oxn.Null}
	}
	return oxn.Hole{Type: holeNode}
}

// holeText appends s to st.vtext as the text of a value of type typ; json:
// as jsonString gives it.
func (st *state) holeText(typ oxn.Type, s string, json bool) oxn.Hole {
	off := len(st.vtext)
	if json {
		st.vtext = appendJSONString(st.vtext, s)
	} else {
		st.vtext = append(st.vtext, s...)
	}
	return oxn.Hole{Type: typ, Off: int32(off), Len: int32(len(st.vtext) - off)}
}

// buildItem adds the node it as st.item writes it.
func (st *state) buildItem(b *oxn.TreeBuilder, parent int32, op *shapeOp, it item, maxDepth int) (int32, error) {
	if it.t.Doc != nil {
		t := it.t.Doc.Tree()
		if t.Len() == 0 {
			return b.Scalar(parent, op.key, oxn.Null, ""), nil
		}
		return b.Copy(parent, op.key, t, it.element(), int(op.depth), maxDepth)
	}
	n := it.n
	if n != nil {
		switch n.Type {
		case dom.TextNode:
			return b.String(parent, op.key, jsonString(n.Data)), nil
		case dom.DocumentNode:
			n = n.FirstElement()
		}
	}
	if n == nil {
		return b.Scalar(parent, op.key, oxn.Null, ""), nil
	}
	switch oxn.TypeOf(n) {
	case oxn.String:
		return b.String(parent, op.key, jsonString(n.StringValue())), nil
	case oxn.Null:
		return b.Scalar(parent, op.key, oxn.Null, ""), nil
	}
	// Another element of a *dom.Node document: written as Execute writes it
	// and parsed (rare on the paths that have shapes).
	var w bytes.Buffer
	if err := oxn.Write(&w, n); err != nil {
		return 0, err
	}
	t, err := oxn.ParseTree(w.Bytes(), maxDepth)
	if err != nil {
		return 0, err
	}
	return b.Copy(parent, op.key, t, oxn.DocIndex, int(op.depth), maxDepth)
}

// jsonString returns s as oxn.WriteString's output parses back: each byte
// that is not valid UTF-8 becomes U+FFFD.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(appendJSONString(make([]byte, 0, len(s)+8), s))
}

// appendJSONString appends jsonString(s) to dst.
func appendJSONString(dst []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(dst, s...)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// errTooDeep is the error for a shape nesting deeper than the caller's
// limit.
func errTooDeep(maxDepth int) error {
	return fmt.Errorf("oxn: nesting deeper than %d: %w", maxDepth, oxn.ErrTooDeep)
}
