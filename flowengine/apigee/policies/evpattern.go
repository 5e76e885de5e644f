package policies

import (
	"errors"
	"strings"
)

// evPattern is a compiled ExtractVariables <Pattern>: literal text with
// {name} captures and wildcards, e.g. "Bearer {token}", "/a/*/{id}" or
// "*;charset={encoding}". Apigee's policy reference ("Matching and
// variable creation") defines:
//   - the whole value must match;
//   - in URIPath patterns "*" matches one path segment and "**" any number
//     of segments; elsewhere "*" matches any characters;
//   - "%" escapes the next character ("%{user%} {name}" matches
//     "{user} Steve");
//   - ignoreCase folds the case of the literal text.
//
// [inferred] A capture in a URIPath pattern matches within one path
// segment (as "*" does); elsewhere it matches any characters. When a
// value can be split several ways, captures and wildcards take the
// shortest text that lets the rest match. Two captures or wildcards with
// no literal text between them are ambiguous and refused at load.
type evPattern struct {
	toks     []evTok
	vars     []string // capture names in order
	fold     bool
	path     bool
	segments int // "/" count, to rank URIPath patterns
}

type evTok struct {
	kind byte // 'l' literal, 'v' capture, '*' wildcard, 'D' multi-segment wildcard
	lit  string
}

// maxPatternSteps bounds the work of one match.
const maxPatternSteps = 1 << 20

var errPatternTooComplex = errors.New("pattern matching needs too many steps")

func compileEVPattern(src string, ignoreCase, path bool) (*evPattern, error) {
	p := &evPattern{fold: ignoreCase, path: path, segments: strings.Count(src, "/")}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, evTok{kind: 'l', lit: lit.String()})
			lit.Reset()
		}
	}
	add := func(t evTok) error {
		flush()
		if n := len(p.toks); n > 0 && p.toks[n-1].kind != 'l' {
			return errors.New("two variables or wildcards with no text between them cannot be told apart")
		}
		p.toks = append(p.toks, t)
		return nil
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '%' && i+1 < len(src):
			i++
			lit.WriteByte(src[i])
		case c == '{':
			end := strings.IndexByte(src[i+1:], '}')
			if end < 0 {
				return nil, errors.New("unclosed { in pattern")
			}
			name := strings.TrimSpace(src[i+1 : i+1+end])
			if name == "" || strings.ContainsAny(name, "{ ") {
				return nil, errors.New("bad variable name {" + src[i+1:i+1+end] + "} in pattern")
			}
			if err := add(evTok{kind: 'v', lit: name}); err != nil {
				return nil, err
			}
			p.vars = append(p.vars, name)
			i += end + 1
		case c == '*':
			kind := byte('*')
			if path && i+1 < len(src) && src[i+1] == '*' {
				kind = 'D'
				i++
			}
			if err := add(evTok{kind: kind}); err != nil {
				return nil, err
			}
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p, nil
}

// matcher is the state of one match.
type matcher struct {
	p      *evPattern
	s      string
	vals   []string
	failed map[[2]int]bool
	steps  int
}

// match returns the captured values, in the order of p.vars.
func (p *evPattern) match(s string) ([]string, bool, error) {
	m := &matcher{p: p, s: s, vals: make([]string, len(p.vars))}
	ok := m.at(0, 0, 0)
	if m.steps > maxPatternSteps {
		return nil, false, errPatternTooComplex
	}
	return m.vals, ok, nil
}

// at reports whether tokens ti… match s[si:]; vi is the next capture.
func (m *matcher) at(ti, si, vi int) bool {
	if m.steps++; m.steps > maxPatternSteps {
		return false
	}
	p, s := m.p, m.s
	if ti == len(p.toks) {
		return si == len(s)
	}
	key := [2]int{ti, si}
	if m.failed[key] {
		return false
	}
	t := p.toks[ti]
	if t.kind == 'l' {
		if len(s)-si >= len(t.lit) && p.equal(s[si:si+len(t.lit)], t.lit) && m.at(ti+1, si+len(t.lit), vi) {
			return true
		}
		m.fail(key)
		return false
	}
	// A capture or wildcard: how far it may reach.
	limit := len(s)
	if p.path && t.kind != 'D' {
		if k := strings.IndexByte(s[si:], '/'); k >= 0 {
			limit = si + k
		}
	}
	nextVI := vi
	if t.kind == 'v' {
		nextVI = vi + 1
	}
	if ti+1 == len(p.toks) {
		if limit == len(s) {
			if t.kind == 'v' {
				m.vals[vi] = s[si:]
			}
			return true
		}
		m.fail(key)
		return false
	}
	next := p.toks[ti+1].lit // the following token is a literal
	for e := si; e <= limit && e+len(next) <= len(s); e++ {
		if m.steps > maxPatternSteps {
			return false
		}
		m.steps++
		if !p.equal(s[e:e+len(next)], next) {
			continue
		}
		if m.at(ti+1, e, nextVI) {
			if t.kind == 'v' {
				m.vals[vi] = s[si:e]
			}
			return true
		}
	}
	m.fail(key)
	return false
}

func (m *matcher) fail(key [2]int) {
	if m.failed == nil {
		m.failed = map[[2]int]bool{}
	}
	m.failed[key] = true
}

func (p *evPattern) equal(a, b string) bool {
	if p.fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}
