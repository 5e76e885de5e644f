package expr

import (
	"fmt"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// nodeKind is the kind of an AST node.
type nodeKind uint8

const (
	nBinary  nodeKind = iota // op, kids[0] op kids[1]
	nNeg                     // -kids[0]
	nGroup                   // (kids[0])
	nPath                    // [start] steps; start is a filter expression or nil
	nFilter                  // kids[0] followed by preds
	nVar                     // $name
	nCall                    // name(kids...)
	nLiteral                 // 'str'
	nNumber                  // num
)

// ast is a node of a parsed expression. pos/end are byte offsets.
type ast struct {
	kind  nodeKind
	op    string
	pos   int
	end   int
	kids  []*ast
	preds []*ast // nFilter
	start *ast   // nPath: filter expression the path starts from (nil: location path)
	abs   bool   // nPath: absolute location path
	steps []*step
	name  string // nVar, nCall
	str   string // nLiteral
	num   float64
	fn    *Func // nCall: extension function (nil: XPath built-in)
}

// step is one location step.
type step struct {
	pos    int
	sep    string // "/" or "//" before the step; "" for the first step of a relative path
	axis   string // "" = child (or abbreviated), "attribute" for '@'
	abbrev string // "." or ".."
	test   string // name test local part or "*"; node type name when typ
	typ    bool   // node type test: test() with optional literal
	lit    string // processing-instruction('lit')
	hasLit bool
	preds  []*ast
}

var axes = map[string]bool{
	"ancestor": true, "ancestor-or-self": true, "attribute": true, "child": true,
	"descendant": true, "descendant-or-self": true, "following": true,
	"following-sibling": true, "namespace": true, "parent": true, "preceding": true,
	"preceding-sibling": true, "self": true,
}

// maxNesting bounds parser recursion (and the antchfx builder's own limit).
const maxNesting = 200

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

// parse parses src into an AST.
func parse(src string) (*ast, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	if p.peek().kind == tEOF {
		return nil, posErr(src, 0, diag.XPathSyntax, "empty expression")
	}
	a, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "unexpected %s", t.describe())
	}
	return a, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) prevEnd() int {
	if p.i == 0 {
		return 0
	}
	return p.toks[p.i-1].end
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return posErr(p.src, t.pos, diag.XPathSyntax, fmt.Sprintf(format, args...))
}

func (p *parser) expect(k tokKind) (token, error) {
	t := p.peek()
	if t.kind != k {
		return t, p.errAt(t, "expected %s, found %s", tokText[k], t.describe())
	}
	return p.next(), nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return p.errAt(p.peek(), "expression nests too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// expr parses Expr (OrExpr).
func (p *parser) expr() (*ast, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.binary(0)
}

// binary levels, loosest first.
var levels = [][]string{
	{"or"},
	{"and"},
	{"=", "!="},
	{"<", "<=", ">", ">="},
	{"+", "-"},
	{"*", "div", "mod"},
}

func opOf(t token) string {
	switch t.kind {
	case tOpName:
		return t.s
	case tMul:
		return "*"
	case tEq:
		return "="
	case tNe:
		return "!="
	case tLt:
		return "<"
	case tLe:
		return "<="
	case tGt:
		return ">"
	case tGe:
		return ">="
	case tPlus:
		return "+"
	case tMinus:
		return "-"
	}
	return ""
}

func (p *parser) binary(level int) (*ast, error) {
	if level == len(levels) {
		return p.unary()
	}
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op := opOf(p.peek())
		found := false
		for _, o := range levels[level] {
			if o == op {
				found = true
				break
			}
		}
		if !found {
			return left, nil
		}
		p.next()
		right, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		left = &ast{kind: nBinary, op: op, pos: left.pos, end: right.end, kids: []*ast{left, right}}
	}
}

func (p *parser) unary() (*ast, error) {
	if t := p.peek(); t.kind == tMinus {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &ast{kind: nNeg, pos: t.pos, end: x.end, kids: []*ast{x}}, nil
	}
	return p.union()
}

func (p *parser) union() (*ast, error) {
	left, err := p.pathExpr()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tPipe {
		p.next()
		right, err := p.pathExpr()
		if err != nil {
			return nil, err
		}
		left = &ast{kind: nBinary, op: "|", pos: left.pos, end: right.end, kids: []*ast{left, right}}
	}
	return left, nil
}

func startsStep(k tokKind) bool {
	switch k {
	case tName, tStar, tNodeType, tDot, tDotDot, tAt, tAxisName:
		return true
	}
	return false
}

func (p *parser) pathExpr() (*ast, error) {
	t := p.peek()
	switch {
	case t.kind == tSlash || t.kind == tSlashSlash:
		p.next()
		a := &ast{kind: nPath, abs: true, pos: t.pos, end: t.end}
		if t.kind == tSlash && !startsStep(p.peek().kind) {
			return a, nil // the root alone
		}
		sep := "/"
		if t.kind == tSlashSlash {
			sep = "//"
		}
		if err := p.steps(a, sep); err != nil {
			return nil, err
		}
		return a, nil
	case startsStep(t.kind):
		a := &ast{kind: nPath, pos: t.pos}
		if err := p.steps(a, ""); err != nil {
			return nil, err
		}
		return a, nil
	}
	f, err := p.filterExpr()
	if err != nil {
		return nil, err
	}
	if k := p.peek().kind; k == tSlash || k == tSlashSlash {
		sep := "/"
		if p.next().kind == tSlashSlash {
			sep = "//"
		}
		a := &ast{kind: nPath, start: f, pos: f.pos}
		if err := p.steps(a, sep); err != nil {
			return nil, err
		}
		return a, nil
	}
	return f, nil
}

// steps parses RelativeLocationPath into a.steps; sep is the separator
// before the first step.
func (p *parser) steps(a *ast, sep string) error {
	for {
		s, err := p.step(sep)
		if err != nil {
			return err
		}
		a.steps = append(a.steps, s)
		a.end = p.prevEnd()
		switch p.peek().kind {
		case tSlash:
			sep = "/"
		case tSlashSlash:
			sep = "//"
		default:
			return nil
		}
		p.next()
	}
}

func (p *parser) step(sep string) (*step, error) {
	t := p.next()
	s := &step{pos: t.pos, sep: sep}
	switch t.kind {
	case tDot:
		s.abbrev = "."
		return s, nil
	case tDotDot:
		s.abbrev = ".."
		return s, nil
	case tAt:
		s.axis = "attribute"
		t = p.next()
	case tAxisName:
		if t.prefix != "" || !axes[t.s] {
			return nil, p.errAt(t, "unknown axis '%s'", t.s)
		}
		if t.s == "namespace" {
			return nil, posErr(p.src, t.pos, diag.Unsupported, "the namespace axis is not supported")
		}
		s.axis = t.s
		if _, err := p.expect(tColonColon); err != nil {
			return nil, err
		}
		t = p.next()
	}
	switch t.kind {
	case tStar:
		s.test = "*"
	case tName:
		s.test = t.s
	case tNodeType:
		s.typ = true
		s.test = t.s
		if _, err := p.expect(tLParen); err != nil {
			return nil, err
		}
		if t.s == "processing-instruction" && p.peek().kind == tLiteral {
			s.lit, s.hasLit = p.next().s, true
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
	case tFuncName:
		return nil, p.errAt(t, "a function call cannot be a location step")
	default:
		return nil, p.errAt(t, "expected a node test, found %s", t.describe())
	}
	for p.peek().kind == tLBracket {
		pr, err := p.predicate()
		if err != nil {
			return nil, err
		}
		s.preds = append(s.preds, pr)
	}
	return s, nil
}

func (p *parser) predicate() (*ast, error) {
	p.next() // '['
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRBracket); err != nil {
		return nil, err
	}
	return x, nil
}

func (p *parser) filterExpr() (*ast, error) {
	prim, err := p.primary()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tLBracket {
		return prim, nil
	}
	f := &ast{kind: nFilter, pos: prim.pos, kids: []*ast{prim}}
	for p.peek().kind == tLBracket {
		pr, err := p.predicate()
		if err != nil {
			return nil, err
		}
		f.preds = append(f.preds, pr)
	}
	f.end = p.prevEnd()
	return f, nil
}

func (p *parser) primary() (*ast, error) {
	t := p.next()
	switch t.kind {
	case tVar:
		return &ast{kind: nVar, name: t.s, pos: t.pos, end: t.end}, nil
	case tLiteral:
		return &ast{kind: nLiteral, str: t.s, pos: t.pos, end: t.end}, nil
	case tNumber:
		return &ast{kind: nNumber, num: t.num, pos: t.pos, end: t.end}, nil
	case tLParen:
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		r, err := p.expect(tRParen)
		if err != nil {
			return nil, err
		}
		return &ast{kind: nGroup, pos: t.pos, end: r.end, kids: []*ast{x}}, nil
	case tFuncName:
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		name := t.s
		if t.prefix != "" {
			name = t.prefix + ":" + t.s
		}
		c := &ast{kind: nCall, name: name, pos: t.pos}
		if _, err := p.expect(tLParen); err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			for {
				arg, err := p.expr()
				if err != nil {
					return nil, err
				}
				c.kids = append(c.kids, arg)
				if p.peek().kind != tComma {
					break
				}
				p.next()
			}
		}
		r, err := p.expect(tRParen)
		if err != nil {
			return nil, err
		}
		c.end = r.end
		return c, nil
	case tEOF:
		return nil, p.errAt(t, "unexpected end of expression")
	}
	return nil, p.errAt(t, "unexpected %s", t.describe())
}
