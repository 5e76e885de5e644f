package policies

import (
	"errors"
	"strings"
)

// evPattern is a compiled ExtractVariables <Pattern>: literal text with
// {name} captures, e.g. "Bearer {token}" or "/accounts/{id}/orders".
//
// Matching [inferred from Apigee's documented examples; no regular
// expression is involved]: the whole value must match. Each capture takes
// the shortest text up to the next occurrence of the literal after it; the
// last capture takes everything up to the pattern's literal suffix.
// ignoreCase folds the literals' case (captures keep the input's case).
// In URIPath patterns (noSlash) a capture never spans a '/'. Captures may
// be empty. Two adjacent captures ("{a}{b}") are ambiguous and refused.
type evPattern struct {
	lits    []string // len(vars)+1 literals around the captures
	vars    []string
	fold    bool
	noSlash bool
}

func compileEVPattern(src string, ignoreCase, noSlash bool) (*evPattern, error) {
	p := &evPattern{fold: ignoreCase, noSlash: noSlash}
	var lit strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '{' {
			lit.WriteByte(c)
			continue
		}
		end := strings.IndexByte(src[i+1:], '}')
		if end < 0 {
			return nil, errors.New("unclosed { in pattern")
		}
		name := strings.TrimSpace(src[i+1 : i+1+end])
		if name == "" || strings.ContainsAny(name, "{ ") {
			return nil, errors.New("bad variable name {" + src[i+1:i+1+end] + "} in pattern")
		}
		if len(p.vars) > 0 && lit.Len() == 0 {
			return nil, errors.New("two variables with no text between them ({" + p.vars[len(p.vars)-1] + "}{" + name + "}) cannot be told apart")
		}
		p.lits = append(p.lits, lit.String())
		lit.Reset()
		p.vars = append(p.vars, name)
		i += end + 1
	}
	p.lits = append(p.lits, lit.String())
	return p, nil
}

// match returns the captured values, in the order of p.vars.
func (p *evPattern) match(s string) ([]string, bool) {
	if !p.hasPrefix(s, p.lits[0]) {
		return nil, false
	}
	s = s[len(p.lits[0]):]
	if len(p.vars) == 0 {
		return nil, s == ""
	}
	vals := make([]string, len(p.vars))
	for i := range p.vars {
		next := p.lits[i+1]
		var v string
		if i == len(p.vars)-1 {
			if len(s) < len(next) || !p.equal(s[len(s)-len(next):], next) {
				return nil, false
			}
			v, s = s[:len(s)-len(next)], ""
		} else {
			k := p.index(s, next)
			if k < 0 {
				return nil, false
			}
			v, s = s[:k], s[k+len(next):]
		}
		if p.noSlash && strings.IndexByte(v, '/') >= 0 {
			return nil, false
		}
		vals[i] = v
	}
	return vals, true
}

func (p *evPattern) equal(a, b string) bool {
	if p.fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func (p *evPattern) hasPrefix(s, pre string) bool {
	return len(s) >= len(pre) && p.equal(s[:len(pre)], pre)
}

func (p *evPattern) index(s, sub string) int {
	if !p.fold {
		return strings.Index(s, sub)
	}
	for k := 0; k+len(sub) <= len(s); k++ {
		if strings.EqualFold(s[k:k+len(sub)], sub) {
			return k
		}
	}
	return -1
}
