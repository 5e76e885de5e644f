package mock

import (
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// mediaRange is one entry of an Accept header.
type mediaRange struct {
	typ, sub string // lower case; "*" for wildcards
	q        float64
	pos      int
}

// specificity orders ranges with equal q: type/sub before type/* before */*.
func (r mediaRange) specificity() int {
	switch {
	case r.typ == "*":
		return 0
	case r.sub == "*":
		return 1
	}
	return 2
}

// parseAccept returns the media ranges of an Accept header, best first
// (q, then specificity, then order), including q=0 ones (which exclude).
// An empty header accepts anything; malformed entries are left out.
func parseAccept(accept string) []mediaRange {
	if strings.TrimSpace(accept) == "" {
		return []mediaRange{{typ: "*", sub: "*", q: 1}}
	}
	var out []mediaRange
	for i, part := range strings.Split(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		if mt == "*" { // a common shorthand for */*
			mt = "*/*"
		}
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok || typ == "" || sub == "" || typ == "*" && sub != "*" {
			continue
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(qs, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		out = append(out, mediaRange{typ: typ, sub: sub, q: q, pos: i})
	}
	slices.SortStableFunc(out, func(a, b mediaRange) int {
		switch {
		case a.q != b.q:
			if a.q > b.q {
				return -1
			}
			return 1
		case a.specificity() != b.specificity():
			return b.specificity() - a.specificity()
		}
		return a.pos - b.pos
	})
	return out
}

// candidate is a content entry to try: its key in the definition and the
// Content-Type to answer with.
type candidate struct{ key, typ string }

// candidates returns the content entries acceptable for accept, best
// first. Each entry takes the q of the most specific range matching it
// (RFC 9110 §12.5.1; q=0 excludes it); equal q keeps the Accept order,
// then application/json, then the others by name. A wildcard content key
// answers with the accepted type (application/json when that is a
// wildcard too).
func candidates(content openapi3.Content, accept string) []candidate {
	keys := make([]string, 0, len(content))
	for k := range content {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ja, jb := bare(a) == "application/json", bare(b) == "application/json"
		switch {
		case ja && !jb:
			return -1
		case jb && !ja:
			return 1
		}
		return strings.Compare(a, b)
	})
	type scored struct {
		candidate
		r mediaRange
	}
	ranges := parseAccept(accept)
	var found []scored
	for _, k := range keys {
		var best *scored
		for _, r := range ranges {
			typ, ok := match(r, bare(k))
			if !ok {
				continue
			}
			if best == nil || r.specificity() > best.r.specificity() {
				best = &scored{candidate{key: k, typ: typ}, r}
			}
		}
		if best == nil || best.r.q == 0 {
			continue
		}
		if !strings.Contains(k, "*") {
			best.typ = strings.TrimSpace(k) // as written, with its parameters
		}
		found = append(found, *best)
	}
	slices.SortStableFunc(found, func(a, b scored) int {
		switch {
		case a.r.q > b.r.q:
			return -1
		case a.r.q < b.r.q:
			return 1
		}
		return a.r.pos - b.r.pos
	})
	out := make([]candidate, len(found))
	for i, f := range found {
		out[i] = f.candidate
	}
	return out
}

// bare returns media type k without parameters, lower case.
func bare(k string) string {
	if mt, _, err := mime.ParseMediaType(k); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(k, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// match reports whether range r and content type k (which may be a range
// itself) overlap, and the concrete type to answer with.
func match(r mediaRange, k string) (string, bool) {
	ktyp, ksub, ok := strings.Cut(k, "/")
	if !ok {
		return "", false
	}
	if r.typ != "*" && ktyp != "*" && r.typ != ktyp || r.sub != "*" && ksub != "*" && r.sub != ksub {
		return "", false
	}
	typ, sub := ktyp, ksub
	if typ == "*" {
		typ = r.typ
	}
	if sub == "*" {
		sub = r.sub
	}
	if typ == "*" || sub == "*" {
		if (typ == "*" || typ == "application") && (sub == "*" || sub == "json") {
			return "application/json", true
		}
		return "", false
	}
	return typ + "/" + sub, true
}
