package regex

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/budget"
)

// This file is a small backtracking regular-expression engine for the PCRE
// features Go's RE2 engine lacks: backreferences (\1, \k<name>),
// lookahead and lookbehind ((?=…) (?!…) (?<=…) (?<!…)), atomic groups and
// possessive quantifiers. Patterns RE2 accepts never come here. Matching is
// bounded: every step is charged to the run's budget.Budget (which also
// observes cancellation), and recursion depth is capped; going over either
// is an error, never a silent "no match".

// pcreMaxDepth bounds the recursion of one match attempt.
const pcreMaxDepth = 50_000

// chargeEvery is how many steps the engine counts locally before charging
// them to the budget.
const chargeEvery = 1024

// ErrTooDeep is returned when a match attempt recurses deeper than the
// engine allows (a pattern such as (a|b)* on a very long input).
var ErrTooDeep = errors.New("regular expression recursion too deep for the input")

// errPCRE is wrapped by pattern errors of this engine.
var errPCRE = errors.New("pcre")

type pkind uint8

const (
	pEmpty pkind = iota
	pLit
	pAny
	pClass
	pBOL // ^
	pEOL // $
	pBOT // \A
	pEOT // \z
	pEOTNL
	pWordB
	pNotWordB
	pCat
	pAlt
	pGroup // capture n
	pRepeat
	pLook
	pBackref
	pAtomic
)

type pnode struct {
	kind       pkind
	r          rune
	ci         bool // case-insensitive
	flag       bool // pAny: dot matches newline; pBOL/pEOL: multi-line
	cls        *pclass
	kids       []*pnode
	n          int // capture index, backref
	min, max   int // repeat; max -1 = unbounded
	greedy     bool
	behind     bool
	neg        bool
	nameRef    string
	possessive bool
}

type pclass struct {
	neg    bool
	ranges []rune // pairs lo, hi
	fns    []func(rune) bool
}

func (c *pclass) has(r rune) bool {
	for i := 0; i < len(c.ranges); i += 2 {
		if r >= c.ranges[i] && r <= c.ranges[i+1] {
			return true
		}
	}
	for _, f := range c.fns {
		if f(r) {
			return true
		}
	}
	return false
}

func (c *pclass) match(r rune, ci bool) bool {
	ok := c.has(r)
	if !ok && ci {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if c.has(f) {
				ok = true
				break
			}
		}
	}
	return ok != c.neg
}

// pcre is a compiled pattern.
type pcre struct {
	prog  *pnode
	ncap  int
	names map[string]int
}

type pparser struct {
	src   string
	i     int
	ci    bool
	multi bool
	dotal bool
	ungr  bool
	ncap  int
	names map[string]int
	refs  []*pnode
	depth int
}

// compilePCRE compiles a PCRE pattern (inline flags, no delimiters).
func compilePCRE(src string) (*pcre, error) {
	p := &pparser{src: src, names: map[string]int{}}
	n, err := p.alt()
	if err != nil {
		return nil, err
	}
	if p.i < len(src) {
		return nil, p.errf("unmatched ')'")
	}
	for _, r := range p.refs {
		if r.nameRef != "" {
			idx, ok := p.names[r.nameRef]
			if !ok {
				return nil, p.errf("reference to unknown group %q", r.nameRef)
			}
			r.n = idx
		}
		if r.n > p.ncap {
			return nil, p.errf("reference to non-existent group %d", r.n)
		}
	}
	return &pcre{prog: n, ncap: p.ncap, names: p.names}, nil
}

func (p *pparser) errf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", errPCRE, fmt.Sprintf(format, args...), p.i)
}

func (p *pparser) more() bool { return p.i < len(p.src) }

func (p *pparser) peek() byte { return p.src[p.i] }

func (p *pparser) alt() (*pnode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 200 {
		return nil, p.errf("pattern nests too deeply")
	}
	saved := [4]bool{p.ci, p.multi, p.dotal, p.ungr}
	defer func() { p.ci, p.multi, p.dotal, p.ungr = saved[0], saved[1], saved[2], saved[3] }()
	var branches []*pnode
	for {
		seq, err := p.seq()
		if err != nil {
			return nil, err
		}
		branches = append(branches, seq)
		if p.more() && p.peek() == '|' {
			p.i++
			continue
		}
		break
	}
	if len(branches) == 1 {
		return branches[0], nil
	}
	return &pnode{kind: pAlt, kids: branches}, nil
}

func (p *pparser) seq() (*pnode, error) {
	cat := &pnode{kind: pCat}
	for p.more() && p.peek() != '|' && p.peek() != ')' {
		a, err := p.atom()
		if err != nil {
			return nil, err
		}
		if a == nil {
			continue
		}
		a, err = p.quant(a)
		if err != nil {
			return nil, err
		}
		cat.kids = append(cat.kids, a)
	}
	return cat, nil
}

func (p *pparser) quant(a *pnode) (*pnode, error) {
	if !p.more() {
		return a, nil
	}
	min, max := -1, -1
	switch p.peek() {
	case '*':
		min, max = 0, -1
		p.i++
	case '+':
		min, max = 1, -1
		p.i++
	case '?':
		min, max = 0, 1
		p.i++
	case '{':
		lo, hi, n, ok := parseBraces(p.src[p.i:])
		if !ok {
			return a, nil // a literal '{'
		}
		min, max = lo, hi
		p.i += n
	default:
		return a, nil
	}
	switch a.kind {
	case pBOL, pEOL, pBOT, pEOT, pEOTNL, pWordB, pNotWordB, pLook:
		return nil, p.errf("nothing to repeat")
	}
	if max >= 0 && max < min || min > 1000 || max > 1000 {
		return nil, p.errf("bad repetition count")
	}
	r := &pnode{kind: pRepeat, kids: []*pnode{a}, min: min, max: max, greedy: !p.ungr}
	if p.more() && p.peek() == '?' {
		r.greedy = !r.greedy
		p.i++
	} else if p.more() && p.peek() == '+' {
		r.possessive = true
		p.i++
	}
	if r.possessive {
		return &pnode{kind: pAtomic, kids: []*pnode{r}}, nil
	}
	return r, nil
}

// parseBraces parses {n}, {n,} or {n,m}; it returns the bounds and the
// length consumed.
func parseBraces(s string) (lo, hi, n int, ok bool) {
	end := strings.IndexByte(s, '}')
	if end < 2 {
		return 0, 0, 0, false
	}
	body := s[1:end]
	a, b, comma := strings.Cut(body, ",")
	var err error
	if lo, err = strconv.Atoi(a); err != nil {
		return 0, 0, 0, false
	}
	hi = lo
	if comma {
		if b == "" {
			hi = -1
		} else if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, 0, false
		}
	}
	return lo, hi, end + 1, true
}

func (p *pparser) lit(r rune) *pnode { return &pnode{kind: pLit, r: r, ci: p.ci} }

func (p *pparser) atom() (*pnode, error) {
	c := p.peek()
	switch c {
	case '(':
		return p.group()
	case '[':
		cls, err := p.class()
		if err != nil {
			return nil, err
		}
		return &pnode{kind: pClass, cls: cls, ci: p.ci}, nil
	case '.':
		p.i++
		return &pnode{kind: pAny, flag: p.dotal}, nil
	case '^':
		p.i++
		return &pnode{kind: pBOL, flag: p.multi}, nil
	case '$':
		p.i++
		return &pnode{kind: pEOL, flag: p.multi}, nil
	case '\\':
		return p.escape()
	case '*', '+', '?':
		return nil, p.errf("nothing to repeat")
	}
	r, size := utf8.DecodeRuneInString(p.src[p.i:])
	p.i += size
	return p.lit(r), nil
}

func (p *pparser) group() (*pnode, error) {
	p.i++ // '('
	if !strings.HasPrefix(p.src[p.i:], "?") {
		p.ncap++
		n := p.ncap
		return p.groupBody(&pnode{kind: pGroup, n: n})
	}
	rest := p.src[p.i+1:]
	switch {
	case strings.HasPrefix(rest, ":"):
		p.i += 2
		return p.groupBody(&pnode{kind: pCat})
	case strings.HasPrefix(rest, ">"):
		p.i += 2
		return p.groupBody(&pnode{kind: pAtomic})
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
		p.i += 2
		return p.groupBody(&pnode{kind: pLook, neg: rest[0] == '!'})
	case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
		p.i += 3
		return p.groupBody(&pnode{kind: pLook, behind: true, neg: rest[1] == '!'})
	case strings.HasPrefix(rest, "#"):
		end := strings.IndexByte(p.src[p.i:], ')')
		if end < 0 {
			return nil, p.errf("unterminated comment")
		}
		p.i += end + 1
		return nil, nil
	case strings.HasPrefix(rest, "<"), strings.HasPrefix(rest, "P<"), strings.HasPrefix(rest, "'"):
		open := 2
		close := byte('>')
		if rest[0] == 'P' {
			open = 3
		} else if rest[0] == '\'' {
			close = '\''
		}
		end := strings.IndexByte(p.src[p.i+open:], close)
		if end <= 0 {
			return nil, p.errf("bad group name")
		}
		name := p.src[p.i+open : p.i+open+end]
		p.i += open + end + 1
		p.ncap++
		p.names[name] = p.ncap
		return p.groupBody(&pnode{kind: pGroup, n: p.ncap})
	}
	// Inline options: (?flags) or (?flags:…).
	j := p.i + 1
	on := true
	ci, multi, dotal, ungr := p.ci, p.multi, p.dotal, p.ungr
	for j < len(p.src) && p.src[j] != ')' && p.src[j] != ':' {
		switch p.src[j] {
		case '-':
			on = false
		case 'i':
			ci = on
		case 'm':
			multi = on
		case 's':
			dotal = on
		case 'U':
			ungr = on
		case 'x', 'u':
		default:
			p.i = j
			return nil, p.errf("unsupported group syntax")
		}
		j++
	}
	if j >= len(p.src) {
		return nil, p.errf("missing ')'")
	}
	if p.src[j] == ')' {
		p.i = j + 1
		p.ci, p.multi, p.dotal, p.ungr = ci, multi, dotal, ungr
		return nil, nil
	}
	p.i = j + 1
	saved := [4]bool{p.ci, p.multi, p.dotal, p.ungr}
	p.ci, p.multi, p.dotal, p.ungr = ci, multi, dotal, ungr
	n, err := p.groupBody(&pnode{kind: pCat})
	p.ci, p.multi, p.dotal, p.ungr = saved[0], saved[1], saved[2], saved[3]
	return n, err
}

func (p *pparser) groupBody(g *pnode) (*pnode, error) {
	body, err := p.alt()
	if err != nil {
		return nil, err
	}
	if !p.more() || p.peek() != ')' {
		return nil, p.errf("missing ')'")
	}
	p.i++
	g.kids = []*pnode{body}
	return g, nil
}

var (
	isDigitASCII = func(r rune) bool { return r >= '0' && r <= '9' }
	isWordASCII  = func(r rune) bool {
		return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	isSpaceASCII = func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
	}
)

// escapeClass returns the class of \d \w \s (and negations), or nil.
func escapeClass(c byte) *pclass {
	switch c {
	case 'd':
		return &pclass{fns: []func(rune) bool{isDigitASCII}}
	case 'D':
		return &pclass{neg: true, fns: []func(rune) bool{isDigitASCII}}
	case 'w':
		return &pclass{fns: []func(rune) bool{isWordASCII}}
	case 'W':
		return &pclass{neg: true, fns: []func(rune) bool{isWordASCII}}
	case 's':
		return &pclass{fns: []func(rune) bool{isSpaceASCII}}
	case 'S':
		return &pclass{neg: true, fns: []func(rune) bool{isSpaceASCII}}
	}
	return nil
}

// escapeRune decodes a character escape at p.i (after the backslash).
func (p *pparser) escapeRune() (rune, bool, error) {
	c := p.peek()
	switch c {
	case 'n':
		p.i++
		return '\n', true, nil
	case 'r':
		p.i++
		return '\r', true, nil
	case 't':
		p.i++
		return '\t', true, nil
	case 'f':
		p.i++
		return '\f', true, nil
	case 'v':
		p.i++
		return '\v', true, nil
	case 'e':
		p.i++
		return 0x1b, true, nil
	case 'a':
		p.i++
		return 7, true, nil
	case '0':
		// \0 and up to two more octal digits.
		p.i++
		v := rune(0)
		for k := 0; k < 2 && p.more() && p.peek() >= '0' && p.peek() <= '7'; k++ {
			v = v*8 + rune(p.peek()-'0')
			p.i++
		}
		return v, true, nil
	case 'x':
		p.i++
		if p.more() && p.peek() == '{' {
			end := strings.IndexByte(p.src[p.i:], '}')
			if end < 0 {
				return 0, false, p.errf("bad \\x{…}")
			}
			v, err := strconv.ParseUint(p.src[p.i+1:p.i+end], 16, 32)
			if err != nil || v > unicode.MaxRune {
				return 0, false, p.errf("bad \\x{…}")
			}
			p.i += end + 1
			return rune(v), true, nil
		}
		j := p.i
		for j < len(p.src) && j < p.i+2 && isHex(p.src[j]) {
			j++
		}
		v, _ := strconv.ParseUint("0"+p.src[p.i:j], 16, 32)
		p.i = j
		return rune(v), true, nil
	}
	if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		r, size := utf8.DecodeRuneInString(p.src[p.i:])
		p.i += size
		return r, true, nil
	}
	return 0, false, nil
}

func (p *pparser) escape() (*pnode, error) {
	p.i++ // '\'
	if !p.more() {
		return nil, p.errf("trailing backslash")
	}
	c := p.peek()
	if cls := escapeClass(c); cls != nil {
		p.i++
		return &pnode{kind: pClass, cls: cls}, nil
	}
	switch c {
	case 'b':
		p.i++
		return &pnode{kind: pWordB}, nil
	case 'B':
		p.i++
		return &pnode{kind: pNotWordB}, nil
	case 'A':
		p.i++
		return &pnode{kind: pBOT}, nil
	case 'z':
		p.i++
		return &pnode{kind: pEOT}, nil
	case 'Z':
		p.i++
		return &pnode{kind: pEOTNL}, nil
	case 'Q':
		p.i++
		end := strings.Index(p.src[p.i:], `\E`)
		lit := p.src[p.i:]
		if end >= 0 {
			lit = lit[:end]
			p.i += end + 2
		} else {
			p.i = len(p.src)
		}
		cat := &pnode{kind: pCat}
		for _, r := range lit {
			cat.kids = append(cat.kids, p.lit(r))
		}
		return cat, nil
	case 'E':
		p.i++
		return nil, nil
	case 'k':
		p.i++
		if !p.more() {
			return nil, p.errf("bad \\k")
		}
		open := p.peek()
		close := map[byte]byte{'<': '>', '{': '}', '\'': '\''}[open]
		end := strings.IndexByte(p.src[p.i+1:], close)
		if close == 0 || end <= 0 {
			return nil, p.errf("bad \\k")
		}
		ref := &pnode{kind: pBackref, ci: p.ci, nameRef: p.src[p.i+1 : p.i+1+end]}
		p.i += end + 2
		p.refs = append(p.refs, ref)
		return ref, nil
	case 'g':
		p.i++
		s := p.src[p.i:]
		braced := strings.HasPrefix(s, "{")
		if braced {
			s = s[1:]
		}
		j := 0
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == 0 {
			return nil, p.errf("unsupported \\g")
		}
		n, _ := strconv.Atoi(s[:j])
		p.i += j
		if braced {
			if !strings.HasPrefix(p.src[p.i:], "}") {
				return nil, p.errf("bad \\g{…}")
			}
			p.i++
		}
		ref := &pnode{kind: pBackref, n: n, ci: p.ci}
		p.refs = append(p.refs, ref)
		return ref, nil
	case 'p', 'P':
		p.i++
		fn, err := p.unicodeProp()
		if err != nil {
			return nil, err
		}
		return &pnode{kind: pClass, cls: &pclass{neg: c == 'P', fns: []func(rune) bool{fn}}}, nil
	}
	if c >= '1' && c <= '9' {
		j := p.i
		for j < len(p.src) && isDigit(p.src[j]) && j < p.i+2 {
			j++
		}
		n, _ := strconv.Atoi(p.src[p.i:j])
		p.i = j
		ref := &pnode{kind: pBackref, n: n, ci: p.ci}
		p.refs = append(p.refs, ref)
		return ref, nil
	}
	r, ok, err := p.escapeRune()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, p.errf("unsupported escape \\%c", c)
	}
	return p.lit(r), nil
}

// unicodeProp parses {Name} or a one-letter name after \p.
func (p *pparser) unicodeProp() (func(rune) bool, error) {
	if !p.more() {
		return nil, p.errf("bad \\p")
	}
	name := ""
	if p.peek() == '{' {
		end := strings.IndexByte(p.src[p.i:], '}')
		if end < 0 {
			return nil, p.errf("bad \\p{…}")
		}
		name = p.src[p.i+1 : p.i+end]
		p.i += end + 1
	} else {
		name = p.src[p.i : p.i+1]
		p.i++
	}
	neg := strings.HasPrefix(name, "^")
	name = strings.TrimPrefix(name, "^")
	t, ok := unicode.Categories[name]
	if !ok {
		t, ok = unicode.Scripts[name]
	}
	if !ok {
		if name == "Any" {
			return func(rune) bool { return !neg }, nil
		}
		return nil, p.errf("unknown Unicode property %q", name)
	}
	return func(r rune) bool { return unicode.Is(t, r) != neg }, nil
}

var posixClasses = map[string]func(rune) bool{
	"alpha":  func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' },
	"digit":  isDigitASCII,
	"alnum":  func(r rune) bool { return isWordASCII(r) && r != '_' },
	"word":   isWordASCII,
	"space":  isSpaceASCII,
	"upper":  func(r rune) bool { return r >= 'A' && r <= 'Z' },
	"lower":  func(r rune) bool { return r >= 'a' && r <= 'z' },
	"xdigit": func(r rune) bool { return r < 0x80 && isHex(byte(r)) },
	"punct": func(r rune) bool {
		return r > 0x20 && r < 0x7f && !isWordASCII(r) || r == '_'
	},
	"blank": func(r rune) bool { return r == ' ' || r == '\t' },
	"cntrl": func(r rune) bool { return r < 0x20 || r == 0x7f },
}

func (p *pparser) class() (*pclass, error) {
	p.i++ // '['
	cls := &pclass{}
	if p.more() && p.peek() == '^' {
		cls.neg = true
		p.i++
	}
	first := true
	for {
		if !p.more() {
			return nil, p.errf("missing ']'")
		}
		c := p.peek()
		if c == ']' && !first {
			p.i++
			return cls, nil
		}
		first = false
		if c == '[' && strings.HasPrefix(p.src[p.i:], "[:") {
			end := strings.Index(p.src[p.i:], ":]")
			if end > 2 {
				name := p.src[p.i+2 : p.i+end]
				neg := strings.HasPrefix(name, "^")
				f, ok := posixClasses[strings.TrimPrefix(name, "^")]
				if !ok {
					return nil, p.errf("unknown POSIX class %q", name)
				}
				if neg {
					g := f
					f = func(r rune) bool { return !g(r) }
				}
				cls.fns = append(cls.fns, f)
				p.i += end + 2
				continue
			}
		}
		lo, isSet, err := p.classAtom(cls)
		if err != nil {
			return nil, err
		}
		if isSet {
			continue
		}
		hi := lo
		if strings.HasPrefix(p.src[p.i:], "-") && p.i+1 < len(p.src) && p.src[p.i+1] != ']' {
			p.i++
			h, set, err := p.classAtom(cls)
			if err != nil {
				return nil, err
			}
			if set {
				cls.ranges = append(cls.ranges, lo, lo, '-', '-')
				continue
			}
			hi = h
			if hi < lo {
				return nil, p.errf("bad class range")
			}
		}
		cls.ranges = append(cls.ranges, lo, hi)
	}
}

// classAtom reads one class member; isSet is true when it was a set such
// as \d (added to cls directly).
func (p *pparser) classAtom(cls *pclass) (rune, bool, error) {
	if p.peek() != '\\' {
		r, size := utf8.DecodeRuneInString(p.src[p.i:])
		p.i += size
		return r, false, nil
	}
	p.i++
	if !p.more() {
		return 0, false, p.errf("trailing backslash")
	}
	c := p.peek()
	if sub := escapeClass(c); sub != nil {
		p.i++
		cls.fns = append(cls.fns, func(r rune) bool { return sub.has(r) != sub.neg })
		return 0, true, nil
	}
	if c == 'p' || c == 'P' {
		p.i++
		fn, err := p.unicodeProp()
		if err != nil {
			return 0, false, err
		}
		if c == 'P' {
			g := fn
			fn = func(r rune) bool { return !g(r) }
		}
		cls.fns = append(cls.fns, fn)
		return 0, true, nil
	}
	if c == 'b' {
		p.i++
		return '\b', false, nil
	}
	r, ok, err := p.escapeRune()
	if err != nil {
		return 0, false, err
	}
	if !ok {
		return 0, false, p.errf("unsupported escape \\%c in a class", c)
	}
	return r, false, nil
}

// pmatch is the state of one search.
type pmatch struct {
	in    []rune
	caps  []int
	b     *budget.Budget
	steps int // not yet charged to b
	depth int
	fail  bool  // budget exceeded, cancelled or too deep: stop everything
	err   error // why fail
}

// charge charges the steps counted so far to the budget.
func (m *pmatch) charge() {
	if m.steps == 0 || m.fail {
		return
	}
	n := m.steps
	m.steps = 0
	if err := m.b.Regex(int64(n)); err != nil {
		m.fail, m.err = true, err
	}
}

func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

func (m *pmatch) word(i int) bool { return i >= 0 && i < len(m.in) && isWordASCII(m.in[i]) }

func (m *pmatch) match(n *pnode, i int, k func(int) bool) bool {
	if m.fail {
		return false
	}
	m.steps++
	if m.steps >= chargeEvery {
		if m.charge(); m.fail {
			return false
		}
	}
	if m.depth >= pcreMaxDepth {
		m.fail, m.err = true, ErrTooDeep
		return false
	}
	m.depth++
	defer func() { m.depth-- }()
	in := m.in
	switch n.kind {
	case pEmpty:
		return k(i)
	case pLit:
		if i < len(in) && (in[i] == n.r || n.ci && foldEq(in[i], n.r)) {
			return k(i + 1)
		}
		return false
	case pAny:
		if i < len(in) && (n.flag || in[i] != '\n') {
			return k(i + 1)
		}
		return false
	case pClass:
		if i < len(in) && n.cls.match(in[i], n.ci) {
			return k(i + 1)
		}
		return false
	case pBOL:
		if i == 0 || n.flag && in[i-1] == '\n' {
			return k(i)
		}
		return false
	case pEOL:
		if i == len(in) || (n.flag && in[i] == '\n') || (i == len(in)-1 && in[i] == '\n') {
			return k(i)
		}
		return false
	case pBOT:
		return i == 0 && k(i)
	case pEOT:
		return i == len(in) && k(i)
	case pEOTNL:
		return (i == len(in) || i == len(in)-1 && in[i] == '\n') && k(i)
	case pWordB, pNotWordB:
		if (m.word(i-1) != m.word(i)) == (n.kind == pWordB) {
			return k(i)
		}
		return false
	case pCat:
		return m.seq(n.kids, 0, i, k)
	case pAlt:
		for _, b := range n.kids {
			if m.match(b, i, k) {
				return true
			}
			if m.fail {
				return false
			}
		}
		return false
	case pGroup:
		s0, s1 := m.caps[2*n.n], m.caps[2*n.n+1]
		ok := m.match(n.kids[0], i, func(j int) bool {
			o0, o1 := m.caps[2*n.n], m.caps[2*n.n+1]
			m.caps[2*n.n], m.caps[2*n.n+1] = i, j
			if k(j) {
				return true
			}
			m.caps[2*n.n], m.caps[2*n.n+1] = o0, o1
			return false
		})
		if !ok {
			m.caps[2*n.n], m.caps[2*n.n+1] = s0, s1
		}
		return ok
	case pRepeat:
		return m.repeat(n, 0, i, k)
	case pAtomic:
		saved := append([]int(nil), m.caps...)
		end := -1
		m.match(n.kids[0], i, func(j int) bool { end = j; return true })
		if end < 0 {
			copy(m.caps, saved)
			return false
		}
		if k(end) {
			return true
		}
		copy(m.caps, saved)
		return false
	case pLook:
		saved := append([]int(nil), m.caps...)
		found := false
		if n.behind {
			for j := i; j >= 0 && !found && !m.fail; j-- {
				found = m.match(n.kids[0], j, func(e int) bool { return e == i })
			}
		} else {
			found = m.match(n.kids[0], i, func(int) bool { return true })
		}
		if found == n.neg {
			copy(m.caps, saved)
			return false
		}
		if n.neg {
			copy(m.caps, saved)
		}
		if k(i) {
			return true
		}
		copy(m.caps, saved)
		return false
	case pBackref:
		s, e := m.caps[2*n.n], m.caps[2*n.n+1]
		if s < 0 {
			return false
		}
		l := e - s
		if i+l > len(in) {
			return false
		}
		for x := 0; x < l; x++ {
			a, b := in[s+x], in[i+x]
			if a != b && !(n.ci && foldEq(a, b)) {
				return false
			}
		}
		return k(i + l)
	}
	return false
}

func (m *pmatch) seq(kids []*pnode, idx, i int, k func(int) bool) bool {
	if idx == len(kids) {
		return k(i)
	}
	return m.match(kids[idx], i, func(j int) bool { return m.seq(kids, idx+1, j, k) })
}

func (m *pmatch) repeat(n *pnode, count, i int, k func(int) bool) bool {
	if n.max >= 0 && count == n.max {
		return k(i)
	}
	more := func() bool {
		return m.match(n.kids[0], i, func(j int) bool {
			if j == i && count >= n.min {
				return k(j) // an empty iteration ends the loop (PCRE)
			}
			return m.repeat(n, count+1, j, k)
		})
	}
	if n.greedy {
		if more() {
			return true
		}
		return !m.fail && count >= n.min && k(i)
	}
	if count >= n.min && k(i) {
		return true
	}
	return !m.fail && more()
}

// newMatch returns the state of a search of in charged to b; a nil b gets
// a fresh default budget so that no search is ever unbounded.
func newMatch(b *budget.Budget, in []rune, ncap int) *pmatch {
	if b == nil {
		b = new(budget.Budget)
		b.Reset(context.Background(), budget.Limits{})
	}
	return &pmatch{in: in, caps: make([]int, 2*(ncap+1)), b: b}
}

// find returns the capture positions (rune offsets) of the leftmost match
// starting at or after from, or nil. The slice is reused by the next find.
func (re *pcre) find(m *pmatch, from int) ([]int, error) {
	for s := from; s <= len(m.in); s++ {
		for i := range m.caps {
			m.caps[i] = -1
		}
		end := -1
		if m.match(re.prog, s, func(e int) bool { end = e; return true }) {
			m.caps[0], m.caps[1] = s, end
			m.charge()
			return m.caps, m.err
		}
		if m.fail {
			return nil, m.err
		}
	}
	m.charge()
	return nil, m.err
}

// match reports whether the pattern matches somewhere in s.
func (re *pcre) match(b *budget.Budget, s string) (bool, error) {
	m := newMatch(b, []rune(s), re.ncap)
	caps, err := re.find(m, 0)
	return caps != nil, err
}

// findAll is regexp.Regexp's FindAllStringSubmatchIndex, with byte offsets.
func (re *pcre) findAll(b *budget.Budget, s string, n int) ([][]int, error) {
	in := []rune(s)
	offs := make([]int, len(in)+1)
	o := 0
	for i, r := range in {
		offs[i] = o
		if r == utf8.RuneError {
			_, size := utf8.DecodeRuneInString(s[o:])
			o += size
		} else {
			o += utf8.RuneLen(r)
		}
	}
	offs[len(in)] = o
	m := newMatch(b, in, re.ncap)
	var out [][]int
	prevEnd := -1
	for pos := 0; pos <= len(in) && (n < 0 || len(out) < n); {
		caps, err := re.find(m, pos)
		if err != nil {
			return nil, err
		}
		if caps == nil {
			break
		}
		if caps[1] == caps[0] && caps[0] == prevEnd {
			// An empty match right after the previous match is skipped.
			pos = caps[0] + 1
			continue
		}
		mm := make([]int, len(caps))
		for i, c := range caps {
			mm[i] = -1
			if c >= 0 {
				mm[i] = offs[c]
			}
		}
		out = append(out, mm)
		prevEnd = caps[1]
		if caps[1] > caps[0] {
			pos = caps[1]
		} else {
			pos = caps[1] + 1
		}
	}
	return out, nil
}
