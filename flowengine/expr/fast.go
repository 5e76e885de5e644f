package expr

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// fastPath is a location path simple enough to evaluate directly on the
// dom, without the XPath engine: $var or the context node, optionally one
// positional predicate on the variable, then child steps with a name or *
// and at most one integer predicate each, and optionally a final attribute
// step. These are the bulk of FLAT expressions ($request/headers/x,
// $body/json/items/value[3]/name, items/value[1]/html_url). The results are
// exactly those of the engine.
type fastPath struct {
	varName string // "" = relative to the context node
	varPos  int    // $var[n]: 1-based; 0 = all nodes
	steps   []fastStep
	attr    string // final attribute step: name or "*"; "" = none
	none    bool   // a predicate can never match (e.g. [1.5] or [0])
	// member: $var/name... whose first step a MemberNodeScope can answer
	// (no position on the variable or on the step, no predicate).
	member bool
	// plain: the step names of $var/name/... when every step is plain
	// (member's conditions on each, no attribute): the form a ScalarScope
	// answers; nil otherwise.
	plain []string
}

type fastStep struct {
	name string   // element name or "*"
	pos  int      // 1-based position among matching children; 0 = all
	cond *fastCmp // [relative-path = literal]; nil = none
}

// fastCmp is fastPath = literal or fastPath != literal.
type fastCmp struct {
	path *fastPath
	ne   bool
	str  string
	num  float64
	isN  bool
}

// posPred returns the position a predicate list selects: 0 for none, -1
// when it is not a single number literal, -2 when no node can match.
func posPred(preds []*ast) int {
	switch len(preds) {
	case 0:
		return 0
	case 1:
	default:
		return -1
	}
	p := unwrapGroup(preds[0])
	if p.kind != nNumber {
		return -1
	}
	if p.num != math.Trunc(p.num) || p.num < 1 || p.num > 1<<30 {
		return -2
	}
	return int(p.num)
}

// compileFastPath returns a's fast form, or nil.
func compileFastPath(a *ast) *fastPath {
	a = unwrapGroup(a)
	fp := &fastPath{}
	switch {
	case a.kind == nVar:
		fp.varName = a.name
		return fp
	case a.kind == nFilter && a.kids[0].kind == nVar:
		fp.varName = a.kids[0].name
		switch p := posPred(a.preds); p {
		case -1:
			return nil
		case -2:
			fp.none = true
		default:
			fp.varPos = p
		}
		return fp
	case a.kind != nPath || a.abs || len(a.steps) == 0:
		return nil
	}
	if a.start != nil {
		s := compileFastPath(a.start)
		if s == nil || s.varName == "" || len(s.steps) > 0 {
			return nil
		}
		fp.varName, fp.varPos, fp.none = s.varName, s.varPos, s.none
	}
	for i, s := range a.steps {
		if s.abbrev == "." && s.sep != "//" {
			continue // self::node(): no step
		}
		if s.sep == "//" || s.abbrev != "" || s.typ {
			return nil
		}
		if s.axis == "attribute" {
			if i != len(a.steps)-1 || len(s.preds) > 0 {
				return nil
			}
			fp.attr = s.test
			break
		}
		if s.axis != "" && s.axis != "child" {
			return nil
		}
		st := fastStep{name: s.test}
		switch p := posPred(s.preds); p {
		case -1:
			// [child = 'x'], [@id != 3]: a comparison relative to the
			// candidate node.
			fc := compileFastCmp(s.preds[0])
			if fc == nil || fc.path.varName != "" || fc.path.none || len(s.preds) != 1 {
				return nil
			}
			st.cond = fc
		case -2:
			fp.none = true
		default:
			st.pos = p
		}
		fp.steps = append(fp.steps, st)
	}
	if fp.varName != "" && fp.varPos == 0 && !fp.none && len(fp.steps) > 0 {
		st := fp.steps[0]
		fp.member = st.name != "*" && st.pos == 0 && st.cond == nil
		fp.plain = plainSteps(fp)
	}
	return fp
}

// compileFastCmp returns the fast form of path = literal (either order),
// or nil.
func compileFastCmp(a *ast) *fastCmp {
	a = unwrapGroup(a)
	if a.kind != nBinary || (a.op != "=" && a.op != "!=") {
		return nil
	}
	l, r := unwrapGroup(a.kids[0]), unwrapGroup(a.kids[1])
	if l.kind == nLiteral || l.kind == nNumber {
		l, r = r, l
	}
	if r.kind != nLiteral && r.kind != nNumber {
		return nil
	}
	if l.kind == nVar {
		return nil // the variable may hold a scalar: let the engine compare
	}
	fp := compileFastPath(l)
	if fp == nil {
		return nil
	}
	return &fastCmp{path: fp, ne: a.op == "!=", str: r.str, num: r.num, isN: r.kind == nNumber}
}

// each calls f for every selected node until f returns false. A path that
// starts at a Tree variable or a Tree context node walks the Tree.
func (fp *fastPath) each(c *Context, f func(sel) bool) {
	if fp.none {
		return
	}
	if d, i, ok := fp.treeStart(c); ok {
		fp.walkTree(d, i, 0, f)
		return
	}
	if fp.varName == "" {
		if c.Node != nil {
			fp.walk(c.Node, 0, f)
		}
		return
	}
	if fp.member && c.Scope != nil {
		if ms, ok := c.Scope.(MemberNodeScope); ok {
			if n, ok := ms.MemberNode(fp.varName, fp.steps[0].name); ok {
				if n != nil {
					fp.walk(n, 1, f)
				}
				return
			}
		}
	}
	v := lookupVar(c, fp.varName)
	ns, ok := v.(NodeSet)
	if !ok {
		// A scalar mounts as one text node: it has no children but is
		// itself selected by $var[1].
		if len(fp.steps) == 0 && fp.attr == "" && fp.varPos <= 1 {
			if m := mountNodes(v); len(m) > 0 {
				f(sel{n: m[0], attr: -1})
			}
		}
		return
	}
	for i, n := range ns {
		if n == nil {
			continue
		}
		if fp.varPos > 0 && i+1 != fp.varPos {
			continue
		}
		if !fp.walk(n, 0, f) {
			return
		}
	}
}

func (fp *fastPath) walk(n *dom.Node, i int, f func(sel) bool) bool {
	if i == len(fp.steps) {
		if fp.attr == "" {
			return f(sel{n: n, attr: -1})
		}
		if n.Type != dom.ElementNode {
			return true
		}
		for j := range n.Attrs {
			if fp.attr == "*" || n.Attrs[j].Name == fp.attr {
				if !f(sel{n: n, attr: j}) {
					return false
				}
			}
		}
		return true
	}
	st := fp.steps[i]
	count := 0
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type != dom.ElementNode || (st.name != "*" && ch.Name != st.name) {
			continue
		}
		if st.cond != nil && !st.cond.at(ch) {
			continue
		}
		count++
		if st.pos > 0 && count != st.pos {
			continue
		}
		if !fp.walk(ch, i+1, f) {
			return false
		}
		if st.pos > 0 {
			break
		}
	}
	return true
}

// eval returns the selected node-set.
func (fp *fastPath) eval(c *Context) NodeSet {
	var out NodeSet
	fp.each(c, func(s sel) bool {
		out = append(out, s.node())
		return true
	})
	return out
}

// first returns the first selected node (nil when none), as eval would
// return it, without building the node-set.
func (fp *fastPath) first(c *Context) *dom.Node {
	var out *dom.Node
	fp.each(c, func(s sel) bool {
		out = s.node()
		return false
	})
	return out
}

// firstString returns the string-value of the first selected node and
// whether there is one, without materialising a Tree node.
func (fp *fastPath) firstString(c *Context) (string, bool) {
	var out string
	found := false
	fp.each(c, func(s sel) bool {
		out, found = s.str(), true
		return false
	})
	return out, found
}

// exists reports whether the path selects a node.
func (fp *fastPath) exists(c *Context) bool {
	found := false
	fp.each(c, func(sel) bool {
		found = true
		return false
	})
	return found
}

// eval compares per XPath 1.0: true when some selected node's
// string-value (number-value for a number literal) compares as asked.
func (fc *fastCmp) eval(c *Context) bool {
	if p := fc.path; p.varName == "" && !c.hasNode() && len(p.steps) == 0 && p.attr == "" && !p.none {
		// "." without a context node is the root of an empty document.
		return fc.cmp("")
	}
	found := false
	fc.path.each(c, fc.visitor(&found))
	return found
}

// at evaluates a relative comparison with n as the context node.
func (fc *fastCmp) at(n *dom.Node) bool {
	found := false
	fc.path.walk(n, 0, fc.visitor(&found))
	return found
}

func (fc *fastCmp) visitor(found *bool) func(sel) bool {
	return func(s sel) bool {
		if fc.cmp(s.str()) {
			*found = true
			return false
		}
		return true
	}
}

// cmp compares one string-value with the literal.
func (fc *fastCmp) cmp(s string) bool {
	if fc.isN {
		return (ParseNumber(s) == fc.num) != fc.ne
	}
	return (s == fc.str) != fc.ne
}

// callCmp is ext-call = literal or ext-call != literal, evaluated without
// the engine (with the engine's results): typical of predicates such as
// [toupper(name) = 'BOB'].
type callCmp struct {
	site *callSite
	ne   bool
	lit  Value // string or float64
}

// compileCallCmp returns the direct form of a, or nil. c resolves the call.
func (c *compiler) compileCallCmp(a *ast) (*callCmp, error) {
	a = unwrapGroup(a)
	if a.kind != nBinary || (a.op != "=" && a.op != "!=") {
		return nil, nil
	}
	l, r := unwrapGroup(a.kids[0]), unwrapGroup(a.kids[1])
	if l.kind == nLiteral || l.kind == nNumber {
		l, r = r, l
	}
	if l.kind != nCall || (r.kind != nLiteral && r.kind != nNumber) {
		return nil, nil
	}
	f, ok := Lookup(l.name)
	if !ok {
		return nil, nil
	}
	if !arityOK(len(l.kids), f.MinArgs, f.MaxArgs) {
		return nil, nil // reported by the normal path
	}
	site, err := c.site(l, f)
	if err != nil {
		return nil, err
	}
	cc := &callCmp{site: site, ne: a.op == "!="}
	if r.kind == nNumber {
		cc.lit = r.num
	} else {
		cc.lit = r.str
	}
	return cc, nil
}

// eval compares like the engine does with the mounted result: some node
// of the result (a scalar mounts as one text node, false as none) must
// compare as asked.
func (cc *callCmp) eval(c *Context) (bool, error) {
	v, err := cc.site.eval(c)
	if err != nil {
		return false, err
	}
	if s, ok := v.(string); ok { // the common case, without a mount
		return cc.cmpString(s), nil
	}
	for _, n := range mountNodes(v) {
		if cc.cmpString(n.StringValue()) {
			return true, nil
		}
	}
	return false, nil
}

func (cc *callCmp) cmpString(s string) bool {
	if n, ok := cc.lit.(float64); ok {
		return (ParseNumber(s) == n) != cc.ne
	}
	return (s == cc.lit.(string)) != cc.ne
}

// catArg is one operand of a direct concat(): a string literal or an
// expression whose string form is computed as the engine's concat() would.
type catArg struct {
	lit   string
	x     *Expr // nil for a literal
	mount bool  // x is a variable or extension call: the engine sees it mounted
}

// compileConcat returns the direct form of concat(a, b, …) whose operands
// are string literals, simple paths, comparisons, variables, extension
// calls or such concats; nil when a is something else.
func compileConcat(full string, a *ast) []catArg {
	a = unwrapGroup(a)
	if a.kind != nCall || a.name != "concat" || len(a.kids) < 2 {
		return nil
	}
	if _, ext := Lookup(a.name); ext {
		return nil
	}
	args := make([]catArg, 0, len(a.kids))
	for _, k := range a.kids {
		if u := unwrapGroup(k); u.kind == nLiteral {
			args = append(args, catArg{lit: u.str})
			continue
		}
		x, err := compileAST(full, k)
		if err != nil {
			return nil // the engine's form reports it, if at all
		}
		switch x.kind {
		case kVar, kCall:
			args = append(args, catArg{x: x, mount: true})
		case kFastPath, kFastCmp, kCallCmp, kConcat:
			args = append(args, catArg{x: x})
		default:
			return nil
		}
	}
	return args
}

// catVars appends the variables a direct concat reads directly to out.
func catVars(args []catArg, out []string) []string {
	for _, a := range args {
		if a.x == nil || a.x.kind == kCall || a.x.kind == kCallCmp {
			continue
		}
		for _, v := range a.x.Vars() {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// evalConcat concatenates the string forms of args: a node-set gives its
// first node's string-value; a variable or call gives what its mount shows
// the engine (false mounts as nothing, so it gives "").
func evalConcat(c *Context, args []catArg) (Value, error) {
	var buf [8]string
	parts := buf[:0]
	size := 0
	for i := range args {
		a := &args[i]
		var s string
		switch {
		case a.x == nil:
			s = a.lit
		case !a.mount:
			var err error
			if s, err = a.x.EvalString(c); err != nil {
				return nil, err
			}
		default:
			v, err := a.x.Eval(c)
			if err != nil {
				return nil, err
			}
			s = mountString(v)
		}
		parts = append(parts, s)
		size += len(s)
	}
	if err := c.Budget.Output(int64(size)); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.Grow(size)
	for _, s := range parts {
		b.WriteString(s)
	}
	return b.String(), nil
}

// mountString is the string-value the engine reads from a mounted value:
// the first node of a node-set, a scalar as mounted by mountNodes.
func mountString(v Value) string {
	switch x := v.(type) {
	case NodeSet:
		for _, n := range x {
			if n != nil {
				return n.StringValue()
			}
		}
		return ""
	case bool:
		if x {
			return "true"
		}
		return ""
	}
	return String(v)
}

// aggFn is count(), sum(), not() or boolean() of a simple path, evaluated
// directly with the engine's results.
type aggFn struct {
	fn   string
	path *fastPath
}

// compileAgg returns the direct form of a, or nil.
func compileAgg(a *ast) *aggFn {
	a = unwrapGroup(a)
	if a.kind != nCall || len(a.kids) != 1 {
		return nil
	}
	switch a.name {
	case "count", "sum", "not", "boolean":
	default:
		return nil
	}
	if _, ext := Lookup(a.name); ext {
		return nil
	}
	k := unwrapGroup(a.kids[0])
	if k.kind == nVar {
		return nil // the variable may hold a scalar
	}
	fp := compileFastPath(k)
	if fp == nil {
		return nil
	}
	return &aggFn{fn: a.name, path: fp}
}

func (ag *aggFn) eval(c *Context) Value {
	p := ag.path
	if p.varName == "" && !c.hasNode() && len(p.steps) == 0 && p.attr == "" && !p.none {
		// "." without a context node is the root of an empty document:
		// one node, whose string-value is "".
		switch ag.fn {
		case "count":
			return 1.0
		case "sum":
			return 0.0
		case "not":
			return false
		}
		return true
	}
	switch ag.fn {
	case "count":
		n := 0
		p.each(c, func(sel) bool { n++; return true })
		return float64(n)
	case "sum":
		var sum float64
		p.each(c, func(s sel) bool {
			// As the engine does: values that do not parse are skipped.
			if v, err := strconv.ParseFloat(s.str(), 64); err == nil {
				sum += v
			}
			return true
		})
		return sum
	}
	found := p.exists(c)
	if ag.fn == "not" {
		return !found
	}
	return found
}

// fastRel is fastPath < number (or <=, >, >=; either order), evaluated
// directly: true when some selected node's number-value compares as asked.
type fastRel struct {
	path *fastPath
	op   string // as if the path were on the left
	num  float64
}

var relOps = map[string]bool{"<": true, "<=": true, ">": true, ">=": true}

// compileFastRel returns the direct form of a, or nil.
func compileFastRel(a *ast) *fastRel {
	a = unwrapGroup(a)
	if a.kind != nBinary || !relOps[a.op] {
		return nil
	}
	l, r, op := unwrapGroup(a.kids[0]), unwrapGroup(a.kids[1]), a.op
	if l.kind == nNumber {
		l, r, op = r, l, flipCmp[op]
	}
	if r.kind != nNumber || l.kind == nVar {
		return nil
	}
	fp := compileFastPath(l)
	if fp == nil {
		return nil
	}
	return &fastRel{path: fp, op: op, num: r.num}
}

func (fr *fastRel) eval(c *Context) bool {
	if v, ok := fr.path.scalar(c); ok {
		return fr.cmp(v.Text) // the one node's string-value
	}
	if p := fr.path; p.varName == "" && !c.hasNode() && len(p.steps) == 0 && p.attr == "" && !p.none {
		return fr.cmp("") // "." without a context node: an empty root
	}
	found := false
	fr.path.each(c, func(s sel) bool {
		if fr.cmp(s.str()) {
			found = true
			return false
		}
		return true
	})
	return found
}

func (fr *fastRel) cmp(s string) bool {
	x := ParseNumber(s)
	switch fr.op {
	case "<":
		return x < fr.num
	case "<=":
		return x <= fr.num
	case ">":
		return x > fr.num
	}
	return x >= fr.num
}
