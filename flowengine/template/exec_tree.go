package template

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
	"unsafe"

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
	s := t.shape
	if s == nil {
		return nil, ErrNoShape
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
		return nil, err
	}
	if s.depth > maxDepth {
		return nil, st.errorf(0, errTooDeep(maxDepth))
	}
	b := &st.b
	// The text of the last tree built, or the literal text and a short
	// value each: one allocation of about the right size.
	textHint := int(t.treeText.Load())
	if textHint == 0 {
		textHint = s.text + 16*s.holes
	}
	arena.StartBuilder(b, "", len(s.ops), textHint) // a nil arena allocates
	st.elems = append(st.elems[:0], 0)              // the root
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
		default:
			var err error
			if el, err = st.buildValue(b, parent, op, maxDepth); err != nil {
				return nil, err
			}
		}
		st.elems = append(st.elems, el)
	}
	tree := arena.BuiltTree(b)
	if n := min(tree.TextLen(), maxTreeTextHint); n > textHint || 2*n < textHint {
		t.treeText.Store(int32(n))
	}
	if n := tree.TextLen() + 4*tree.Len(); n > 0 {
		if err := st.ctx.Budget.Output(int64(n)); err != nil {
			return nil, st.errorf(len(t.src), err)
		}
	}
	return tree, nil
}

// maxTreeTextHint bounds the text ExecuteTree allocates in advance.
const maxTreeTextHint = 16 << 10

// buildValue evaluates the {{ expr }} of op and adds its value under
// parent as the element parsing Execute's text for it gives.
func (st *state) buildValue(b *oxn.TreeBuilder, parent int32, op *shapeOp, maxDepth int) (int32, error) {
	n := &st.t.nodes[op.hole]
	s, isString, first, v, err := st.evalValue(n)
	if err != nil {
		return 0, err
	}
	if isString {
		return b.String(parent, op.key, jsonString(s)), nil
	}
	if v != nil {
		switch x := v.(type) {
		case string:
			return b.String(parent, op.key, jsonString(x)), nil
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return b.Scalar(parent, op.key, oxn.Null, ""), nil
			}
			st.scratch = appendNumber(st.scratch[:0], x)
			return b.Scalar(parent, op.key, oxn.Number, unsafe.String(unsafe.SliceData(st.scratch), len(st.scratch))), nil
		case bool:
			if x {
				return b.Scalar(parent, op.key, oxn.Boolean, "true"), nil
			}
			return b.Scalar(parent, op.key, oxn.Boolean, "false"), nil
		case expr.NodeSet:
			if len(x) > 0 {
				first = item{n: x[0]}
			}
		default:
			return b.Scalar(parent, op.key, oxn.Null, ""), nil
		}
	}
	el, err := st.buildItem(b, parent, op, first, maxDepth)
	if err != nil {
		return 0, st.errorf(n.pos, err)
	}
	return el, nil
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
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return string(out)
}

// errTooDeep is the error for a shape nesting deeper than the caller's
// limit.
func errTooDeep(maxDepth int) error {
	return fmt.Errorf("oxn: nesting deeper than %d: %w", maxDepth, oxn.ErrTooDeep)
}
