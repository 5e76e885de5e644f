package cond

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

// Vars resolves flow variables; see flowvar.Vars.
type Vars = flowvar.Vars

// Expr is a compiled condition. It is immutable and safe for concurrent use.
type Expr struct {
	src  string
	root *node
	vars []string
}

type nodeKind uint8

const (
	nAnd nodeKind = iota
	nOr
	nNot
	nCmp   // a op b
	nTruth // bare operand
)

type node struct {
	kind nodeKind
	op   opKind
	neg  bool // inline negation: a not Matches "x", a !~ "x"
	l, r *node
	a, b operand
	glob *glob
	re   *regexp.Regexp
}

type operand struct {
	isVar bool
	name  string
	lit   val
}

// Source returns the condition text as given to Parse.
func (e *Expr) Source() string { return e.src }

// Variables returns the names of the variables the condition reads, sorted
// and without duplicates. The slice is shared; do not modify it.
func (e *Expr) Variables() []string { return e.vars }

// Eval evaluates the condition. Unknown variables are null. It does not
// allocate unless a pattern operator is applied to a non-string value. The
// error is an *EvalError when a variable holds a value of an unsupported
// type.
func (e *Expr) Eval(v Vars) (bool, error) {
	return e.root.eval(v)
}

func (n *node) eval(v Vars) (bool, error) {
	switch n.kind {
	case nAnd:
		ok, err := n.l.eval(v)
		if err != nil || !ok {
			return false, err
		}
		return n.r.eval(v)
	case nOr:
		ok, err := n.l.eval(v)
		if err != nil || ok {
			return ok, err
		}
		return n.r.eval(v)
	case nNot:
		ok, err := n.l.eval(v)
		return !ok && err == nil, err
	case nTruth:
		a, err := n.a.resolve(v)
		return a.truthy(), err
	}
	a, err := n.a.resolve(v)
	if err != nil {
		return false, err
	}
	b, err := n.b.resolve(v)
	if err != nil {
		return false, err
	}
	return n.compare(a, b) != n.neg, nil
}

func (o *operand) resolve(v Vars) (val, error) {
	if !o.isVar {
		return o.lit, nil
	}
	str, isString, x, ok := flowvar.LookupString(v, o.name)
	if !ok {
		return val{}, nil
	}
	if isString {
		return val{k: kString, s: str}, nil
	}
	r, ok := fromAny(x)
	if !ok {
		return val{}, &EvalError{Code: CodeUnsupportedValue, Var: o.name, Msg: "value of type " + typeName(x) + " cannot be compared in a condition"}
	}
	return r, nil
}

func typeName(x any) string {
	switch x.(type) {
	case []string:
		return "[]string"
	case []byte:
		return "[]byte"
	case map[string]any:
		return "map"
	}
	return "object"
}

// compare applies n.op to non-negated operands, including the null
// behaviour of the null-operand table of Apigee's conditions reference
// (some copies of that page lost its "true" cells; they are reconstructed
// from the operators' documented meaning):
//
//	op        LHS null  RHS null  both null
//	= == :=   false     false     true
//	=|        false     false     false
//	!=        true      true      false
//	>         true      false     false
//	>=        false     true      true
//	<         true      false     false
//	<=        true      false     true
//	~ ~~ ~/   false     n/a       false
func (n *node) compare(a, b val) bool {
	an, bn := a.k == kNull, b.k == kNull
	if an || bn {
		switch n.op {
		case opEq, opEqCI:
			return an && bn
		case opNe:
			return an != bn
		case opGt, opLt:
			return an && !bn
		case opGe:
			return bn
		case opLe:
			return an
		}
		return false
	}
	switch n.op {
	case opEq:
		return eqVals(a, b, false)
	case opEqCI:
		return eqVals(a, b, true)
	case opNe:
		return !eqVals(a, b, false)
	case opGt:
		return cmpVals(a, b) > 0
	case opGe:
		return cmpVals(a, b) >= 0
	case opLt:
		return cmpVals(a, b) < 0
	case opLe:
		return cmpVals(a, b) <= 0
	case opStartsWith:
		return strings.HasPrefix(a.str(), b.str())
	case opMatches, opPath:
		return n.glob.match(a.str())
	case opRegex:
		return n.re.MatchString(a.str())
	}
	return false
}

// String returns the parsed tree in a fixed prefix form, for tests and
// diagnostics: (and X Y), (or X Y), (not X), (Op a b), (truth a).
func (e *Expr) String() string {
	var b strings.Builder
	e.root.format(&b)
	return b.String()
}

func (n *node) format(b *strings.Builder) {
	switch n.kind {
	case nAnd, nOr:
		b.WriteString("(")
		b.WriteString(map[nodeKind]string{nAnd: "and", nOr: "or"}[n.kind])
		b.WriteString(" ")
		n.l.format(b)
		b.WriteString(" ")
		n.r.format(b)
		b.WriteString(")")
	case nNot:
		b.WriteString("(not ")
		n.l.format(b)
		b.WriteString(")")
	case nTruth:
		b.WriteString("(truth ")
		n.a.format(b)
		b.WriteString(")")
	default:
		if n.neg {
			b.WriteString("(not ")
		}
		b.WriteString("(")
		b.WriteString(opNames[n.op])
		b.WriteString(" ")
		n.a.format(b)
		b.WriteString(" ")
		n.b.format(b)
		b.WriteString(")")
		if n.neg {
			b.WriteString(")")
		}
	}
}

func (o *operand) format(b *strings.Builder) {
	if o.isVar {
		b.WriteString(o.name)
		return
	}
	switch o.lit.k {
	case kNull:
		b.WriteString("null")
	case kString:
		b.WriteString(strconv.Quote(o.lit.s))
	default:
		b.WriteString(o.lit.str())
	}
}
