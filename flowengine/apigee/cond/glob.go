package cond

import "strings"

// glob is a compiled Matches or MatchesPath pattern.
//
// Matches / Like / ~ [doc: pattern-matching page]: the pattern matches the
// whole value literally, except that * matches zero or more characters
// (any, including "/"). Case-sensitive.
//
// MatchesPath / LikePath / ~/ [doc: pattern-matching page, conditions
// reference]: * matches within one path segment (any characters but "/",
// possibly none), ** matches across segments (any characters). The docs'
// examples: "/*/a/" matches "/x/a/"; "/*/a/*" matches "/x/a/b" but not
// "/x/a/b/c"; "/*/a/**" matches "/x/a/b/c/d"; "/a/**/feed/**" matches
// "/a/b/feed/rss/1234". A stackoverflow answer relies on "**" next to text
// ("**/india/blr**"), so stars are not restricted to whole segments.
// Trailing slashes are significant: "/a/**" does not match "/a"
// [inferred; unverified against a live Apigee].
//
// In both, "%" escapes the next "*", "%", "{" or "}" (the docs' MatchesPath
// example "%{user%}" matches "{user}"); any other "%" is literal, so
// percent-encoded text such as "%20" stays literal [inferred].
//
// Matching is a bit-parallel NFA over the pattern's elements (up to 63):
// no allocation, linear in the value's length. Longer patterns run the same
// NFA one element at a time (matchLong), which allocates its state.
type glob struct {
	n         int
	idx       [256]uint8 // byte -> index into masks (0: no literal uses it)
	masks     []uint64   // positions holding a literal byte
	starAny   uint64     // positions holding a star that matches any byte
	starNoSep uint64     // positions holding a star that stops at "/"
	long      []gelem    // set instead when the pattern has more than 63 elements
}

type gelem struct {
	kind byte // 'l' literal, '*' star without "/", 'A' star matching anything
	c    byte
}

func globElems(pat string, path bool) []gelem {
	var el []gelem
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '%' && i+1 < len(pat) && strings.IndexByte("*%{}", pat[i+1]) >= 0:
			i++
			el = append(el, gelem{kind: 'l', c: pat[i]})
		case c == '*' && path && i+1 < len(pat) && pat[i+1] == '*':
			i++
			el = append(el, gelem{kind: 'A'})
		case c == '*' && path:
			el = append(el, gelem{kind: '*'})
		case c == '*':
			el = append(el, gelem{kind: 'A'})
		default:
			el = append(el, gelem{kind: 'l', c: c})
		}
	}
	return el
}

func compileGlob(pat string, path bool) *glob {
	el := globElems(pat, path)
	g := &glob{n: len(el)}
	if len(el) > 63 {
		g.long = el
		return g
	}
	g.masks = []uint64{0}
	for i, e := range el {
		bit := uint64(1) << i
		switch e.kind {
		case 'A':
			g.starAny |= bit
		case '*':
			g.starNoSep |= bit
		default:
			if g.idx[e.c] == 0 {
				g.idx[e.c] = uint8(len(g.masks))
				g.masks = append(g.masks, 0)
			}
			g.masks[g.idx[e.c]] |= bit
		}
	}
	return g
}

func (g *glob) closure(s uint64) uint64 {
	stars := g.starAny | g.starNoSep
	for {
		t := s | (s&stars)<<1
		if t == s {
			return s
		}
		s = t
	}
}

func (g *glob) match(s string) bool {
	if g.long != nil {
		return matchLong(g.long, s)
	}
	st := g.closure(1)
	for i := 0; i < len(s); i++ {
		c := s[i]
		stay := st & g.starAny
		if c != '/' {
			stay |= st & g.starNoSep
		}
		st = (st&g.masks[g.idx[c]])<<1 | stay
		if st == 0 {
			return false
		}
		st = g.closure(st)
	}
	return st&(uint64(1)<<g.n) != 0
}

// matchLong simulates the NFA with one bool per pattern position. It is
// the matcher for long patterns and the reference the bit-parallel matcher
// is fuzzed against.
func matchLong(el []gelem, s string) bool {
	cur := make([]bool, len(el)+1)
	nxt := make([]bool, len(el)+1)
	closure := func(st []bool) {
		for j, e := range el {
			if st[j] && e.kind != 'l' {
				st[j+1] = true
			}
		}
	}
	cur[0] = true
	closure(cur)
	for i := 0; i < len(s); i++ {
		c := s[i]
		any := false
		for j := range nxt {
			nxt[j] = false
		}
		for j, e := range el {
			if !cur[j] {
				continue
			}
			switch {
			case e.kind == 'l' && e.c == c:
				nxt[j+1] = true
			case e.kind == 'A', e.kind == '*' && c != '/':
				nxt[j] = true
			}
		}
		closure(nxt)
		for _, b := range nxt {
			any = any || b
		}
		if !any {
			return false
		}
		cur, nxt = nxt, cur
	}
	return cur[len(el)]
}
