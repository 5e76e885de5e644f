package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// useFast enables the direct evaluation of simple paths (fast.go); tests
// turn it off to compare with the XPath engine.
var useFast = true

// Mount element names. They are XPath NCNames that ordinary documents do not
// use; every evaluation shows one mount per referenced variable and per
// extension call, as siblings following the root (emitMount).
const (
	varMountPrefix  = "_fp.v."
	callMountPrefix = "_fp.f."
)

// exprKind says how an Expr evaluates.
type exprKind uint8

const (
	kXPath    exprKind = iota // rewritten XPath run by antchfx
	kVar                      // exactly $name
	kCall                     // exactly one extension call
	kConst                    // a literal or number
	kFastPath                 // a simple path evaluated on the dom directly
	kFastCmp                  // a simple path compared with a literal
	kCallCmp                  // an extension call compared with a literal
	kConcat                   // concat() of operands evaluated directly
	kAgg                      // count(), sum(), not() or boolean() of a simple path
	kFastRel                  // a simple path compared with a number by <, <=, > or >=
)

// Expr is a compiled expression. It is immutable and safe for concurrent
// use by any number of goroutines.
type Expr struct {
	src   string
	kind  exprKind
	name  string    // kVar
	konst Value     // kConst
	site  *callSite // kCall
	xsrc  string    // kXPath: the rewritten expression given to antchfx
	slots []slot    // kXPath: mounts, in order
	pool  *xpool    // kXPath
	union bool      // kXPath: has a union; results are deduplicated
	fpath *fastPath // kFastPath
	fcmp  *fastCmp  // kFastCmp
	ccmp  *callCmp  // kCallCmp
	cat   []catArg  // kConcat
	agg   *aggFn    // kAgg
	frel  *fastRel  // kFastRel
}

// slot is one mount of a kXPath expression: a variable or a call site.
type slot struct {
	mount   string
	varName string    // when site == nil
	site    *callSite // extension call
}

// callSite is one extension-function call.
type callSite struct {
	fn   *Func
	call CallFunc
	args []*Expr
	// str is the implementation of a one-argument string function
	// (stringFunc) called with one argument: the argument is evaluated
	// as a string, without building an argument list.
	str func(string) string
	// app is str's appending form, when the function has one.
	app func(dst []byte, s string) []byte
}

// Compile compiles an expression: XPath 1.0 with FLAT $variables and
// extension functions. Errors are *diag.PosError values positioned in src.
func Compile(src string) (*Expr, error) {
	a, err := parse(src)
	if err != nil {
		return nil, err
	}
	e, err := compileAST(src, a)
	if err != nil {
		return nil, err
	}
	e.src = src
	return e, nil
}

// MustCompile is Compile that panics on error, for expressions fixed in
// code (tests, built-in flows).
func MustCompile(src string) *Expr {
	e, err := Compile(src)
	if err != nil {
		panic(fmt.Sprintf("expr: MustCompile(%q): %v", src, err))
	}
	return e
}

// Source returns the expression text as given to Compile (for arguments of
// extension calls, the argument's text).
func (e *Expr) Source() string { return e.src }

// String returns the expression text.
func (e *Expr) String() string { return e.src }

// VarName returns the variable name when the expression is exactly one
// variable reference ($name, possibly parenthesized).
func (e *Expr) VarName() (string, bool) {
	if e.kind == kVar {
		return e.name, true
	}
	return "", false
}

// XPath returns the rewritten XPath form of the expression, or "" when it
// is a lone variable, call or constant. Simple paths and comparisons are
// evaluated directly on the tree, with the same results. For diagnostics
// and tests.
func (e *Expr) XPath() string { return e.xsrc }

// Vars returns the names of the variables the expression reads directly
// (not those read by arguments of extension calls), in first-use order.
func (e *Expr) Vars() []string {
	switch {
	case e.kind == kVar:
		return []string{e.name}
	case e.kind == kFastPath && e.fpath.varName != "":
		return []string{e.fpath.varName}
	case e.kind == kFastCmp && e.fcmp.path.varName != "":
		return []string{e.fcmp.path.varName}
	case e.kind == kConcat:
		return catVars(e.cat, nil)
	case e.kind == kFastRel && e.frel.path.varName != "":
		return []string{e.frel.path.varName}
	case e.kind == kAgg && e.agg.path.varName != "":
		return []string{e.agg.path.varName}
	}
	var out []string
	for _, s := range e.slots {
		if s.site == nil {
			out = append(out, s.varName)
		}
	}
	return out
}

func unwrapGroup(a *ast) *ast {
	for a.kind == nGroup {
		a = a.kids[0]
	}
	return a
}

// compileAST compiles a parsed (sub)expression; full is the whole source
// the AST positions refer to.
func compileAST(full string, a *ast) (*Expr, error) {
	return compileASTMode(full, a, false)
}

// compileASTMode is compileAST; predMode compiles a predicate evaluated
// node by node (position() and last() read the Context).
func compileASTMode(full string, a *ast, predMode bool) (*Expr, error) {
	e := &Expr{src: full[a.pos:a.end]}
	c := &compiler{src: full, predMode: predMode}
	switch u := unwrapGroup(a); u.kind {
	case nVar:
		e.kind, e.name = kVar, u.name
		return e, nil
	case nLiteral:
		e.kind, e.konst = kConst, u.str
		return e, nil
	case nNumber:
		e.kind, e.konst = kConst, u.num
		return e, nil
	case nCall:
		f, err := c.resolve(u)
		if err != nil {
			return nil, err
		}
		if f == nil && predMode && (u.name == "position" || u.name == "last") {
			f = positionFunc
			if u.name == "last" {
				f = lastFunc
			}
			e.kind, e.site = kCall, &callSite{fn: f, call: f.Call}
			return e, nil
		}
		if f != nil {
			site, err := c.site(u, f)
			if err != nil {
				return nil, err
			}
			e.kind, e.site = kCall, site
			return e, nil
		}
	}
	if err := c.emit(a, false); err != nil {
		return nil, err
	}
	e.xsrc = c.b.String()
	// The engine validates every expression, also those evaluated
	// directly, so that both evaluators accept the same language.
	x, err := xpath.Compile(e.xsrc)
	if err != nil {
		return nil, posErr(full, a.pos, diag.XPathSyntax, "XPath engine rejected the expression: "+err.Error())
	}
	if !useFast {
		// Tests compare both evaluators.
	} else if fc := compileFastCmp(a); fc != nil {
		e.kind, e.fcmp = kFastCmp, fc
		return e, nil
	}
	if fp := compileFastPath(a); useFast && fp != nil {
		e.kind, e.fpath = kFastPath, fp
		return e, nil
	}
	if useFast {
		cc, err := (&compiler{src: full, predMode: predMode}).compileCallCmp(a)
		if err != nil {
			return nil, err
		}
		if cc != nil {
			e.kind, e.ccmp = kCallCmp, cc
			return e, nil
		}
	}
	if useFast && !predMode {
		if cat := compileConcat(full, a); cat != nil {
			e.kind, e.cat = kConcat, cat
			return e, nil
		}
		if fr := compileFastRel(a); fr != nil {
			e.kind, e.frel = kFastRel, fr
			return e, nil
		}
		if ag := compileAgg(a); ag != nil {
			e.kind, e.agg = kAgg, ag
			return e, nil
		}
	}
	e.kind = kXPath
	e.slots = c.slots
	e.union = c.union
	e.pool = &xpool{src: e.xsrc, free: []*xpath.Expr{x}}
	return e, nil
}

type compiler struct {
	src      string
	predMode bool // compiling a predicate evaluated node by node
	b        strings.Builder
	slots    []slot
	varSlot  map[string]int
	union    bool
}

func (c *compiler) errf(pos int, code diag.Code, format string, args ...any) error {
	return posErr(c.src, pos, code, fmt.Sprintf(format, args...))
}

// resolve checks a call: it returns the extension function, or nil for an
// XPath built-in. Unknown names and wrong arities are errors.
func (c *compiler) resolve(a *ast) (*Func, error) {
	if f, ok := Lookup(a.name); ok {
		if !arityOK(len(a.kids), f.MinArgs, f.MaxArgs) {
			return nil, c.errf(a.pos, diag.BadArity, "%s() takes %s argument(s), got %d",
				a.name, arityText(f.MinArgs, f.MaxArgs), len(a.kids))
		}
		return f, nil
	}
	if b, ok := builtins[a.name]; ok {
		if !arityOK(len(a.kids), b.min, b.max) {
			return nil, c.errf(a.pos, diag.BadArity, "%s() takes %s argument(s), got %d",
				a.name, arityText(b.min, b.max), len(a.kids))
		}
		return nil, nil
	}
	if msg, ok := unsupportedBuiltins[a.name]; ok {
		return nil, c.errf(a.pos, diag.Unsupported, "%s() is not supported: %s", a.name, msg)
	}
	return nil, c.errf(a.pos, diag.UnknownFunction, "unknown function %s()", a.name)
}

// site compiles the arguments of an extension call and binds it.
func (c *compiler) site(a *ast, f *Func) (*callSite, error) {
	s := &callSite{fn: f, call: f.Call}
	var consts []Value
	for _, arg := range a.kids {
		x, err := c.compileWith(arg)
		if err != nil {
			return nil, err
		}
		s.args = append(s.args, x)
		if f.Bind != nil {
			var k Value
			if x.kind == kConst {
				k = x.konst
			}
			consts = append(consts, k)
		}
	}
	if f.Bind != nil {
		call, err := f.Bind(consts)
		if err != nil {
			return nil, c.errf(a.pos, diag.XPathSyntax, "%s(): %v", a.name, err)
		}
		if call != nil {
			s.call = call
		}
	}
	if f.str != nil && f.Bind == nil && len(s.args) == 1 {
		s.str, s.app = f.str, f.appendStr
	}
	return s, nil
}

func (c *compiler) mountVar(name string) string {
	if i, ok := c.varSlot[name]; ok {
		return c.slots[i].mount
	}
	if c.varSlot == nil {
		c.varSlot = map[string]int{}
	}
	// Non-ASCII names are numbered instead: the engine's name tables do
	// not know every letter. A number cannot clash with a name.
	m := varMountPrefix + name
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			m = varMountPrefix + strconv.Itoa(len(c.slots))
			break
		}
	}
	c.varSlot[name] = len(c.slots)
	c.slots = append(c.slots, slot{mount: m, varName: name})
	return m
}

// emitMount writes the path to mount m's nodes. The mounts are the root's
// following siblings (dom.Mount), which no step over the context tree
// reaches, so /*, //x and a wildcard at the root see the document alone.
func (c *compiler) emitMount(m string) {
	c.b.WriteString("/following-sibling::")
	c.b.WriteString(m)
	c.b.WriteString("/node()")
}

func (c *compiler) mountCall(s *callSite) string {
	m := callMountPrefix + strconv.Itoa(len(c.slots))
	c.slots = append(c.slots, slot{mount: m, site: s})
	return m
}

// emit writes the antchfx form of a; inPred is true inside a predicate
// (where the context node is not the evaluation's context node).
func (c *compiler) emit(a *ast, inPred bool) error {
	b := &c.b
	switch a.kind {
	case nBinary:
		// XPath 1.0: when one side of = or != is a boolean, the other is
		// converted to boolean (the engine does not do this for node-sets).
		// The engine compares a scalar on the left with only the first
		// node of a node-set on the right (and a string numerically), so
		// node-sets go to the left.
		l, r, op := a.kids[0], a.kids[1], a.op
		lk, rk := byte('x'), byte('x')
		if flipped, ok := flipCmp[op]; ok {
			lt, rt := staticType(l), staticType(r)
			if lt != tyNodeSet && lt != tyAny && rt == tyNodeSet {
				l, r, op, lt, rt = r, l, flipped, rt, lt
			}
			if lt == tyBool && rt != tyBool {
				rk = 'b'
			} else if rt == tyBool && lt != tyBool {
				lk = 'b'
			}
		}
		if op == "|" {
			c.union = true
		}
		if err := c.emitAs(l, lk, inPred); err != nil {
			return err
		}
		b.WriteByte(' ')
		b.WriteString(op)
		b.WriteByte(' ')
		return c.emitAs(r, rk, inPred)
	case nNeg:
		b.WriteString("-(")
		if err := c.emit(a.kids[0], inPred); err != nil {
			return err
		}
		b.WriteByte(')')
	case nGroup:
		b.WriteByte('(')
		if err := c.emit(a.kids[0], inPred); err != nil {
			return err
		}
		b.WriteByte(')')
	case nLiteral:
		writeLiteral(b, a.str)
	case nNumber:
		b.WriteString(strconv.FormatFloat(a.num, 'f', -1, 64))
	case nVar:
		c.emitMount(c.mountVar(a.name))
	case nFilter:
		for j, p := range a.preds {
			if ctxCall(p) {
				return c.emitSplitFilter(a, j)
			}
		}
		if err := c.emit(a.kids[0], inPred); err != nil {
			return err
		}
		return c.emitPreds(a.preds)
	case nPath:
		if si, pj := splitPoint(a); si >= 0 {
			return c.emitSplitPath(a, si, pj)
		}
		if a.start != nil {
			if err := c.emit(a.start, inPred); err != nil {
				return err
			}
		}
		if a.abs && len(a.steps) == 0 {
			b.WriteByte('/')
			return nil
		}
		for _, s := range a.steps {
			if err := c.emitStep(s); err != nil {
				return err
			}
		}
	case nCall:
		return c.emitCall(a, inPred)
	}
	return nil
}

func (c *compiler) emitStep(s *step) error {
	b := &c.b
	b.WriteString(s.sep)
	switch {
	case s.abbrev != "":
		b.WriteString(s.abbrev)
		return nil
	case s.axis == "attribute":
		b.WriteByte('@')
	case s.axis != "":
		b.WriteString(s.axis)
		b.WriteString("::")
	}
	b.WriteString(s.test)
	if s.typ {
		b.WriteByte('(')
		if s.hasLit {
			writeLiteral(b, s.lit)
		}
		b.WriteByte(')')
	}
	return c.emitPreds(s.preds)
}

// emitPreds writes predicates. A number literal that is not an integer
// never equals a position (the engine would truncate it).
func (c *compiler) emitPreds(preds []*ast) error {
	for _, p := range preds {
		c.b.WriteByte('[')
		if u := unwrapGroup(p); u.kind == nNumber && u.num != math.Trunc(u.num) {
			c.b.WriteString("false()")
		} else if err := c.emit(p, true); err != nil {
			return err
		}
		c.b.WriteByte(']')
	}
	return nil
}

func writeLiteral(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 {
		q = '"'
	}
	b.WriteByte(q)
	b.WriteString(s)
	b.WriteByte(q)
}

func (c *compiler) emitCall(a *ast, inPred bool) error {
	f, err := c.resolve(a)
	if err != nil {
		return err
	}
	if f == nil {
		return c.emitBuiltin(a, inPred)
	}
	if inPred && usesContext(a) {
		// Unreachable: predicates with such calls are split (emitPreds).
		return c.errf(a.pos, diag.Unsupported, "%s() cannot be evaluated per node here", a.name)
	}
	s, err := c.site(a, f)
	if err != nil {
		return err
	}
	c.emitMount(c.mountCall(s))
	return nil
}

// emitArgs writes a comma-separated argument list, coercing argument i by
// kinds[i] (the last kind repeats).
func (c *compiler) emitArgs(args []*ast, kinds string, inPred bool) error {
	for i, arg := range args {
		if i > 0 {
			c.b.WriteString(", ")
		}
		k := byte('x')
		if kinds != "" {
			k = kinds[min(i, len(kinds)-1)]
		}
		if err := c.emitAs(arg, k, inPred); err != nil {
			return err
		}
	}
	return nil
}

// emitAs writes a converted to kind k ('s' string, 'n' number, 'b'
// boolean, 'x' as is) unless it already has that type. The XPath engine's
// own functions do not convert all argument types (contains(1, 2) panics),
// so the conversions XPath 1.0 defines are made explicit.
func (c *compiler) emitAs(a *ast, k byte, inPred bool) error {
	fn := ""
	switch t := staticType(a); {
	case k == 's' && t != tyString:
		fn = "string"
	case k == 'n' && t != tyNumber:
		fn = "number"
	case k == 'b' && t != tyBool:
		fn = "boolean"
	}
	if fn == "" {
		return c.emit(a, inPred)
	}
	c.b.WriteString(fn)
	c.b.WriteByte('(')
	if err := c.emit(a, inPred); err != nil {
		return err
	}
	c.b.WriteByte(')')
	return nil
}

func (c *compiler) emitBuiltin(a *ast, inPred bool) error {
	bi := builtins[a.name]
	b := &c.b
	if c.predMode && !inPred && (a.name == "position" || a.name == "last") {
		// In a predicate evaluated node by node, the position and size
		// come from the Context.
		fn := positionFunc
		if a.name == "last" {
			fn = lastFunc
		}
		c.emitMount(c.mountCall(&callSite{fn: fn, call: fn.Call}))
		return nil
	}
	if a.name == "string-length" && len(a.kids) == 0 {
		b.WriteString("string-length(string())")
		return nil
	}
	b.WriteString(a.name)
	b.WriteByte('(')
	if err := c.emitArgs(a.kids, bi.args, inPred); err != nil {
		return err
	}
	b.WriteByte(')')
	return nil
}

// usesContext reports whether evaluating a reads the context node (or
// position) it is evaluated at; predicates nested in a do not count, they
// have their own context.
func usesContext(a *ast) bool {
	switch a.kind {
	case nLiteral, nNumber, nVar:
		return false
	case nPath:
		if a.start != nil {
			return usesContext(a.start)
		}
		return !a.abs
	case nFilter:
		return usesContext(a.kids[0])
	case nCall:
		if f, ok := Lookup(a.name); ok {
			if f.UsesContext && len(a.kids) <= f.ContextArity {
				return true
			}
		} else if b, ok := builtins[a.name]; ok {
			if b.ctx || (len(a.kids) == 0 && b.ctxZero) {
				return true
			}
		}
	}
	for _, k := range a.kids {
		if usesContext(k) {
			return true
		}
	}
	return false
}

// flipCmp maps each comparison operator to its mirror image.
var flipCmp = map[string]string{"=": "=", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}

// static result types.
type staticTy uint8

const (
	tyAny staticTy = iota
	tyString
	tyNumber
	tyBool
	tyNodeSet
)

func staticType(a *ast) staticTy {
	switch a.kind {
	case nLiteral:
		return tyString
	case nNumber, nNeg:
		return tyNumber
	case nGroup:
		return staticType(a.kids[0])
	case nBinary:
		switch a.op {
		case "|":
			return tyNodeSet
		case "+", "-", "*", "div", "mod":
			return tyNumber
		}
		return tyBool
	case nCall:
		if _, ext := Lookup(a.name); ext {
			return tyNodeSet // mounted
		}
		if b, ok := builtins[a.name]; ok {
			return b.result
		}
		return tyAny
	}
	return tyNodeSet
}

// builtin describes an XPath function the antchfx engine implements.
type builtin struct {
	min, max int
	ctxZero  bool // reads the context node when called without arguments
	ctx      bool // always reads the context (position, last)
	result   staticTy
	args     string // argument conversions, see emitAs; the last repeats
}

var builtins = map[string]builtin{
	"last":             {0, 0, false, true, tyNumber, ""},
	"position":         {0, 0, false, true, tyNumber, ""},
	"count":            {1, 1, false, false, tyNumber, "x"},
	"local-name":       {0, 1, true, false, tyString, "x"},
	"namespace-uri":    {0, 1, true, false, tyString, "x"},
	"name":             {0, 1, true, false, tyString, "x"},
	"string":           {0, 1, true, false, tyString, "x"},
	"concat":           {2, -1, false, false, tyString, "x"},
	"starts-with":      {2, 2, false, false, tyBool, "s"},
	"contains":         {2, 2, false, false, tyBool, "s"},
	"substring-before": {2, 2, false, false, tyString, "s"},
	"substring-after":  {2, 2, false, false, tyString, "s"},
	"substring":        {2, 3, false, false, tyString, "xn"},
	"string-length":    {0, 1, true, false, tyNumber, "x"},
	"normalize-space":  {0, 1, true, false, tyString, "x"},
	"translate":        {3, 3, false, false, tyString, "x"},
	"boolean":          {1, 1, false, false, tyBool, "x"},
	"not":              {1, 1, false, false, tyBool, "b"},
	"true":             {0, 0, false, false, tyBool, ""},
	"false":            {0, 0, false, false, tyBool, ""},
	"number":           {0, 1, true, false, tyNumber, "x"},
	"sum":              {1, 1, false, false, tyNumber, "x"},
	"floor":            {1, 1, false, false, tyNumber, "n"},
	"ceiling":          {1, 1, false, false, tyNumber, "n"},
	"round":            {1, 1, false, false, tyNumber, "n"},
	"lower-case":       {1, 1, false, false, tyString, "x"},
	"string-join":      {2, 2, false, false, tyString, "xs"},
	"reverse":          {1, 1, false, false, tyNodeSet, "x"},
}

var unsupportedBuiltins = map[string]string{
	"lang": "documents carry no xml:lang information",
	"id":   "documents carry no ID attributes",
}
