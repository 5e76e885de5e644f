package apidef

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Routing (FLAT docs: OpenAPI integration "Wildcard paths", FLAT docs: routing, OpenAPI/differences.md):
//
//   - A request is routed only when its path is BasePath itself or lies
//     below it ("/api" and "/api/…", never "/apix"); otherwise the kind is
//     Outside. BasePath itself is routed as the path "/".
//   - Exact paths beat templated paths, which beat wildcard paths. The order
//     in the file is irrelevant.
//   - Templated paths ("/users/{id}", also "/files/{name}.json": one
//     parameter per segment with an optional literal prefix and suffix)
//     match the same number of segments; a parameter never matches an empty
//     segment or a "/". Among several matching templates the one with the
//     most literal segments wins; on a tie the one whose first literal
//     segment comes earliest wins (compared segment by segment, left to
//     right: literal > parameter with the longer fixed prefix+suffix >
//     plain parameter). Two templates that differ only in parameter names
//     are a BadPath error at load, so the result is always unique.
//   - A wildcard path "/p/**" matches "/p" and everything below ("/p/",
//     "/p/x/y"), not "/p1"; "/**" matches every path under BasePath. The
//     longest matching prefix wins. "**" is only allowed as the whole last
//     segment and not together with parameters (BadPath).
//   - Paths are compared segment-wise and case-sensitively; "/users/" is
//     not "/users" (an empty last segment), "//" and dot segments are not
//     normalized (Envoy's path normalization runs before flowproc).

// segKind is the kind of one pattern segment.
type segKind uint8

const (
	segLit   segKind = iota // literal text
	segParam                // {name} with optional literal prefix/suffix
)

// seg is one segment of a parsed path pattern.
type seg struct {
	kind           segKind
	lit            string // segLit: the text
	name           string // segParam: parameter name
	prefix, suffix string // segParam: literal text around the parameter
}

// route is a path with its precomputed matching data.
type route struct {
	p        *Path
	segs     []seg // templated routes only
	nparams  int
	wildcard bool
	byMethod map[string]*Operation // nil for slimline paths
}

// tnode is a node of the templated-path trie.
type tnode struct {
	lit    map[string]*tnode
	params []*pedge // most specific first
	term   *route
}

// pedge is a parameter edge of the trie.
type pedge struct {
	prefix, suffix string
	next           *tnode
}

// router is the precomputed routing table of a Definition.
type router struct {
	base       string            // BasePath, "" or "/x…" without trailing slash
	baseSlashs int               // number of '/' in base
	exact      map[string]*route // relative path → route
	wild       map[string]*route // relative prefix ("" for "/**") → route
	root       *tnode            // templated paths; nil when there are none
	// exactLens and wildLens are the lengths of exact's and wild's keys:
	// Match looks up only a path or prefix of such a length. A wildcard
	// match tries every prefix of the path, most of which no key has the
	// length of.
	exactLens, wildLens lengthSet
}

// parsePattern splits a path key into segments. It reports whether the
// pattern is a wildcard ("/p/**"); the returned segments then exclude "**".
func parsePattern(pat string) (segs []seg, wildcard bool, err error) {
	if pat == "" || pat[0] != '/' {
		return nil, false, fmt.Errorf("path %q must start with /", pat)
	}
	parts := strings.Split(pat[1:], "/")
	names := map[string]bool{}
	for i, part := range parts {
		if strings.Contains(part, "**") {
			if part != "**" || i != len(parts)-1 {
				return nil, false, fmt.Errorf("path %q: the wildcard ** is only allowed as the whole last segment, as in /foo/**", pat)
			}
			wildcard = true
			break
		}
		open := strings.IndexByte(part, '{')
		close := strings.IndexByte(part, '}')
		if open < 0 && close < 0 {
			segs = append(segs, seg{kind: segLit, lit: part})
			continue
		}
		if open < 0 || close < open {
			return nil, false, fmt.Errorf("path %q: unbalanced braces in segment %q", pat, part)
		}
		if strings.IndexByte(part[close+1:], '{') >= 0 || strings.IndexByte(part[close+1:], '}') >= 0 ||
			strings.IndexByte(part[open+1:close], '{') >= 0 {
			return nil, false, fmt.Errorf("path %q: only one parameter per segment is supported (segment %q)", pat, part)
		}
		name := part[open+1 : close]
		if name == "" {
			return nil, false, fmt.Errorf("path %q: empty parameter name in segment %q", pat, part)
		}
		if names[name] {
			return nil, false, fmt.Errorf("path %q: parameter {%s} appears twice", pat, name)
		}
		names[name] = true
		segs = append(segs, seg{kind: segParam, name: name, prefix: part[:open], suffix: part[close+1:]})
	}
	if wildcard {
		for _, s := range segs {
			if s.kind == segParam {
				return nil, false, fmt.Errorf("path %q: path parameters cannot be combined with the wildcard **", pat)
			}
		}
	}
	return segs, wildcard, nil
}

// shape returns a key that is equal for patterns that match the same paths.
func shape(segs []seg, wildcard bool) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		if s.kind == segLit {
			b.WriteString(s.lit)
		} else {
			b.WriteString(s.prefix)
			b.WriteString("{}")
			b.WriteString(s.suffix)
		}
	}
	if wildcard {
		b.WriteString("/**")
	}
	return b.String()
}

// lookupExact returns the exact route of rel, nil if none.
func (r *router) lookupExact(rel string) *route {
	if !r.exactLens.has(len(rel)) {
		return nil
	}
	return r.exact[rel]
}

// lookupWild returns the wildcard route of prefix pre, nil if none.
func (r *router) lookupWild(pre string) *route {
	if !r.wildLens.has(len(pre)) {
		return nil
	}
	return r.wild[pre]
}

// buildRouter compiles paths into a router. Errors (BadPath) are positioned
// at the path keys.
func buildRouter(base string, paths []*Path) (router, diag.List) {
	var errs diag.List
	r := router{
		base:       base,
		baseSlashs: strings.Count(base, "/"),
		exact:      map[string]*route{},
		wild:       map[string]*route{},
	}
	seen := map[string]*Path{}
	for _, p := range paths {
		segs, wildcard, err := parsePattern(p.Pattern)
		if err != nil {
			errs.Addf(p.At.File, p.At.Line, p.At.Col, diag.BadPath, "%v", err)
			continue
		}
		for i := range segs { // literal text compares like canonical request paths
			s := &segs[i]
			s.lit, s.prefix, s.suffix = canonicalText(s.lit), canonicalText(s.prefix), canonicalText(s.suffix)
		}
		key := shape(segs, wildcard)
		if prev := seen[key]; prev != nil {
			if prev.Pattern == p.Pattern {
				continue // a duplicate YAML key, reported as such
			}
			errs.Addf(p.At.File, p.At.Line, p.At.Col, diag.BadPath,
				"path %q matches the same requests as %q (line %d)", p.Pattern, prev.Pattern, prev.At.Line)
			continue
		}
		seen[key] = p
		rt := &route{p: p, wildcard: wildcard}
		if len(p.Ops) > 0 {
			rt.byMethod = make(map[string]*Operation, len(p.Ops))
			for _, o := range p.Ops {
				rt.byMethod[o.Method] = o
			}
		}
		templated := false
		for _, s := range segs {
			if s.kind == segParam {
				templated = true
				rt.nparams++
			}
		}
		switch {
		case wildcard:
			// The prefix is literal (checked by parsePattern).
			pre := key[:len(key)-len("/**")]
			r.wild[pre] = rt
			r.wildLens.add(len(pre))
		case !templated:
			r.exact[key] = rt
			r.exactLens.add(len(key))
		default:
			rt.segs = segs
			if r.root == nil {
				r.root = &tnode{}
			}
			n := r.root
			for _, s := range segs {
				n = n.child(s)
			}
			n.term = rt
		}
	}
	return r, errs
}

// child returns (creating it) the child of n for pattern segment s.
func (n *tnode) child(s seg) *tnode {
	if s.kind == segLit {
		if n.lit == nil {
			n.lit = map[string]*tnode{}
		}
		c := n.lit[s.lit]
		if c == nil {
			c = &tnode{}
			n.lit[s.lit] = c
		}
		return c
	}
	for _, e := range n.params {
		if e.prefix == s.prefix && e.suffix == s.suffix {
			return e.next
		}
	}
	e := &pedge{prefix: s.prefix, suffix: s.suffix, next: &tnode{}}
	n.params = append(n.params, e)
	// Most specific first: longer fixed text, then lexical for determinism.
	sort.SliceStable(n.params, func(i, j int) bool {
		a, b := n.params[i], n.params[j]
		la, lb := len(a.prefix)+len(a.suffix), len(b.prefix)+len(b.suffix)
		if la != lb {
			return la > lb
		}
		if a.prefix != b.prefix {
			return a.prefix < b.prefix
		}
		return a.suffix < b.suffix
	})
	return e.next
}

// candidate is the best templated match found so far.
type candidate struct {
	r    *route
	lits int
}

// search walks the trie over rest (the unmatched part of the relative path,
// "" or starting with '/'). depth is the number of segments consumed, nsegs
// the total, lits the literal segments matched so far. Literal children are
// tried before parameters, so among candidates with equally many literal
// segments the first one found is the preferred one.
func (n *tnode) search(rest string, depth, nsegs, lits int, best *candidate) {
	if best.r != nil && lits+(nsegs-depth) <= best.lits {
		return // cannot beat the best candidate any more
	}
	if rest == "" {
		if n.term != nil {
			best.r, best.lits = n.term, lits
		}
		return
	}
	s := rest[1:]
	next := ""
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s, next = s[:i], s[i:]
	}
	if c := n.lit[s]; c != nil {
		c.search(next, depth+1, nsegs, lits+1, best)
	}
	for _, e := range n.params {
		if len(s) > len(e.prefix)+len(e.suffix) && strings.HasPrefix(s, e.prefix) && strings.HasSuffix(s, e.suffix) {
			e.next.search(next, depth+1, nsegs, lits, best)
		}
	}
}

// Match routes a request (FLAT docs: OpenAPI integration, routing).
//
// Precedence: exact paths, then templated paths (most literal segments;
// on a tie the earliest literal segment, then the parameter with the longer
// fixed prefix+suffix), then wildcard paths (longest prefix). The order of
// the paths in the file never matters.
//
// method is the request method as sent (methods
// are case-sensitive, RFC 9110 §9.1); path is the URL path without the
// query, percent-encoded as received (e.g. Envoy's :path up to '?').
//
// Percent-escapes are decoded per segment before literal segments are
// compared, except "%2F" (never a segment separator) and "%25"; parameter
// values are fully decoded. Invalid escapes are kept verbatim. Endpoint is a
// prefix of path in its original (encoded) form.
//
// A path with operations matches only their methods; HEAD falls back to the
// GET operation when the path has GET but no HEAD operation (RFC 9110
// §9.3.2). Other methods give NotFound with "Operation M /path not found.".
//
// Match does not allocate except: the Params slice of a templated match, a
// canonical copy of a path that contains '%', and the Message of NotFound.
func (d *Definition) Match(method, path string) Match {
	r := &d.r
	canon := path
	if strings.IndexByte(path, '%') >= 0 {
		canon = canonicalPath(path)
	}
	// Below BasePath?
	rel := canon
	if r.base != "" {
		if !strings.HasPrefix(canon, r.base) || (len(canon) > len(r.base) && canon[len(r.base)] != '/') {
			return Match{Kind: Outside, Flow: d.DefaultFlow}
		}
		rel = canon[len(r.base):]
	}
	if rel == "" {
		rel = "/"
	} else if rel[0] != '/' { // not a path ("*", "foo"): nothing can match
		return Match{Kind: NotFound, Endpoint: path, Message: "Path " + path + " not found."}
	}

	var (
		rt       *route
		endpoint = path
		params   []Param
	)
	if x := r.lookupExact(rel); x != nil {
		rt = x
	} else if r.root != nil {
		var best candidate
		r.root.search(rel, 0, strings.Count(rel, "/"), 0, &best)
		if best.r != nil {
			rt = best.r
			params = extractParams(rt, rel)
		}
	}
	if rt == nil && len(r.wild) > 0 {
		// Longest prefix first: rel itself, then cut at each '/' from the
		// right, down to "" ("/**").
		pre := rel
		for {
			if x := r.lookupWild(pre); x != nil {
				rt = x
				endpoint = rawPrefix(path, canon, len(r.base)+len(pre), r.baseSlashs+strings.Count(pre, "/"))
				break
			}
			i := strings.LastIndexByte(pre, '/')
			if i < 0 {
				break
			}
			pre = pre[:i]
		}
	}
	if rt == nil {
		return Match{Kind: NotFound, Endpoint: path, Message: "Path " + path + " not found."}
	}

	m := Match{Kind: Matched, Path: rt.p, Params: params, Endpoint: endpoint}
	if rt.byMethod != nil {
		op := rt.byMethod[method]
		if op == nil && method == "HEAD" {
			op = rt.byMethod["GET"]
		}
		if op == nil {
			m.Kind = NotFound
			m.Message = "Operation " + method + " " + path + " not found."
			return m
		}
		m.Op = op
		m.Flow, m.Proxy = op.Flow, op.Proxy
	}
	if m.Flow == nil && m.Proxy == nil {
		m.Flow, m.Proxy = rt.p.Flow, rt.p.Proxy
	}
	if m.Flow == nil && m.Proxy == nil {
		m.Flow, m.Proxy = d.Fallback, d.FallbackProxy
	}
	return m
}

// extractParams returns the parameters of templated route rt for the
// relative path rel, which it matches.
func extractParams(rt *route, rel string) []Param {
	params := make([]Param, 0, rt.nparams)
	rest := rel
	for _, s := range rt.segs {
		v := rest[1:]
		if i := strings.IndexByte(v, '/'); i >= 0 {
			v, rest = v[:i], v[i:]
		} else {
			rest = ""
		}
		if s.kind == segParam {
			v = v[len(s.prefix) : len(v)-len(s.suffix)]
			if strings.IndexByte(v, '%') >= 0 {
				v = unescape(v, false)
			}
			params = append(params, Param{Name: s.name, Value: v})
		}
	}
	return params
}

// rawPrefix maps a prefix of canon (n bytes, containing slashes '/') back to
// the corresponding prefix of the original path.
func rawPrefix(path, canon string, n, slashes int) string {
	if len(path) == len(canon) {
		// No escape was decoded: offsets in path and canon agree.
		return path[:min(n, len(path))]
	}
	// The prefix ends before the (slashes+1)-th '/' of path, or at its end.
	seen := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			if seen == slashes {
				return path[:i]
			}
			seen++
		}
	}
	return path
}
