package template

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/expr"
)

// maxNesting bounds how deeply if/loop/with blocks may nest. It keeps the
// parser's and the executor's recursion bounded on hostile input.
const maxNesting = 200

// opKind is the kind of a compiled template node.
type opKind uint8

const (
	opText  opKind = iota // literal JSON skeleton
	opValue               // {{ expr }}
	opDot                 // {{.}}
	opComma               // {{,}}
	opPairs               // {{: expr }}
	opSet                 // {{$name := expr}}
	opIf                  // {{if}} … {{elseif}} … {{else}} … {{end}}
	opLoop                // {{loop expr}} … {{end}}
	opWith                // {{with expr}} … {{else}} … {{end}}
)

// node is one compiled piece of a template.
type node struct {
	kind  opKind
	pos   int    // byte offset of the node in the source ("{{" for commands)
	text  string // opText
	chain chain  // opValue, opPairs, opSet, opLoop, opWith
	slot  int    // opSet: index into Template.locals
	body  []node // opLoop, opWith
	conds []branch
	els   []node // opIf, opWith: the else part
}

// branch is one "if"/"elseif" arm.
type branch struct {
	pos  int
	cond chain
	body []node
}

// chain is an expression split at its top-level "??" operators; a chain of
// one part is a plain expression.
type chain []part

// part is one compiled operand of a chain.
type part struct {
	src string
	off int // byte offset of src in the template source
	e   *expr.Expr
}

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tText tokKind = iota
	tValue
	tDot
	tComma
	tPairs
	tSet
	tIf
	tElseif
	tElse
	tEnd
	tLoop
	tWith
)

var keywords = map[string]tokKind{"if": tIf, "elseif": tElseif, "loop": tLoop, "with": tWith}

var tokNames = [...]string{
	tIf: "{{if}}", tElseif: "{{elseif}}", tElse: "{{else}}", tEnd: "{{end}}",
	tLoop: "{{loop}}", tWith: "{{with}}",
}

// token is one lexical token: literal text or a command.
type token struct {
	kind    tokKind
	pos     int    // byte offset of the token ("{{" for commands)
	text    string // tText: the literal text; tSet: the variable name
	arg     string // expression source (may be empty when missing)
	argOff  int    // byte offset of arg in the source
	argNeed bool   // the command requires an expression
}

// parser turns a source into nodes, collecting every error it finds.
type parser struct {
	src    string
	toks   []token
	i      int
	errs   []*diag.PosError
	locals []string
	abort  bool
}

// Parse compiles a template. Every expression is compiled here, so Execute
// does no parsing. The error, when not nil, is a *diag.PosError for the first
// problem in source order; Check returns all of them.
func Parse(src string) (*Template, error) {
	t, errs := parse(src)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return t, nil
}

// Check returns every syntax error of src in source order (each a
// *diag.PosError), or nil when src is a valid template. It is meant for
// tooling such as "flowproc validate".
func Check(src string) []error {
	_, errs := parse(src)
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return out
}

func parse(src string) (*Template, []*diag.PosError) {
	p := &parser{src: src}
	p.lex()
	var nodes []node
	for !p.abort {
		list, term := p.parseList(0)
		nodes = append(nodes, list...)
		if term == nil {
			break
		}
		p.errorf(term.pos, "%s without a matching {{if}}, {{loop}} or {{with}}", tokNames[term.kind])
	}
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Offset < p.errs[j].Offset })
		return nil, p.errs
	}
	t := &Template{src: src, nodes: nodes, locals: p.locals}
	t.shape = shapeOf(t)
	return t, nil
}

// errorf records a template syntax error at byte offset off.
func (p *parser) errorf(off int, format string, args ...any) {
	p.errAt(off, diag.TemplateSyntax, fmt.Sprintf(format, args...))
}

func (p *parser) errAt(off int, code diag.Code, msg string) {
	line, col := lineCol(p.src, off)
	p.errs = append(p.errs, &diag.PosError{Code: code, Line: line, Col: col, Offset: off, Msg: msg})
}

// lineCol converts a byte offset into a 1-based line and a 1-based column
// counted in characters.
func lineCol(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	line = 1 + strings.Count(src[:off], "\n")
	start := strings.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(src[start:off])
}

// ---- lexer ----

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lex splits the source into tokens. Errors for malformed commands are
// recorded and the command is skipped.
func (p *parser) lex() {
	src := p.src
	lit := 0 // start of pending literal text
	i := 0
	for {
		k := strings.Index(src[i:], "{{")
		if k < 0 {
			break
		}
		i += k
		// "{{{": the first brace is literal JSON ("{" followed by a command).
		if i+2 < len(src) && src[i+2] == '{' {
			i++
			continue
		}
		if i > lit {
			p.toks = append(p.toks, token{kind: tText, pos: lit, text: src[lit:i]})
		}
		end, ok := p.lexCommand(i)
		if !ok {
			p.errorf(i, `Unclosed "{{": missing "}}"`)
			return
		}
		i, lit = end, end
	}
	if lit < len(src) {
		p.toks = append(p.toks, token{kind: tText, pos: lit, text: src[lit:]})
	}
}

// closeAt returns the offset of the "}}" closing a command whose content
// starts at from. Quoted strings in expressions may contain "}}"; when the
// quotes do not balance the first "}}" is used and the expression compiler
// reports the bad quote.
func closeAt(src string, from int) int {
	var q byte
	for j := from; j+1 < len(src); j++ {
		c := src[j]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '}' && src[j+1] == '}':
			return j
		}
	}
	if k := strings.Index(src[from:], "}}"); k >= 0 {
		return from + k
	}
	return -1
}

// lexCommand lexes the command whose "{{" is at pos and returns the offset
// just past its "}}".
func (p *parser) lexCommand(pos int) (int, bool) {
	src := p.src
	in := pos + 2
	if strings.HasPrefix(src[in:], "//") {
		k := strings.Index(src[in+2:], "}}")
		if k < 0 {
			return 0, false
		}
		return in + 2 + k + 2, true
	}
	cl := closeAt(src, in)
	if cl < 0 {
		return 0, false
	}
	end := cl + 2
	inner := src[in:cl]
	tok := token{pos: pos}
	switch {
	case inner == "":
		p.errorf(pos, "Empty template command")
		return end, true
	case isSpace(inner[0]):
		tok.kind, tok.argNeed = tValue, true
		tok.arg, tok.argOff = trimArg(inner, in)
	case inner == ".":
		tok.kind = tDot
	case inner == ",":
		tok.kind = tComma
	case inner[0] == ':':
		tok.kind, tok.argNeed = tPairs, true
		tok.arg, tok.argOff = trimArg(inner[1:], in+1)
	case inner[0] == '$':
		if !p.lexSet(&tok, inner, in) {
			return end, true
		}
	default:
		w := 0
		for w < len(inner) && inner[w] >= 'a' && inner[w] <= 'z' {
			w++
		}
		word, rest := inner[:w], inner[w:]
		blank := strings.TrimLeft(rest, " \t\r\n") == ""
		switch {
		case word == "else" && blank:
			tok.kind = tElse
		case word == "end" && blank:
			tok.kind = tEnd
		case (word == "if" || word == "elseif" || word == "loop" || word == "with") &&
			(rest == "" || isSpace(rest[0])):
			tok.kind = keywords[word]
			tok.argNeed = true
			tok.arg, tok.argOff = trimArg(rest, in+w)
		default:
			p.errorf(pos, "Invalid template command: %s%s", clip(strings.TrimSpace(inner)), hint(inner))
			return end, true
		}
	}
	if tok.argNeed && tok.arg == "" {
		p.errorf(pos, "Missing expression in %s", cmdName(tok.kind))
	}
	p.toks = append(p.toks, tok)
	return end, true
}

// lexSet lexes "$name := expr" (inner starts with "$").
func (p *parser) lexSet(tok *token, inner string, in int) bool {
	n := 1
	for n < len(inner) && isNameByte(inner[n], n == 1) {
		n++
	}
	name := inner[1:n]
	rest := strings.TrimLeft(inner[n:], " \t\r\n")
	if name == "" || !strings.HasPrefix(rest, ":=") {
		p.errorf(tok.pos, "Invalid template command: %s (expected {{$name := expression}})", clip(strings.TrimSpace(inner)))
		return false
	}
	tok.kind, tok.argNeed, tok.text = tSet, true, name
	after := len(inner) - len(rest) + 2
	tok.arg, tok.argOff = trimArg(inner[after:], in+after)
	return true
}

// isNameByte reports whether c may appear in a variable name (an XML NCName,
// restricted to ASCII plus any non-ASCII byte).
func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

// trimArg trims blanks around s (which starts at byte offset off) and returns
// the trimmed text and its offset.
func trimArg(s string, off int) (string, int) {
	t := strings.TrimLeft(s, " \t\r\n")
	off += len(s) - len(t)
	return strings.TrimRight(t, " \t\r\n"), off
}

func clip(s string) string {
	if len(s) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "…"
	}
	return s
}

// hint explains the most common cause of an unknown command.
func hint(inner string) string {
	if inner != "" && !isSpace(inner[0]) {
		return ` (a placeholder needs a space after "{{")`
	}
	return ""
}

func cmdName(k tokKind) string {
	switch k {
	case tValue:
		return "placeholder"
	case tPairs:
		return "{{:}}"
	case tSet:
		return "{{$name :=}}"
	}
	return tokNames[k]
}

// ---- parser ----

// parseList parses nodes until EOF or a block terminator (elseif, else, end),
// which it consumes and returns.
func (p *parser) parseList(depth int) ([]node, *token) {
	var out []node
	for p.i < len(p.toks) && !p.abort {
		t := &p.toks[p.i]
		p.i++
		switch t.kind {
		case tText:
			out = append(out, node{kind: opText, pos: t.pos, text: t.text})
		case tDot:
			out = append(out, node{kind: opDot, pos: t.pos})
		case tComma:
			out = append(out, node{kind: opComma, pos: t.pos})
		case tValue:
			out = append(out, node{kind: opValue, pos: t.pos, chain: p.chain(t)})
		case tPairs:
			out = append(out, node{kind: opPairs, pos: t.pos, chain: p.chain(t)})
		case tSet:
			out = append(out, node{kind: opSet, pos: t.pos, chain: p.chain(t), slot: p.slot(t.text)})
		case tElseif, tElse, tEnd:
			return out, t
		case tIf, tLoop, tWith:
			if depth >= maxNesting {
				p.errorf(t.pos, "Template blocks nested deeper than %d", maxNesting)
				p.abort = true
				return out, nil
			}
			out = append(out, p.parseBlock(t, depth+1))
		}
	}
	return out, nil
}

// parseBlock parses an if, loop or with block whose opening token is open.
func (p *parser) parseBlock(open *token, depth int) node {
	n := node{pos: open.pos}
	c := p.chain(open)
	switch open.kind {
	case tLoop:
		n.kind, n.chain = opLoop, c
	case tWith:
		n.kind, n.chain = opWith, c
	default:
		n.kind = opIf
		n.conds = []branch{{pos: open.pos, cond: c}}
	}
	inElse := false
	for {
		list, term := p.parseList(depth)
		switch {
		case inElse:
			n.els = append(n.els, list...)
		case n.kind == opIf:
			b := &n.conds[len(n.conds)-1]
			b.body = append(b.body, list...)
		default:
			n.body = append(n.body, list...)
		}
		if term == nil {
			if !p.abort {
				p.errorf(open.pos, "Unclosed %s: missing {{end}}", tokNames[open.kind])
			}
			return n
		}
		switch term.kind {
		case tEnd:
			return n
		case tElse:
			if inElse {
				p.errorf(term.pos, "Duplicate {{else}} in %s", tokNames[open.kind])
			} else if n.kind == opLoop {
				p.errorf(term.pos, "{{else}} is not allowed in {{loop}}")
			}
			inElse = true
		case tElseif:
			c := p.chain(term)
			switch {
			case n.kind != opIf:
				p.errorf(term.pos, "{{elseif}} is only allowed in {{if}}")
			case inElse:
				p.errorf(term.pos, "{{elseif}} after {{else}}")
			default:
				n.conds = append(n.conds, branch{pos: term.pos, cond: c})
			}
		}
	}
}

// slot returns the local-variable slot for name.
func (p *parser) slot(name string) int {
	for i, l := range p.locals {
		if l == name {
			return i
		}
	}
	p.locals = append(p.locals, name)
	return len(p.locals) - 1
}

// chain splits a token's expression at top-level "??" and compiles each
// operand, translating compiler positions into template positions.
func (p *parser) chain(t *token) chain {
	if t.arg == "" {
		return nil // "Missing expression" already reported
	}
	var c chain
	splitCoalesce(t.arg, func(s string, off int) {
		src, o := trimArg(s, t.argOff+off)
		if src == "" {
			p.errorf(t.argOff+off, `Missing operand of "??"`)
			return
		}
		e, err := expr.Compile(src)
		if err != nil {
			p.exprError(err, src, o)
			return
		}
		c = append(c, part{src: src, off: o, e: e})
	})
	return c
}

// exprError records an expression compile error at its template position.
func (p *parser) exprError(err error, src string, off int) {
	var pe *diag.PosError
	if !errors.As(err, &pe) {
		p.errAt(off, diag.XPathSyntax, err.Error())
		return
	}
	rel := pe.Offset
	if rel == 0 && pe.Line <= 1 && pe.Col > 1 {
		rel = pe.Col - 1
	}
	if rel < 0 || rel > len(src) {
		rel = 0
	}
	code := pe.Code
	if code == "" {
		code = diag.XPathSyntax
	}
	p.errAt(off+rel, code, pe.Msg)
}

// splitCoalesce calls f for every operand of the top-level "??" operators of
// s, with the operand's byte offset in s. Quotes, parentheses and brackets
// are respected, so "??" inside a string or a function call does not split.
func splitCoalesce(s string, f func(string, int)) {
	var q byte
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			if depth > 0 {
				depth--
			}
		case c == '?' && depth == 0 && i+1 < len(s) && s[i+1] == '?':
			f(s[start:i], start)
			i++
			start = i + 1
		}
	}
	f(s[start:], start)
}
