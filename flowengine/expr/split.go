package expr

import (
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
)

// Predicates that call extension functions on the predicate's node
// (users/value[toupper(name) = 'BOB']) cannot run inside the XPath engine,
// which has no extension functions. The compiler splits such a path: the
// part before the predicate is evaluated as its own expression, the
// predicate (and those after it on the same step) is evaluated here node by
// node with the node as context, and the rest of the path continues from
// the surviving nodes, mounted like a function result.

// ctxCall reports whether evaluating a at a context node involves an
// extension call whose value depends on that node (directly, or through a
// relative path whose own predicates do).
func ctxCall(a *ast) bool {
	switch a.kind {
	case nCall:
		if _, ext := Lookup(a.name); ext {
			return usesContext(a)
		}
	case nPath:
		if a.start != nil {
			if ctxCall(a.start) {
				return true
			}
			if !usesContext(a.start) {
				return false
			}
		} else if a.abs {
			return false
		}
		for _, s := range a.steps {
			for _, p := range s.preds {
				if ctxCall(p) {
					return true
				}
			}
		}
		return false
	case nFilter:
		if ctxCall(a.kids[0]) {
			return true
		}
		if !usesContext(a.kids[0]) {
			return false
		}
		for _, p := range a.preds {
			if ctxCall(p) {
				return true
			}
		}
		return false
	}
	for _, k := range a.kids {
		if ctxCall(k) {
			return true
		}
	}
	return false
}

// splitPoint returns the step and predicate index of the first predicate of
// path a that must be evaluated node by node, or -1, -1.
func splitPoint(a *ast) (int, int) {
	for i, s := range a.steps {
		for j, p := range s.preds {
			if ctxCall(p) {
				return i, j
			}
		}
	}
	return -1, -1
}

// filterSite evaluates base and keeps the nodes for which every predicate
// holds, evaluated with the node as context.
type filterSite struct {
	base  *Expr
	preds []*Expr
	rest  *Expr // optional: a relative path evaluated from each result
	group bool  // positions count per parent (child and attribute steps)
}

// predicate compiles a predicate evaluated node by node.
func (c *compiler) predicate(p *ast) (*Expr, error) {
	sub := &compiler{src: c.src, predMode: true}
	return sub.compileWith(p)
}

// compileWith compiles a with this compiler's mode (see compileAST).
func (c *compiler) compileWith(a *ast) (*Expr, error) {
	if !c.predMode {
		return compileAST(c.src, a)
	}
	return compileASTMode(c.src, a, true)
}

func (c *compiler) emitSplitPath(a *ast, si, pj int) error {
	st := a.steps[si]
	group := st.axis == "" || st.axis == "child" || st.axis == "attribute"
	if !group && predsPositional(st.preds[pj:]) {
		return c.errf(st.pos, diag.Unsupported,
			"a predicate that calls extension functions and depends on the position is supported on child and attribute steps only")
	}
	head := *st
	head.preds = st.preds[:pj]
	steps := make([]*step, 0, si+1)
	steps = append(steps, a.steps[:si]...)
	steps = append(steps, &head)
	base := &ast{kind: nPath, start: a.start, abs: a.abs, steps: steps, pos: a.pos, end: a.end}
	site := &filterSite{group: group}
	if err := c.fillSite(site, base, st.preds[pj:]); err != nil {
		return err
	}
	rest := a.steps[si+1:]
	if !downward(rest) {
		// The rest of the path leaves the selected nodes' subtrees (..,
		// ancestors, siblings): evaluate it from each node in its own tree
		// instead of from a mount.
		steps := append([]*step{{pos: st.pos, abbrev: "."}}, rest...)
		r := &ast{kind: nPath, steps: steps, pos: a.pos, end: a.end}
		var err error
		if site.rest, err = compileAST(c.src, r); err != nil {
			return err
		}
		rest = nil
	}
	c.mountFilter(site)
	for _, s := range rest {
		if err := c.emitStep(s); err != nil {
			return err
		}
	}
	return nil
}

// downward reports whether steps only descend (child, attribute,
// descendant, self).
func downward(steps []*step) bool {
	for _, s := range steps {
		switch {
		case s.abbrev == "..":
			return false
		case s.abbrev != "":
		case s.axis == "", s.axis == "child", s.axis == "attribute", s.axis == "descendant",
			s.axis == "descendant-or-self", s.axis == "self":
		default:
			return false
		}
	}
	return true
}

func (c *compiler) emitSplitFilter(a *ast, j int) error {
	base := a.kids[0]
	if j > 0 {
		base = &ast{kind: nFilter, kids: a.kids, preds: a.preds[:j], pos: a.pos, end: a.end}
	}
	site := &filterSite{}
	if err := c.fillSite(site, base, a.preds[j:]); err != nil {
		return err
	}
	c.mountFilter(site)
	return nil
}

func (c *compiler) fillSite(site *filterSite, base *ast, preds []*ast) error {
	var err error
	if site.base, err = c.compileWith(base); err != nil {
		return err
	}
	for _, p := range preds {
		x, err := c.predicate(p)
		if err != nil {
			return err
		}
		site.preds = append(site.preds, x)
	}
	return nil
}

// mountFilter mounts a filter site like a function call.
func (c *compiler) mountFilter(site *filterSite) {
	fn := &Func{Name: "predicate", MaxArgs: -1, Call: site.eval}
	c.emitMount(c.mountCall(&callSite{fn: fn, call: fn.Call}))
}

// predsPositional reports whether a predicate may depend on the position.
func predsPositional(preds []*ast) bool {
	for _, p := range preds {
		if t := staticType(p); t == tyNumber || t == tyAny || usesPosition(p) {
			return true
		}
	}
	return false
}

func usesPosition(a *ast) bool {
	if a.kind == nCall && (a.name == "position" || a.name == "last") {
		return true
	}
	for _, k := range a.kids {
		if usesPosition(k) {
			return true
		}
	}
	if a.start != nil && usesPosition(a.start) {
		return true
	}
	return false
}

// eval implements the site as a CallFunc.
func (s *filterSite) eval(c *Context, _ []Value) (Value, error) {
	v, err := s.base.Eval(c)
	if err != nil {
		return nil, err
	}
	nodes, _ := v.(NodeSet)
	for _, p := range s.preds {
		if len(nodes) == 0 {
			break
		}
		out := make(NodeSet, 0, len(nodes))
		for start := 0; start < len(nodes); {
			end := len(nodes)
			if s.group {
				end = start + 1
				for end < len(nodes) && sameParent(nodes[end], nodes[start]) {
					end++
				}
			}
			for i := start; i < end; i++ {
				cc := *c
				cc.Tree = TreeNode{}
				cc.Node, cc.pos, cc.size = nodes[i], i-start+1, end-start
				r, err := p.Eval(&cc)
				if err != nil {
					return nil, err
				}
				keep := false
				if f, ok := r.(float64); ok {
					keep = f == float64(cc.pos)
				} else {
					keep = Bool(r)
				}
				if keep {
					out = append(out, nodes[i])
				}
			}
			start = end
		}
		nodes = out
	}
	if s.rest == nil {
		return nodes, nil
	}
	var out NodeSet
	for _, n := range nodes {
		cc := *c
		cc.Tree = TreeNode{}
		cc.Node, cc.pos, cc.size = n, 0, 0
		r, err := s.rest.EvalNodes(&cc)
		if err != nil {
			return nil, err
		}
		for _, m := range r {
			if m.Type == dom.TextNode || !contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func sameParent(a, b *dom.Node) bool {
	return a.Parent != nil && a.Parent == b.Parent
}

// positionFunc and lastFunc read the position and size of a predicate
// evaluated node by node.
var (
	positionFunc = &Func{Name: "position", Call: func(c *Context, _ []Value) (Value, error) {
		return float64(max(c.pos, 1)), nil
	}}
	lastFunc = &Func{Name: "last", Call: func(c *Context, _ []Value) (Value, error) {
		return float64(max(c.size, 1)), nil
	}}
)
