package template

import (
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// Element is one element of a shaped template's output (Elements): the
// root object, an object or array inside it, a constant scalar, or a
// {{ expr }} value.
type Element struct {
	// Parent is the index of the enclosing object or array in Elements;
	// -1 for the root object.
	Parent int
	// Key is the member key; "" for the root and for array items.
	Key string
	// Type is Object, Array or a constant's type; String for a value.
	Type oxn.Type
	// Text is a constant scalar's text.
	Text string
	// Value marks a {{ expr }} value, known only when the template runs.
	Value bool
}

// Elements returns the elements of t's output in document order, the root
// object first, or nil when t has no shape. A caller uses it when it
// compiles what it will do with the output: what the constants say, and
// where each value of ExecuteValues goes.
func (t *Template) Elements() []Element {
	s := t.shape
	if s == nil {
		return nil
	}
	els := make([]Element, len(s.ops))
	for i, op := range s.ops {
		els[i] = Element{Parent: int(op.parent), Key: op.key, Type: op.typ, Text: op.text, Value: op.hole >= 0}
	}
	return els
}

// HasDirectValues reports whether ExecuteValues may give t's values: t has
// a shape, and every value is one expression (no "??" chain).
func (t *Template) HasDirectValues() bool { return t.shape != nil && t.shape.single }

// ExecuteValues runs a shaped template for a caller that knows its
// constant elements (Elements) and needs only its values. When the scope
// answers every value as a scalar without evaluating it (as
// ExecuteRecord's direct path reads FLAT's $request/id,
// $upstream/main/status and $cfg/service), it returns them, one Field per
// value in document order with the key of its member ("" for an array
// item, as Elements has it), and charges
// c.Budget the output ExecuteTree charges. The texts are the scope's own
// strings: nothing is copied and no state or tree is used.
//
// ok is false, with nothing charged, when a value is anything else, when
// the shape is deeper than maxDepth, or when c has ended or is over its
// budget: the caller then runs ExecuteTree, which reads the same values
// again (the scopes' answers are reads without effects) and gives the
// error or the tree.
func (t *Template) ExecuteValues(c *expr.Context, maxDepth int, out []Field) (fs []Field, ok bool, err error) {
	s := t.shape
	if maxDepth <= 0 {
		maxDepth = oxn.DefaultMaxDepth // as ExecuteTree
	}
	if s == nil || s.depth > maxDepth {
		return nil, false, nil
	}
	return t.directFields(c, out, false)
}
