package template

import (
	"errors"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// ErrNotRecord is returned by ExecuteRecord for a template that is not a
// record (IsRecord false).
var ErrNotRecord = errors.New("template: output is not an object of scalars")

// Field is one member of a record's output: its key, its type (String,
// Number, Boolean or Null) and its text, as the element of ExecuteTree's
// tree for it has them (Tree.Key, Tree.TypeAt, Tree.StringValue).
type Field struct {
	Key  string
	Type oxn.Type
	Text string
}

// IsRecord reports whether t has a shape whose object holds no object or
// array of its own: every member is a literal scalar or a {{ expr }}
// value, as in a set-response-headers object. ExecuteRecord runs such a
// template without building a tree when every value turns out a scalar.
func (t *Template) IsRecord() bool { return t.shape != nil && t.shape.record }

// ExecuteRecord runs a template that IsRecord as ExecuteTree does, with the
// same errors and the same output charged to c.Budget. When every value is
// a scalar, it returns the members of the output object in document order,
// appended to out[:0], and no tree; the texts of the values are copied
// once, into arena's text when arena is not nil. When a value is an object
// or an array (a node the expression selected), it returns ExecuteTree's
// tree instead, and no fields.
//
// A record whose values the scope answers without evaluating them
// (directRecord: FLAT's $request/id, $upstream/main/status, $cfg/service)
// is given without a state, a copy of the texts or a tree: the values'
// strings are the scope's own.
func (t *Template) ExecuteRecord(c *expr.Context, arena *oxn.TreeArena, maxDepth int, out []Field) ([]Field, *oxn.Tree, error) {
	if fs, ok, err := t.directRecord(c, out); ok {
		return fs, nil, err
	}
	return t.executeShape(c, arena, maxDepth, out, true)
}

// directRecord gives the fields of a record whose every value directValue
// reads, with the output charged that the full path charges. ok is false
// when a value is anything else, or when c has ended or is over its
// budget: ExecuteRecord then runs the full path, which reads the same
// values again (the scopes' answers are reads without effects) and gives
// the error.
func (t *Template) directRecord(c *expr.Context, out []Field) (fs []Field, ok bool, err error) {
	if t.shape == nil || !t.shape.direct {
		return nil, false, nil
	}
	return t.directFields(c, out, true)
}

// directFields reads every value of a shape whose values are single
// expressions with directValue, and appends them to out[:0] in document
// order, each after the constant members before it when constants is set
// (a record's members). It charges the output ExecuteTree charges for the
// same values. ok is false, with nothing charged, when a value is not one
// directValue reads, or when c has ended or is over its budget.
func (t *Template) directFields(c *expr.Context, out []Field, constants bool) (fs []Field, ok bool, err error) {
	s := t.shape
	if !s.single || c == nil || c.Scope == nil {
		return nil, false, nil
	}
	if c.Ctx != nil && c.Ctx.Err() != nil || c.Budget.Err() != nil {
		return nil, false, nil
	}
	out = out[:0]
	text := 0
	for i := 1; i < len(s.ops); i++ {
		op := &s.ops[i]
		if op.hole < 0 {
			if constants {
				out = append(out, Field{Key: op.key, Type: op.typ, Text: op.text})
			}
			continue
		}
		f, ok := directValue(c, t.nodes[op.hole].chain[0].e)
		if !ok {
			return nil, false, nil
		}
		f.Key = op.key
		text += len(f.Text)
		out = append(out, f)
	}
	if err := t.chargeOutputOf(c.Budget, s.skel.TextLen()+text, s.skel.Len()); err != nil {
		return nil, true, err
	}
	return out, true, nil
}

// directValue reads the value of e as evalHole would, when the scope
// answers it as a scalar (expr.ScalarScope), a string member
// (expr.MemberScope) or a scalar element of a tree it holds (expr.TreeVar),
// and its text needs no conversion: evalHole asks in the same order, copies
// a tree's text as it is, and replaces the bytes of a string that are not
// UTF-8. ok is false for any other value.
func directValue(c *expr.Context, e *expr.Expr) (f Field, ok bool) {
	if sv, ok := e.Scalar(c); ok {
		f.Type, f.Text = sv.Type, sv.Text
	} else if v, ok := stringMember(c, e); ok {
		f.Type, f.Text = oxn.String, v
	} else if tn, ok, err := e.EvalFirstTree(c); err == nil && ok && tn.Doc != nil {
		tr := tn.Doc.Tree()
		if tr.Len() == 0 {
			return f, false
		}
		el := item{t: tn}.element()
		switch typ := tr.TypeAt(el); typ {
		case oxn.String, oxn.Number, oxn.Boolean:
			return Field{Type: typ, Text: tr.StringValue(el)}, true
		}
		return f, false
	} else {
		return f, false
	}
	switch f.Type {
	case oxn.Number, oxn.Boolean:
		return f, true
	case oxn.String:
		return f, utf8.ValidString(f.Text) // else holeText replaces bytes
	}
	return f, false
}

// record appends the fields of a record whose values st.holes holds, all
// scalars, to out[:0], and charges the output the tree would have.
func (st *state) record(arena *oxn.TreeArena, out []Field) ([]Field, error) {
	s := st.t.shape
	text := arena.Text(st.vtext) // as FillSkeleton copies it
	if err := st.chargeTree(s.skel.TextLen()+len(text), s.skel.Len()); err != nil {
		return nil, err
	}
	out = out[:0]
	k := 0
	for i := 1; i < len(s.ops); i++ {
		op := &s.ops[i]
		if op.hole < 0 {
			out = append(out, Field{Key: op.key, Type: op.typ, Text: op.text})
			continue
		}
		h := st.holes[k]
		k++
		f := Field{Key: op.key, Type: h.Type}
		if h.Type != oxn.Null {
			f.Text = text[h.Off : h.Off+h.Len]
		}
		out = append(out, f)
	}
	return out, nil
}
