package cond

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/javaregex"
)

// MaxDepth bounds the nesting of parentheses and not operators.
const MaxDepth = 100

// Parse compiles an Apigee condition. src is the condition text with XML
// entities already decoded (&lt; &amp;&amp; &quot; are the XML parser's
// job). Patterns (Matches, MatchesPath, JavaRegex) are compiled here, once.
//
// Grammar (after apigeelint's lib/peggy/Apigee-Condition.pegjs, with Java
// precedence as the conditions reference states: not binds tightest, then
// and, then or; and/or are left-associative):
//
//	condition := and { ("or" | "||") and }
//	and       := unary { ("and" | "&&") unary }
//	unary     := ("not" | "!") unary | primary
//	primary   := "(" condition ")" | operand [ [ "not" | "!" ] op operand ]
//	operand   := variable | 'quoted variable' | "string" | number | null | true | false
//
// A primary without an operator is a truth test of its operand.
func Parse(src string) (*Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &SyntaxError{Col: 1, Code: CodeEmpty, Msg: "empty condition"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, seen: map[string]bool{}}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, p.errAt(t, CodeUnexpectedParen, "unexpected ) without a matching (")
		}
		return nil, p.unexpected(t, "an operator, and, or, or the end of the condition")
	}
	sort.Strings(p.vars)
	return &Expr{src: src, root: root, vars: p.vars}, nil
}

// MustParse is Parse for conditions known to be valid (tests, built-ins);
// it panics on error.
func MustParse(src string) *Expr {
	e, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return e
}

type parser struct {
	src   string
	toks  []token
	pos   int
	depth int
	vars  []string
	seen  map[string]bool
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) errAt(t token, code, msg string) *SyntaxError {
	return synErr(p.src, t.off, code, msg)
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end of the condition"
	case tString:
		return "string " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

func (p *parser) unexpected(t token, want string) *SyntaxError {
	if t.kind == tIdent {
		if right, ok := notOperators[strings.ToLower(t.text)]; ok {
			return p.errAt(t, CodeUnknownOperator, "Apigee has no operator "+strconv.Quote(t.text)+"; use "+right)
		}
	}
	return p.errAt(t, CodeExpectedOperator, "expected "+want+", found "+describe(t))
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(t, CodeTooDeep, "condition nests deeper than "+strconv.Itoa(MaxDepth))
	}
	return nil
}

func (p *parser) or() (*node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &node{kind: nOr, l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (*node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &node{kind: nAnd, l: l, r: r}
	}
	return l, nil
}

func (p *parser) unary() (*node, error) {
	if t := p.peek(); t.kind == tNot {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.unary()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &node{kind: nNot, l: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (*node, error) {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tRParen {
			if c.kind == tEOF {
				return nil, p.errAt(t, CodeUnbalancedParen, "unbalanced parenthesis: ( is not closed")
			}
			return nil, p.unexpected(c, "an operator, and, or, or )")
		}
		p.next()
		return x, nil
	case tRParen:
		if p.depth > 0 {
			return nil, p.errAt(t, CodeExpectedOperand, "expected a variable, a literal, not or (, found )")
		}
		return nil, p.errAt(t, CodeUnexpectedParen, "unexpected ) without a matching (")
	}
	a, err := p.operand("a variable, a literal, not or (")
	if err != nil {
		return nil, err
	}
	neg := false
	if n := p.peek(); n.kind == tNot {
		p.next()
		o := p.peek()
		if o.kind != tOp || o.neg || !negatable(o.op) {
			return nil, p.errAt(n, CodeBadNegation, "only StartsWith, Matches, JavaRegex and MatchesPath can be negated inline; put not before the comparison or use != / NotEquals")
		}
		neg = true
	}
	o := p.peek()
	if o.kind != tOp {
		return &node{kind: nTruth, a: a}, nil
	}
	p.next()
	if p.peek().kind == tEOF || p.peek().kind == tRParen || p.peek().kind == tAnd || p.peek().kind == tOr {
		return nil, p.errAt(p.peek(), CodeMissingOperand, opNames[o.op]+" ("+o.text+") needs a right operand")
	}
	bt := p.peek()
	b, err := p.operand("a right operand for " + opNames[o.op])
	if err != nil {
		return nil, err
	}
	n := &node{kind: nCmp, op: o.op, neg: neg || o.neg, a: a, b: b}
	switch o.op {
	case opMatches, opPath, opRegex:
		if b.isVar || b.lit.k != kString {
			return nil, p.errAt(bt, CodePatternOperand, opNames[o.op]+" needs a double-quoted pattern on its right, found "+describe(bt))
		}
		switch o.op {
		case opMatches:
			n.glob = compileGlob(b.lit.s, false)
		case opPath:
			n.glob = compileGlob(b.lit.s, true)
		default:
			// Apigee matches with Matcher.matches(): the whole value must
			// match [code: api-platform-samples condition-pattern-matching
			// README; doc].
			re, err := javaregex.CompileWhole(b.lit.s)
			if err != nil {
				code := CodeRegexInvalid
				if errors.Is(err, javaregex.ErrUnsupported) {
					code = CodeRegexUnsupported
				}
				return nil, p.errAt(bt, code, "JavaRegex "+err.Error())
			}
			n.re = re
		}
	case opStartsWith:
		if !b.isVar && b.lit.k != kString {
			return nil, p.errAt(bt, CodePatternOperand, "StartsWith needs a double-quoted string or a variable on its right, found "+describe(bt))
		}
	}
	return n, nil
}

// negatable: apigeelint's op_accepts_literal_and_negation.
func negatable(op opKind) bool {
	return op == opStartsWith || op == opMatches || op == opRegex || op == opPath
}

func (p *parser) operand(want string) (operand, error) {
	t := p.peek()
	switch t.kind {
	case tIdent:
		p.next()
		if !p.seen[t.text] {
			p.seen[t.text] = true
			p.vars = append(p.vars, t.text)
		}
		return operand{isVar: true, name: t.text}, nil
	case tString:
		p.next()
		return operand{lit: val{k: kString, s: t.text}}, nil
	case tNumber:
		p.next()
		return operand{lit: t.lit}, nil
	case tNull:
		p.next()
		return operand{}, nil
	case tTrue, tFalse:
		p.next()
		return operand{lit: val{k: kBool, b: t.kind == tTrue}}, nil
	case tEOF:
		return operand{}, p.errAt(t, CodeExpectedOperand, "expected "+want+", found the end of the condition")
	case tRParen:
		return operand{}, p.errAt(t, CodeExpectedOperand, "expected "+want+", found )")
	}
	return operand{}, p.errAt(t, CodeExpectedOperand, "expected "+want+", found "+describe(t))
}
