package flat

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// requestDoc builds $request in FLAT's shape (FLAT docs: $request) as an
// OXN object, once per run, on first use. It is built as a compact
// oxn.Tree: simple paths ($request/id, $request/headers/x) read it in
// place, and only a flow that needs its *dom.Node form (the full XPath
// engine, copy) materialises it (requestNode).
func (r *run) requestDoc() *oxn.Doc {
	if r.reqDoc != nil {
		return r.reqDoc
	}
	req := r.x.Req
	// Size the builder for what follows, so that its slices are allocated
	// once: 17 elements (the root, its 14 members, a query member and a
	// host header), one per header, parameter, query pair and cookie
	// (form fields in a body grow the slices), and the texts' bytes.
	hint := 17 + len(req.Headers) + len(r.params)
	text := 96 + 2*len(req.Authority) + len(req.Path) + len(req.Method) + len(r.x.ID) + len(r.reqPath) + 2*len(r.reqQuery) + len(r.endpoint)
	if r.reqQuery != "" {
		hint += 1 + strings.Count(r.reqQuery, "&")
	}
	for _, h := range req.Headers {
		text += len(h.Name) + len(h.Value)
		if strings.EqualFold(h.Name, "cookie") {
			hint += 1 + strings.Count(h.Value, ";")
			text += len(h.Value)
		}
	}
	for _, p := range r.params {
		text += len(p.name) + len(p.value)
	}
	// From the objects' arena when a recycled run kept it (slab.keptArena;
	// nil: slices of its own).
	arena := r.slab.keptArena()
	var b oxn.TreeBuilder
	arena.StartBuilder(&b, "request", hint, text)
	n := b.Root()
	b.String(n, "method", req.Method)
	b.String(n, "purpose", requestPurpose)
	b.Scalar(n, "debug", oxn.Null, "")
	host, port := splitHostPort(req.Authority, req.Scheme)
	b.String(n, "host", host)
	if _, err := strconv.Atoi(port); err == nil {
		b.Scalar(n, "port", oxn.Number, port)
	} else {
		b.Scalar(n, "port", oxn.Null, "")
	}
	b.String(n, "id", r.x.ID)
	scheme := req.Scheme
	if scheme == "" {
		scheme = "http"
	}
	b.Concat(n, "url", scheme, "://", req.Authority, req.Path) // requestURL, in place
	b.String(n, "path", r.reqPath)
	if r.reqQuery != "" {
		b.String(n, "query", r.reqQuery) // absent without a query: `$request/query` is false
	}

	headers := b.Object(n, "headers")
	if req.Authority != "" && r.header("host") == "" {
		b.String(headers, "host", req.Authority)
	}
	for i, h := range req.Headers {
		name := strings.ToLower(h.Name)
		dup := false
		for _, p := range req.Headers[:i] {
			if strings.EqualFold(p.Name, name) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		b.String(headers, name, joinValues(req.Headers, name))
	}

	addForm(&b, b.Object(n, "get"), r.reqQuery)

	post := b.Object(n, "post")
	if r.bodyLoaded && strings.HasPrefix(strings.ToLower(r.header("content-type")), "application/x-www-form-urlencoded") {
		body, _ := r.x.RequestBody() // loaded: no I/O
		addForm(&b, post, string(body))
	}

	cookies := b.Object(n, "cookies")
	for _, h := range req.Headers {
		if !strings.EqualFold(h.Name, "cookie") {
			continue
		}
		for _, part := range strings.Split(h.Value, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == "" {
				continue
			}
			b.String(cookies, k, v)
		}
	}

	params := b.Object(n, "params")
	for _, p := range r.params {
		b.String(params, p.name, p.value)
	}
	b.String(n, "endpoint", r.endpoint)
	r.reqDoc = arena.NewDoc(arena.BuiltTree(&b))
	return r.reqDoc
}

// requestPurpose is $request/purpose of a run's own request.
const requestPurpose = "main"

// requestURL is $request/url: the request's absolute URL.
func requestURL(req *flowengine.Request) string {
	scheme := req.Scheme
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + req.Authority + req.Path
}

// StringMember implements expr.MemberScope for $request's string members,
// read from the request exactly as requestDoc writes them, so that a
// template's {{ $request/id }} does not build the whole tree (headers,
// query, cookies, parameters). The fields it reads are set before any flow
// runs and never change during the run. A variable the flow named request
// hides $request, as in TreeVar. Members that are not strings (port,
// debug) or not always present as strings (query without a query string
// is absent) are left to the tree.
func (r *run) StringMember(name, member string) (string, bool) {
	if name != "request" || r.varIndex(name) >= 0 {
		return "", false
	}
	req := r.x.Req
	switch member {
	case "method":
		return req.Method, true
	case "purpose":
		return requestPurpose, true
	case "host":
		host, _ := splitHostPort(req.Authority, req.Scheme)
		return host, true
	case "id":
		return r.x.ID, true
	case "url":
		return requestURL(req), true
	case "path":
		return r.reqPath, true
	case "query":
		return r.reqQuery, r.reqQuery != ""
	case "endpoint":
		return r.endpoint, true
	}
	return "", false
}

// requestNode returns $request's *dom.Node form, materialising the tree
// on first need. The element is detached from the document the tree
// materialises into: $request has no parent (`$request/..` is empty), as
// it had when it was built as a lone element.
func (r *run) requestNode() *dom.Node { return loneRoot(r.requestDoc()) }

// addForm adds urlencoded pairs as members of obj (repeated keys: the
// last wins, as PHP's parsing did; keys that are not XML names use
// json-element).
func addForm(b *oxn.TreeBuilder, obj int32, q string) {
	for rest := q; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k = formUnescape(k)
		v = formUnescape(v)
		if k == "" {
			continue
		}
		if i := b.Member(obj, k); i != oxn.NoIndex {
			b.SetText(i, v)
			continue
		}
		b.String(obj, k, v)
	}
}

func memberName(n *dom.Node) string {
	if n.Name == "json-element" {
		v, _ := n.Attr("name")
		return v
	}
	return n.Name
}

func formUnescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil || !utf8.ValidString(u) {
		return s
	}
	return u
}

// splitHostPort splits an authority into host and port, defaulting the port
// from the scheme.
func splitHostPort(authority, scheme string) (string, string) {
	host := authority
	port := ""
	if strings.HasPrefix(host, "[") {
		if i := strings.Index(host, "]"); i >= 0 {
			if rest := host[i+1:]; strings.HasPrefix(rest, ":") {
				port = rest[1:]
			}
			host = host[:i+1]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		port = host[i+1:]
		host = host[:i]
	}
	if port == "" {
		if scheme == "https" {
			port = "443"
		} else {
			port = "80"
		}
	}
	return host, port
}
