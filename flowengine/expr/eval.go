package expr

import (
	"errors"
	"fmt"
	"sync"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// ErrEval is wrapped by errors that come from the XPath engine itself
// (a run-time type error it reports by panicking, e.g. sum('x')).
var ErrEval = errors.New("expr: evaluation failed")

// emptyContext is used for a nil *Context. It is never modified.
var emptyContext Context

// Eval evaluates e. The result is a string, float64, bool or NodeSet.
// Node-sets hold the original nodes (never internal mounts); an attribute
// in a result is returned as a detached TextNode whose Name is the
// attribute's name and whose Data is its value.
//
// Eval first checks c.Ctx for cancellation. Errors from extension functions
// and the engine are returned wrapped; Eval never panics.
func (e *Expr) Eval(c *Context) (v Value, err error) {
	if c == nil {
		c = &emptyContext
	}
	if err := e.cancelled(c); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, e.panicked(r)
		}
	}()
	switch e.kind {
	case kConst:
		return e.konst, nil
	case kVar:
		return lookupVar(c, e.name), nil
	case kCall:
		return e.site.eval(c)
	case kFastPath:
		return e.fpath.eval(c), nil
	case kFastCmp:
		return e.fcmp.eval(c), nil
	case kCallCmp:
		return e.ccmp.eval(c)
	case kConcat:
		return evalConcat(c, e.cat)
	case kAgg:
		return e.agg.eval(c), nil
	case kFastRel:
		return e.frel.eval(c), nil
	}
	return e.evalXPath(c)
}

// cancelled is the error Eval returns when c's context has ended.
func (e *Expr) cancelled(c *Context) error {
	if c.Ctx != nil {
		if err := c.Ctx.Err(); err != nil {
			return fmt.Errorf("expr: %s: %w", e.src, err)
		}
	}
	return nil
}

// panicked is the error Eval returns for a panic r during the evaluation.
func (e *Expr) panicked(r any) error {
	return fmt.Errorf("%w: %s: %v", ErrEval, e.src, r)
}

// EvalFirst evaluates e for a caller that reads at most the first node of
// a node-set result. For a node-set it returns that node (nil when the set
// is empty) and a nil Value; otherwise it returns a nil node and the
// scalar result (string, float64 or bool). Simple paths are evaluated
// without building the node-set. Errors are those of Eval.
func (e *Expr) EvalFirst(c *Context) (first *dom.Node, scalar Value, err error) {
	if e.kind == kFastPath {
		n, err := e.first(c)
		return n, nil, err
	}
	v, err := e.Eval(c)
	if err != nil {
		return nil, nil, err
	}
	if ns, ok := v.(NodeSet); ok {
		if len(ns) > 0 {
			return ns[0], nil, nil
		}
		return nil, nil, nil
	}
	return nil, v, nil
}

// first evaluates a kFastPath expression to its first node, with Eval's
// cancellation check and panic recovery.
func (e *Expr) first(c *Context) (n *dom.Node, err error) {
	if c == nil {
		c = &emptyContext
	}
	if c.Ctx != nil {
		if err := c.Ctx.Err(); err != nil {
			return nil, fmt.Errorf("expr: %s: %w", e.src, err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, e.panicked(r)
		}
	}()
	return e.fpath.first(c), nil
}

// firstString is first for a caller that needs only the string-value: a
// Tree node is not materialised.
func (e *Expr) firstString(c *Context) (s string, err error) {
	if c == nil {
		c = &emptyContext
	}
	if c.Ctx != nil {
		if err := c.Ctx.Err(); err != nil {
			return "", fmt.Errorf("expr: %s: %w", e.src, err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = "", e.panicked(r)
		}
	}()
	s, _ = e.fpath.firstString(c)
	return s, nil
}

// exists is first for a caller that needs only whether there is a node.
func (e *Expr) exists(c *Context) (ok bool, err error) {
	if c == nil {
		c = &emptyContext
	}
	if c.Ctx != nil {
		if err := c.Ctx.Err(); err != nil {
			return false, fmt.Errorf("expr: %s: %w", e.src, err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, e.panicked(r)
		}
	}()
	return e.fpath.exists(c), nil
}

// EvalString evaluates e and converts the result with String.
func (e *Expr) EvalString(c *Context) (string, error) {
	if e.kind == kFastPath {
		return e.firstString(c)
	}
	v, err := e.Eval(c)
	if err != nil {
		return "", err
	}
	return String(v), nil
}

// EvalBool evaluates e and converts the result with Bool.
func (e *Expr) EvalBool(c *Context) (bool, error) {
	if e.kind == kFastPath {
		return e.exists(c)
	}
	v, err := e.Eval(c)
	if err != nil {
		return false, err
	}
	return Bool(v), nil
}

// EvalNumber evaluates e and converts the result with Number.
func (e *Expr) EvalNumber(c *Context) (float64, error) {
	v, err := e.Eval(c)
	if err != nil {
		return 0, err
	}
	return Number(v), nil
}

// EvalNodes evaluates e and returns its node-set; a result that is not a
// node-set gives an empty set and no error.
func (e *Expr) EvalNodes(c *Context) (NodeSet, error) {
	v, err := e.Eval(c)
	if err != nil {
		return nil, err
	}
	ns, _ := v.(NodeSet)
	return ns, nil
}

// lookupVar returns $name's value, an empty node-set when undefined.
func lookupVar(c *Context, name string) Value {
	if c.Scope == nil {
		return NodeSet(nil)
	}
	v, ok := c.Scope.Var(name)
	if !ok {
		return NodeSet(nil)
	}
	return normalize(v)
}

// normalize maps the Go values a Scope or a function may return onto the
// four Value types.
func normalize(v Value) Value {
	switch x := v.(type) {
	case string, float64, bool, NodeSet:
		return v
	case nil:
		return NodeSet(nil)
	case *dom.Node:
		if x == nil {
			return NodeSet(nil)
		}
		return NodeSet{x}
	case []*dom.Node:
		return NodeSet(x)
	case *oxn.Doc:
		if x == nil {
			return NodeSet(nil)
		}
		return NodeSet{x.Document()}
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	}
	return fmt.Sprint(v)
}

func (s *callSite) eval(c *Context) (Value, error) {
	if s.str != nil {
		a, err := s.args[0].EvalString(c)
		if err != nil {
			return nil, err
		}
		return s.str(a), nil
	}
	args := make([]Value, len(s.args))
	for i, a := range s.args {
		v, err := a.Eval(c)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	v, err := s.call(c, args)
	if err != nil {
		return nil, fmt.Errorf("%s(): %w", s.fn.Name, err)
	}
	return normalize(v), nil
}

// evalState is the per-evaluation scratch space, pooled.
type evalState struct {
	nav    dom.Navigator
	mounts []dom.Mount
}

var statePool = sync.Pool{New: func() any { return new(evalState) }}

func (e *Expr) evalXPath(c *Context) (Value, error) {
	st := statePool.Get().(*evalState)
	mounts := st.mounts[:0]
	for _, s := range e.slots {
		var v Value
		if s.site == nil {
			v = lookupVar(c, s.varName)
		} else {
			var err error
			if v, err = s.site.eval(c); err != nil {
				clear(mounts)
				st.mounts = mounts[:0]
				statePool.Put(st)
				return nil, err
			}
		}
		mounts = append(mounts, dom.Mount{Name: s.mount, Nodes: mountNodes(v)})
	}
	st.mounts = mounts
	st.nav.Reset(c.contextNode(), mounts)
	x, err := e.pool.get()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrEval, e.src, err)
	}
	// A panic in the engine leaves x and st to the garbage collector.
	res := x.Evaluate(&st.nav)
	var out Value
	if it, ok := res.(*xpath.NodeIterator); ok {
		out = collect(it, e.union)
		e.pool.put(x)
	} else {
		out = normalize(res)
		// Scalar evaluations may leave navigators (and through them the
		// evaluated trees) in the engine's iterators; run it once over an
		// empty tree so a pooled instance retains nothing of this request.
		st.nav.Reset(nil, nil)
		if resetEngine(x, &st.nav) {
			e.pool.put(x)
		}
	}
	clear(mounts)
	st.mounts = mounts[:0]
	st.nav.Reset(nil, nil)
	statePool.Put(st)
	return out, nil
}

// resetEngine evaluates x over an empty tree; it reports false when the
// engine failed (the instance is then dropped).
func resetEngine(x *xpath.Expr, nav *dom.Navigator) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	x.Evaluate(nav)
	return true
}

// collect maps the engine's node iterator back to dom nodes. With dedup it
// drops repeated nodes (a union may reach one node through a variable and
// through the context tree).
func collect(it *xpath.NodeIterator, dedup bool) NodeSet {
	var out NodeSet
	for it.MoveNext() {
		nav, ok := it.Current().(*dom.Navigator)
		if !ok || nav.MountIndex() >= 0 {
			continue
		}
		n := nav.Node()
		if n == nil {
			continue
		}
		if i := nav.AttrIndex(); i >= 0 {
			a := n.Attrs[i]
			n = &dom.Node{Type: dom.TextNode, Name: a.Name, Data: a.Value}
		}
		if dedup && n.Type != dom.TextNode && contains(out, n) {
			continue
		}
		out = append(out, n)
	}
	return out
}

func contains(ns NodeSet, n *dom.Node) bool {
	for _, m := range ns {
		if m == n {
			return true
		}
	}
	return false
}

// scalarMount holds a scalar's text node and the one-element slice that
// mounts it, in one allocation.
type scalarMount struct {
	n dom.Node
	s [1]*dom.Node
}

func textNodes(s string) []*dom.Node {
	m := &scalarMount{n: dom.Node{Type: dom.TextNode, Data: s}}
	m.s[0] = &m.n
	return m.s[:]
}

// mountNodes returns the nodes a value mounts as: a node-set its nodes, a
// string or number one text node, true the text "true", false and empty
// node-sets nothing.
func mountNodes(v Value) []*dom.Node {
	switch x := v.(type) {
	case NodeSet:
		for _, n := range x {
			if n == nil {
				return compact(x)
			}
		}
		return x
	case string:
		return textNodes(x)
	case float64:
		return textNodes(FormatNumber(x))
	case bool:
		if x {
			return textNodes("true")
		}
		return nil
	}
	return nil
}

func compact(ns NodeSet) []*dom.Node {
	out := make([]*dom.Node, 0, len(ns))
	for _, n := range ns {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// xpool holds idle engine instances of one expression: the antchfx engine
// keeps evaluation state in its compiled query, so one instance serves one
// evaluation at a time. A new instance is compiled only when every idle one
// is busy (the pool grows to the expression's peak concurrency and then
// stays warm; it is not emptied by garbage collection).
type xpool struct {
	src  string
	mu   sync.Mutex
	free []*xpath.Expr
}

// maxIdle bounds the idle instances kept per expression.
const maxIdle = 64

func (p *xpool) get() (*xpath.Expr, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		x := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return x, nil
	}
	p.mu.Unlock()
	return xpath.Compile(p.src)
}

func (p *xpool) put(x *xpath.Expr) {
	p.mu.Lock()
	if len(p.free) < maxIdle {
		p.free = append(p.free, x)
	}
	p.mu.Unlock()
}
