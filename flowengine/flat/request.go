package flat

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// requestNode builds $request in FLAT's shape (FLAT docs: $request) as an
// OXN object, once per run, on first use.
func (r *run) requestNode() *dom.Node {
	if r.reqNode != nil {
		return r.reqNode
	}
	req := r.x.Req
	sl := &r.slab
	n := sl.object("request")
	add := func(name, v string) { n.AppendChild(sl.str(name, v)) }
	add("method", req.Method)
	add("purpose", "main")
	n.AppendChild(sl.elem("debug", "null"))
	host, port := splitHostPort(req.Authority, req.Scheme)
	add("host", host)
	if _, err := strconv.Atoi(port); err == nil {
		n.AppendChild(sl.scalar("port", "number", port))
	} else {
		n.AppendChild(sl.elem("port", "null"))
	}
	add("id", r.x.ID)
	scheme := req.Scheme
	if scheme == "" {
		scheme = "http"
	}
	add("url", scheme+"://"+req.Authority+req.Path)
	add("path", r.reqPath)
	if r.reqQuery != "" {
		add("query", r.reqQuery) // absent without a query: `$request/query` is false
	}

	headers := sl.object("headers")
	if req.Authority != "" && r.header("host") == "" {
		sl.member(headers, "host", req.Authority)
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
		sl.member(headers, name, joinValues(req.Headers, name))
	}
	n.AppendChild(headers)

	get := sl.object("get")
	addForm(get, r.reqQuery)
	n.AppendChild(get)

	post := sl.object("post")
	if r.bodyLoaded && strings.HasPrefix(strings.ToLower(r.header("content-type")), "application/x-www-form-urlencoded") {
		b, _ := r.x.RequestBody() // loaded: no I/O
		addForm(post, string(b))
	}
	n.AppendChild(post)

	cookies := sl.object("cookies")
	for _, h := range req.Headers {
		if !strings.EqualFold(h.Name, "cookie") {
			continue
		}
		for _, part := range strings.Split(h.Value, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == "" {
				continue
			}
			sl.member(cookies, k, v)
		}
	}
	n.AppendChild(cookies)

	params := sl.object("params")
	for _, p := range r.params {
		sl.member(params, p.name, p.value)
	}
	n.AppendChild(params)
	add("endpoint", r.endpoint)
	r.reqNode = n
	return n
}

// addForm adds urlencoded pairs as members (repeated keys: the last wins,
// as PHP's parsing did; keys that are not XML names use json-element).
func addForm(obj *dom.Node, q string) {
	if q == "" {
		return
	}
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
		for c := obj.FirstChild; c != nil; c = c.NextSibling {
			if memberName(c) == k {
				// replace text
				c.FirstChild, c.LastChild = nil, nil
				c.AppendChild(dom.NewText(v))
				goto next
			}
		}
		oxn.AddMember(obj, k, oxn.NewString(k, v))
	next:
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
