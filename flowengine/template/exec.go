package template

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// state is the per-execution scratch space; it is pooled so that Execute
// allocates nothing of its own.
type state struct {
	t     *Template
	ctx   expr.Context
	scope locals
	w     writer
	// mark is the output length already charged to the budget.
	mark int
	// scratch holds a string function's result on its way into the output
	// (opValue); it is overwritten before each use, and kept with the
	// pooled state unless it grew past maxScratch.
	scratch []byte
	// elems maps the ops of a shape to the tree elements built for them
	// (ExecuteTree).
	elems []int32
	b     oxn.TreeBuilder
	// holes, holeItems and vtext are the values of a shape (ExecuteTree):
	// scalars with their texts in vtext, or nodes to copy.
	holes     []oxn.Hole
	holeItems []item
	vtext     []byte
}

// maxScratch is the largest scratch buffer a pooled state keeps.
const maxScratch = 4 << 10

var statePool = sync.Pool{New: func() any { return new(state) }}

// locals is the Scope of one execution: the template's local variables over
// the caller's scope. A local shadows a global of the same name from its
// first assignment on.
type locals struct {
	parent expr.Scope
	names  []string
	vals   []expr.Value
	set    []bool
}

// local returns the index of the local name once it is assigned, else -1.
func (l *locals) local(name string) int {
	for i, n := range l.names {
		if l.set[i] && n == name {
			return i
		}
	}
	return -1
}

// TreeVar implements expr.TreeScope: a global held as an *oxn.Doc, unless
// a local shadows it.
func (l *locals) TreeVar(name string) (expr.TreeNode, bool) {
	if l.local(name) >= 0 {
		return expr.TreeNode{}, false
	}
	if ts, ok := l.parent.(expr.TreeScope); ok {
		return ts.TreeVar(name)
	}
	return expr.TreeNode{}, false
}

// StringMember implements expr.MemberScope: a local of that name shadows
// the caller's variable.
func (l *locals) StringMember(name, member string) (string, bool) {
	if l.local(name) >= 0 {
		return "", false
	}
	if ms, ok := l.parent.(expr.MemberScope); ok {
		return ms.StringMember(name, member)
	}
	return "", false
}

// MemberNode implements expr.MemberNodeScope: a local of that name
// shadows the caller's variable.
func (l *locals) MemberNode(name, member string) (*dom.Node, bool) {
	if l.local(name) >= 0 {
		return nil, false
	}
	if ms, ok := l.parent.(expr.MemberNodeScope); ok {
		return ms.MemberNode(name, member)
	}
	return nil, false
}

// Scalar implements expr.ScalarScope: a local of that name shadows the
// caller's variable.
func (l *locals) Scalar(name string, path []string) (expr.ScalarValue, bool) {
	if l.local(name) >= 0 {
		return expr.ScalarValue{}, false
	}
	if ss, ok := l.parent.(expr.ScalarScope); ok {
		return ss.Scalar(name, path)
	}
	return expr.ScalarValue{}, false
}

// Var implements expr.Scope.
func (l *locals) Var(name string) (expr.Value, bool) {
	if i := l.local(name); i >= 0 {
		return l.vals[i], true
	}
	if l.parent != nil {
		return l.parent.Var(name)
	}
	return nil, false
}

// emptyContext stands in for a nil *expr.Context.
var emptyContext expr.Context

// errNilBuffer is returned by Execute when it has nowhere to write.
var errNilBuffer = errors.New("template: Execute with a nil buffer")

// Execute runs the template against c and appends the JSON text to w. c.Node
// is the context node "."; c.Scope supplies the global variables, which the
// template's locals shadow; a nil c is an empty context. Evaluation errors
// and a cancelled c.Ctx are returned wrapped with the template position (use
// errors.Is / errors.As); on error w is truncated to its length on entry.
// The output is charged to c.Budget after every loop iteration and at the
// end, and every loop iteration checks the budget's context, so a run over
// its output budget (*budget.ExceededError) or cancelled stops promptly.
func (t *Template) Execute(c *expr.Context, w *bytes.Buffer) error {
	if w == nil {
		return errNilBuffer
	}
	if c == nil {
		c = &emptyContext
	}
	start := w.Len()
	st := t.newState(c)
	st.w.reset(w)
	st.mark = start
	err := st.checkCtx(0)
	if err == nil {
		err = st.run(t.nodes)
	}
	if err == nil {
		st.w.finish()
		err = st.chargeOutput(len(t.src))
	}
	if err != nil {
		w.Truncate(start)
	}
	st.release()
	return err
}

// newState returns a pooled state set up to run t against c (not nil).
func (t *Template) newState(c *expr.Context) *state {
	st := statePool.Get().(*state)
	st.t = t
	st.ctx = *c
	if n := len(t.locals); n > 0 {
		st.scope.parent = c.Scope
		st.scope.names = t.locals
		if cap(st.scope.vals) < n {
			st.scope.vals = make([]expr.Value, n)
			st.scope.set = make([]bool, n)
		}
		st.scope.vals = st.scope.vals[:n]
		st.scope.set = st.scope.set[:n]
		st.ctx.Scope = &st.scope
	}
	return st
}

// release drops st's references and returns it to the pool.
func (st *state) release() {
	clear(st.scope.vals)
	clear(st.scope.set)
	st.scope.parent, st.scope.names = nil, nil
	st.ctx = expr.Context{}
	st.t = nil
	st.w.b = nil
	if cap(st.scratch) > maxScratch {
		st.scratch = nil
	}
	if cap(st.elems) > maxScratch {
		st.elems = nil
	}
	if cap(st.vtext) > maxScratch {
		st.vtext = nil
	}
	if cap(st.holes) > maxScratch {
		st.holes = nil
	}
	clear(st.holeItems[:cap(st.holeItems)]) // they refer to documents
	if cap(st.holeItems) > maxScratch {
		st.holeItems = nil
	}
	st.holeItems = st.holeItems[:0]
	st.b = oxn.TreeBuilder{} // an ExecuteTree that failed leaves its build here
	statePool.Put(st)
}

// checkCtx reports a cancelled or expired request context (c.Ctx or the
// context of c.Budget).
func (st *state) checkCtx(pos int) error {
	if st.ctx.Ctx != nil {
		if err := st.ctx.Ctx.Err(); err != nil {
			return st.errorf(pos, err)
		}
	}
	if err := st.ctx.Budget.Err(); err != nil {
		return st.errorf(pos, err)
	}
	return nil
}

// chargeOutput charges the output written since the last charge to the
// run's output budget.
func (st *state) chargeOutput(pos int) error {
	n := st.w.b.Len() - st.mark
	if n <= 0 {
		return nil
	}
	st.mark = st.w.b.Len()
	if err := st.ctx.Budget.Output(int64(n)); err != nil {
		return st.errorf(pos, err)
	}
	return nil
}

// errorf wraps a runtime error with its template position.
func (st *state) errorf(pos int, err error) error { return st.t.errorAt(pos, err) }

// errorAt wraps err with the line and column of the byte pos of t's source.
func (t *Template) errorAt(pos int, err error) error {
	line, col := lineCol(t.src, pos)
	return fmt.Errorf("template line %d col %d: %w", line, col, err)
}

// run executes a node list.
func (st *state) run(ns []node) error {
	for i := range ns {
		n := &ns[i]
		switch n.kind {
		case opText:
			st.w.text(n.text)
		case opComma:
			st.w.comma()
		case opDot:
			if err := st.item(itemOf(&st.ctx)); err != nil {
				return st.errorf(n.pos, err)
			}
		case opValue:
			if sv, ok := st.scalar(n); ok {
				st.w.scalar(sv)
				continue
			}
			s, isString, first, v, err := st.evalValue(n)
			switch {
			case err != nil:
				return err
			case isString:
				st.w.string(s)
				continue
			case v != nil:
				err = st.value(v)
			default:
				err = st.item(first)
			}
			if err != nil {
				return st.errorf(n.pos, err)
			}
		case opSet:
			v, err := st.eval(n.chain)
			if err != nil {
				return err
			}
			st.scope.vals[n.slot] = v
			st.scope.set[n.slot] = true
		case opPairs:
			if err := st.pairs(n); err != nil {
				return err
			}
		case opIf:
			if err := st.ifBlock(n); err != nil {
				return err
			}
		case opLoop:
			if err := st.loop(n); err != nil {
				return err
			}
		case opWith:
			if err := st.with(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// evalValue evaluates the {{ expr }} node n: a string s (isString; it may
// be st.scratch, valid until the next evaluation), or, as evalFirst gives
// them, the first node of a node-set or a scalar value.
func (st *state) evalValue(n *node) (s string, isString bool, first item, v expr.Value, err error) {
	if len(n.chain) == 1 {
		if v, ok := st.stringMember(n.chain[0].e); ok {
			return v, true, item{}, nil, nil
		}
		// A string function's result goes straight into the output,
		// never boxed (expr.Expr.AppendString).
		buf, ok, err := n.chain[0].e.AppendString(&st.ctx, st.scratch[:0])
		if err != nil {
			return "", false, item{}, nil, st.errorf(n.chain[0].off, err)
		}
		if ok {
			st.scratch = buf
			return unsafe.String(unsafe.SliceData(buf), len(buf)), true, item{}, nil, nil
		}
	}
	first, v, err = st.evalFirst(n.chain)
	return "", false, first, v, err
}

// scalar returns the value of the {{ expr }} node n when it is one plain
// path whose scalar the scope has without building its variable
// (expr.ScalarScope: FLAT's {{ $upstream/main/status }}).
func (st *state) scalar(n *node) (expr.ScalarValue, bool) {
	if len(n.chain) != 1 {
		return expr.ScalarValue{}, false
	}
	return n.chain[0].e.Scalar(&st.ctx)
}

// stringMember returns the value of e when e is $name/member and the scope
// has it as a string member without building $name (expr.MemberScope:
// FLAT's {{ $request/id }}).
func (st *state) stringMember(e *expr.Expr) (string, bool) { return stringMember(&st.ctx, e) }

// stringMember is state.stringMember for the scope of c.
func stringMember(c *expr.Context, e *expr.Expr) (string, bool) {
	name, member, ok := e.VarMember()
	if !ok {
		return "", false
	}
	ms, ok := c.Scope.(expr.MemberScope)
	if !ok {
		return "", false
	}
	return ms.StringMember(name, member)
}

// eval evaluates a "??" chain: the first operand whose value is not null.
// When all are null the last operand's value is returned.
func (st *state) eval(c chain) (expr.Value, error) {
	var v expr.Value
	for i := range c {
		var err error
		v, err = c[i].e.Eval(&st.ctx)
		if err != nil {
			return nil, st.errorf(c[i].off, err)
		}
		if !isNull(v) {
			return v, nil
		}
	}
	return v, nil
}

// evalFirst is eval for callers that use only the first node of a
// node-set: it returns that node (none for an empty set) and a nil Value,
// or no node and the scalar value (see expr.Expr.EvalFirst). A simple path
// over a Tree gives a Tree node, not materialised.
func (st *state) evalFirst(c chain) (item, expr.Value, error) {
	var it item
	var v expr.Value
	for i := range c {
		tn, ok, err := c[i].e.EvalFirstTree(&st.ctx)
		if err != nil {
			return item{}, nil, st.errorf(c[i].off, err)
		}
		if ok {
			it, v = item{t: tn}, nil
		} else {
			var n *dom.Node
			n, v, err = c[i].e.EvalFirst(&st.ctx)
			if err != nil {
				return item{}, nil, st.errorf(c[i].off, err)
			}
			it = item{n: n}
		}
		if v != nil || !it.isNull() {
			return it, v, nil
		}
	}
	return it, v, nil
}

// isNull reports whether v counts as null for "??" and {{with}}: an empty
// node-set, or a node-set whose first node is an OXN null.
func isNull(v expr.Value) bool {
	switch x := v.(type) {
	case nil:
		return true
	case expr.NodeSet:
		if len(x) == 0 {
			return true
		}
		return isNullNode(x[0])
	}
	return false
}

// isNullNode reports whether a node-set whose first node is n counts as
// null (see isNull); n == nil stands for an empty node-set.
func isNullNode(n *dom.Node) bool {
	if n == nil {
		return true
	}
	if n.Type == dom.DocumentNode {
		n = n.FirstElement()
		if n == nil {
			return true
		}
	}
	return n.Type == dom.ElementNode && oxn.TypeOf(n) == oxn.Null
}

// value writes v as a typed JSON value.
func (st *state) value(v expr.Value) error {
	switch x := v.(type) {
	case string:
		st.w.string(x)
	case float64:
		st.w.number(x)
	case bool:
		st.w.bool(x)
	case expr.NodeSet:
		if len(x) == 0 {
			st.w.null()
			return nil
		}
		return st.node(x[0])
	default:
		st.w.null()
	}
	return nil
}

// node writes n as a typed JSON value: an OXN element by its type, an
// untyped element as oxn.Write does, an attribute or text node as a string,
// a document as its root element.
func (st *state) node(n *dom.Node) error {
	if n == nil {
		st.w.null()
		return nil
	}
	switch n.Type {
	case dom.TextNode:
		st.w.string(n.Data)
		return nil
	case dom.DocumentNode:
		n = n.FirstElement()
		if n == nil {
			st.w.null()
			return nil
		}
	}
	st.w.beginValue()
	st.w.last = 'v'
	return oxn.Write(st.w.b, n)
}

// pairs runs a pair producer: `"name":value` for every selected element or
// attribute, each followed by a pending comma.
func (st *state) pairs(n *node) error {
	v, err := st.eval(n.chain)
	if err != nil {
		return err
	}
	ns, _ := v.(expr.NodeSet)
	for _, x := range ns {
		if x == nil {
			continue
		}
		if x.Type == dom.DocumentNode {
			if x = x.FirstElement(); x == nil {
				continue
			}
		}
		if x.Name == "" {
			continue // plain text nodes have no key
		}
		name := oxn.Key(x) // json-element: its name attribute
		st.w.key(name)
		if err := st.node(x); err != nil {
			return st.errorf(n.pos, err)
		}
		st.w.comma()
	}
	return nil
}

// ifBlock runs the first branch whose condition is true (XPath boolean()),
// else the else part.
func (st *state) ifBlock(n *node) error {
	for i := range n.conds {
		b := &n.conds[i]
		ok, err := st.evalBool(b.cond)
		if err != nil {
			return err
		}
		if ok {
			return st.run(b.body)
		}
	}
	return st.run(n.els)
}

// with runs the body with "." set to the result, or the else part when the
// result is null (see isNull), false or "".
func (st *state) with(n *node) error {
	first, v, err := st.evalFirst(n.chain)
	if err != nil {
		return err
	}
	var dot item
	switch x := v.(type) {
	case nil:
		if !first.isNull() {
			dot = first
		}
	case bool:
		if x {
			dot.n = oxn.NewBool("value", true)
		}
	case string:
		if x != "" {
			dot.n = oxn.NewString("value", x)
		}
	case float64:
		if !math.IsNaN(x) {
			dot.n = oxn.NewNumber("value", x)
		}
	}
	if dot.none() {
		return st.run(n.els)
	}
	saved := itemOf(&st.ctx)
	dot.setDot(&st.ctx)
	err = st.run(n.body)
	saved.setDot(&st.ctx)
	return err
}

// loop runs the body once per item with "." set to the item and a pending
// comma after each item. Items are: the children of a single OXN array
// (a document counts as its root element); nothing for a single OXN null;
// otherwise every node of the node-set. Scalars give no items.
func (st *state) loop(n *node) error {
	if len(n.chain) == 1 {
		var buf [8]expr.TreeNode
		tns, ok, err := n.chain[0].e.EvalTreeNodes(&st.ctx, buf[:0])
		if err != nil {
			return st.errorf(n.chain[0].off, err)
		}
		if ok {
			if len(tns) == 0 {
				return nil
			}
			saved := itemOf(&st.ctx)
			err = st.treeItems(n, tns)
			saved.setDot(&st.ctx)
			return err
		}
	}
	v, err := st.eval(n.chain)
	if err != nil {
		return err
	}
	ns, _ := v.(expr.NodeSet)
	if len(ns) == 0 {
		return nil
	}
	saved := itemOf(&st.ctx)
	err = st.items(n, ns)
	saved.setDot(&st.ctx)
	return err
}

// items runs the loop body for the items of ns (see loop).
func (st *state) items(n *node, ns expr.NodeSet) error {
	if len(ns) == 1 && ns[0] != nil {
		x := ns[0]
		if x.Type == dom.DocumentNode {
			if x = x.FirstElement(); x == nil {
				return nil
			}
		}
		if x.Type == dom.ElementNode {
			switch oxn.TypeOf(x) {
			case oxn.Array:
				for c := x.FirstChild; c != nil; {
					next := c.NextSibling
					if c.Type == dom.ElementNode {
						if err := st.iter(n, item{n: c}); err != nil {
							return err
						}
					}
					c = next
				}
				return nil
			case oxn.Null:
				return nil
			}
		}
	}
	for _, x := range ns {
		if x == nil {
			continue
		}
		if err := st.iter(n, item{n: x}); err != nil {
			return err
		}
	}
	return nil
}

// iter runs one loop iteration.
func (st *state) iter(n *node, dot item) error {
	if err := st.checkCtx(n.pos); err != nil {
		return err
	}
	dot.setDot(&st.ctx)
	if err := st.run(n.body); err != nil {
		return err
	}
	st.w.comma()
	return st.chargeOutput(n.pos)
}
