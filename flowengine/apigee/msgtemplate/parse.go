package msgtemplate

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

// Vars resolves flow variables; see flowvar.Vars.
type Vars = flowvar.Vars

// Template is a parsed message template. It is immutable and safe for
// concurrent use.
type Template struct {
	src   string
	parts []part
	vars  []string
}

type part struct {
	lit string
	ref *ref // nil for literal text
}

type ref struct {
	name   string
	def    string
	hasDef bool
	call   *call // function call instead of a variable
}

type call struct {
	name  string
	fn    *function
	args  []arg
	state any // prepared by fn.prepare at load
}

type arg struct {
	isVar bool
	name  string // variable
	lit   string // literal (when !isVar)
	null  bool   // the literal null
}

func isNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func isName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// Parse compiles a template whose references open with prefix and close
// with suffix ('{' and '}' in Apigee unless a Payload sets variablePrefix
// and variableSuffix). A zero prefix or suffix means the default.
// Function calls are checked and their literal arguments (regexes, time
// formats, paths) compiled here.
func Parse(src string, prefix, suffix byte) (*Template, error) {
	if prefix == 0 {
		prefix = '{'
	}
	if suffix == 0 {
		suffix = '}'
	}
	if prefix == suffix || isNameChar(prefix) || isNameChar(suffix) || prefix == ':' || suffix == ':' || prefix == '(' || suffix == '(' {
		return nil, &Error{Col: 1, Code: CodeBadDelimiters, Msg: "variable prefix " + strconv.QuoteRune(rune(prefix)) + " and suffix " + strconv.QuoteRune(rune(suffix)) + " cannot delimit references"}
	}
	p := &tparser{src: src, pre: prefix, suf: suffix, seen: map[string]bool{}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return &Template{src: src, parts: p.parts, vars: p.vars}, nil
}

// MustParse is Parse with the default delimiters for templates known to be
// valid; it panics on error.
func MustParse(src string) *Template {
	t, err := Parse(src, 0, 0)
	if err != nil {
		panic(err)
	}
	return t
}

// Source returns the template text as given to Parse.
func (t *Template) Source() string { return t.src }

// Variables returns the variables the template reads (references and
// function arguments), in order of first use. The slice is shared; do not
// modify it.
func (t *Template) Variables() []string { return t.vars }

// IsLiteral reports whether the template has no references.
func (t *Template) IsLiteral() bool {
	for _, p := range t.parts {
		if p.ref != nil {
			return false
		}
	}
	return true
}

type tparser struct {
	src      string
	pre, suf byte
	lit      strings.Builder
	parts    []part
	vars     []string
	seen     map[string]bool
}

func (p *tparser) errAt(off int, code, msg string) *Error {
	return &Error{Col: utf8.RuneCountInString(p.src[:min(off, len(p.src))]) + 1, Code: code, Msg: msg}
}

func (p *tparser) use(name string) {
	if !p.seen[name] {
		p.seen[name] = true
		p.vars = append(p.vars, name)
	}
}

func (p *tparser) flush() {
	if p.lit.Len() > 0 {
		p.parts = append(p.parts, part{lit: p.lit.String()})
		p.lit.Reset()
	}
}

func (p *tparser) parse() error {
	src := p.src
	for i := 0; i < len(src); {
		c := src[i]
		if c != p.pre {
			p.lit.WriteByte(c)
			i++
			continue
		}
		// {{text}} renders as {text}.
		if i+1 < len(src) && src[i+1] == p.pre {
			if end := p.doubleClose(i + 2); end >= 0 {
				p.lit.WriteByte(p.pre)
				p.lit.WriteString(src[i+2 : end])
				p.lit.WriteByte(p.suf)
				i = end + 2
				continue
			}
		}
		if i+1 >= len(src) || !isNameStart(src[i+1]) {
			p.lit.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(src) && isNameChar(src[j]) {
			j++
		}
		name := src[i+1 : j]
		switch {
		case j < len(src) && src[j] == p.suf:
			p.flush()
			p.use(name)
			p.parts = append(p.parts, part{ref: &ref{name: name}})
			i = j + 1
		case j < len(src) && src[j] == ':':
			end := strings.IndexByte(src[j+1:], p.suf)
			if end < 0 {
				p.lit.WriteByte(c)
				i++
				continue
			}
			p.flush()
			p.use(name)
			p.parts = append(p.parts, part{ref: &ref{name: name, def: src[j+1 : j+1+end], hasDef: true}})
			i = j + 1 + end + 1
		case j < len(src) && src[j] == '(':
			cl, next, err := p.call(name, i, j)
			if err != nil {
				return err
			}
			p.flush()
			p.parts = append(p.parts, part{ref: &ref{name: name, call: cl}})
			i = next
		default:
			p.lit.WriteByte(c)
			i++
		}
	}
	p.flush()
	return nil
}

// doubleClose finds the "}}" closing a "{{" whose text starts at from and
// holds no delimiter; -1 if there is none.
func (p *tparser) doubleClose(from int) int {
	for k := from; k < len(p.src); k++ {
		switch p.src[k] {
		case p.pre:
			return -1
		case p.suf:
			if k > from && k+1 < len(p.src) && p.src[k+1] == p.suf {
				return k
			}
			return -1
		}
	}
	return -1
}

// call parses name(args) starting at open (the "(" at src[open]) for the
// reference starting at start, and returns the offset after the suffix.
func (p *tparser) call(name string, start, open int) (*call, int, error) {
	src := p.src
	fn := functions[name]
	if fn == nil {
		return nil, 0, p.errAt(start+1, CodeUnknownFunction, "unknown template function "+strconv.Quote(name))
	}
	var raw []string
	var offs []int
	depth := 0
	var quote byte
	argStart := open + 1
	k := open + 1
	closed := false
	for ; k < len(src) && !closed; k++ {
		ch := src[k]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '(' || ch == '[' || ch == '{':
			depth++
		case (ch == ']' || ch == '}') && depth > 0:
			depth--
		case ch == ')' && depth > 0:
			depth--
		case ch == ')':
			raw = append(raw, src[argStart:k])
			offs = append(offs, argStart)
			closed = true
		case ch == ',' && depth == 0:
			raw = append(raw, src[argStart:k])
			offs = append(offs, argStart)
			argStart = k + 1
		}
	}
	if !closed {
		if quote != 0 {
			return nil, 0, p.errAt(start, CodeUnterminatedCall, "call of "+name+" has an unclosed quote")
		}
		return nil, 0, p.errAt(start, CodeUnterminatedCall, "call of "+name+" is not closed with )")
	}
	if k >= len(src) || src[k] != p.suf {
		return nil, 0, p.errAt(k, CodeMalformedCall, "expected "+strconv.QuoteRune(rune(p.suf))+" right after the ) of "+name+"(…)")
	}
	if len(raw) == 1 && strings.TrimSpace(raw[0]) == "" {
		raw, offs = nil, nil
	}
	cl := &call{name: name, fn: fn}
	for n, r := range raw {
		a, err := p.arg(strings.TrimSpace(r), offs[n], name)
		if err != nil {
			return nil, 0, err
		}
		cl.args = append(cl.args, a)
	}
	if len(cl.args) < fn.min || fn.max >= 0 && len(cl.args) > fn.max {
		return nil, 0, p.errAt(start+1, CodeArity, name+" takes "+fn.arity()+", got "+strconv.Itoa(len(cl.args)))
	}
	if fn.prepare != nil {
		st, err := fn.prepare(cl.args)
		if err != nil {
			return nil, 0, p.errAt(open+1, CodeBadArgument, name+": "+err.Error())
		}
		cl.state = st
	}
	return cl, k + 1, nil
}

func (p *tparser) arg(s string, off int, fname string) (arg, error) {
	switch {
	case s == "":
		return arg{}, p.errAt(off, CodeMalformedCall, "empty argument in call of "+fname)
	case len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0]:
		return arg{lit: s[1 : len(s)-1]}, nil
	case s[0] == '\'' || s[0] == '"':
		return arg{}, p.errAt(off, CodeMalformedCall, "argument "+s+" has text after its closing quote")
	case s == "null":
		return arg{null: true}, nil
	case s == "true" || s == "false":
		return arg{lit: s}, nil
	case isName(s):
		p.use(s)
		return arg{isVar: true, name: s}, nil
	}
	// Numbers and unquoted paths ($.a[0], /a/b) are literal text.
	return arg{lit: s}, nil
}
