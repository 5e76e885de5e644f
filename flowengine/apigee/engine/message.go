package engine

import (
	"net/url"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/runtime"
)

// Param is one query or form parameter.
type Param struct{ Name, Value string }

// Message is an Apigee message: the request, the response, the error
// response, or a message variable a policy created (AssignTo createNew,
// ServiceCallout). Header names compare case-insensitively; a header's
// value list is split on commas as Apigee does.
type Message struct {
	// IsRequest tells a request (verb, path, query) from a response
	// (status, reason).
	IsRequest bool
	Verb      string
	// Path is the request path without the query string.
	Path    string
	Headers []flowengine.Header
	Status  int
	Reason  string
	Version string

	// ownHeaders: Headers is this message's own slice (the live request
	// and response start aliasing Envoy's header list; the first write
	// copies it).
	ownHeaders bool
	// spare is empty capacity the first write may copy into: the list a
	// recycled run's message owned (Run.Recycle).
	spare []flowengine.Header

	rawQuery    string
	query       []Param
	queryParsed bool

	content     []byte
	loaded      bool
	load        bodyLoader
	loadErr     error
	contentSet  bool // content replaced by a policy
	headersSet  bool // headers changed by a policy
	pathSet     bool // path or query changed by a policy
	verbSet     bool
	statusSet   bool
	formCache   []Param
	formFor     []byte
	formCounted bool
}

// bodyLoader reads a message's content on first use: the exchange's
// request or response body.
type bodyLoader interface{ loadBody() ([]byte, error) }

// requestBody and responseBody are an exchange's bodies as bodyLoaders. As
// pointer types they go into the interface without an allocation, where a
// method value (x.RequestBody) is a closure allocated per message.
type (
	requestBody  runtime.Exchange
	responseBody runtime.Exchange
)

func (x *requestBody) loadBody() ([]byte, error) { return (*runtime.Exchange)(x).RequestBody() }

func (x *responseBody) loadBody() ([]byte, error) { return (*runtime.Exchange)(x).ResponseBody() }

// NewRequest returns an empty request message (verb GET, path /).
func NewRequest() *Message {
	return &Message{IsRequest: true, Verb: "GET", Path: "/", Version: "1.1", loaded: true}
}

// NewResponse returns an empty response message (status 200).
func NewResponse() *Message { return &Message{Status: 200, Version: "1.1", loaded: true} }

// Clone returns a deep copy of m with its content loaded (the copy never
// loads lazily).
func (m *Message) Clone() (*Message, error) {
	c := *m
	b, err := m.Content()
	if err != nil {
		return nil, err
	}
	c.content = append([]byte(nil), b...)
	c.loaded, c.load = true, nil
	c.Headers, c.ownHeaders, c.spare = append([]flowengine.Header(nil), m.Headers...), true, nil
	c.query = append([]Param(nil), m.Query()...)
	c.queryParsed = true
	c.formCache, c.formFor, c.formCounted = nil, nil, false
	return &c, nil
}

// Content returns the message body, reading it from Envoy on first use for
// the live request and response.
func (m *Message) Content() ([]byte, error) {
	if !m.loaded {
		m.loaded = true
		if m.load != nil {
			m.content, m.loadErr = m.load.loadBody()
		}
	}
	return m.content, m.loadErr
}

// ContentLoaded reports whether the content is in memory (set, or read).
func (m *Message) ContentLoaded() bool { return m.loaded }

// SetContent replaces the body.
func (m *Message) SetContent(b []byte) {
	m.content, m.loaded, m.loadErr, m.contentSet = b, true, nil, true
}

// ContentChanged reports whether a policy replaced the body.
func (m *Message) ContentChanged() bool { return m.contentSet }

// --- headers ---

// Header returns the first value of header name, Apigee style: the part of
// the first header line before its first comma, trimmed.
func (m *Message) Header(name string) (string, bool) {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			v, _, _ := strings.Cut(h.Value, ",")
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// HeaderLine returns the whole first line of header name
// (request.header.X.values.string joins all lines with ", ").
func (m *Message) HeaderLine(name string) (string, bool) {
	return headerLine(m.Headers, name)
}

// headerLine is the value of header name in hs, its lines joined with
// ", " (a single line's value as it is, without a copy).
func headerLine(hs []flowengine.Header, name string) (string, bool) {
	first := -1
	for i, h := range hs {
		if strings.EqualFold(h.Name, name) {
			if first >= 0 {
				return joinLines(hs[first:], name), true
			}
			first = i
		}
	}
	if first < 0 {
		return "", false
	}
	return hs[first].Value, true
}

// joinLines joins the values of every line of header name in hs with ", ".
func joinLines(hs []flowengine.Header, name string) string {
	var b strings.Builder
	found := false
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			if found {
				b.WriteString(", ")
			}
			b.WriteString(h.Value)
			found = true
		}
	}
	return b.String()
}

// HeaderValues returns every value of header name: all its lines, each
// split on commas.
func (m *Message) HeaderValues(name string) []string {
	var out []string
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			for _, v := range strings.Split(h.Value, ",") {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out
}

// HeaderNames returns the distinct header names in first-seen order.
func (m *Message) HeaderNames() []string {
	var out []string
next:
	for _, h := range m.Headers {
		for _, n := range out {
			if strings.EqualFold(n, h.Name) {
				continue next
			}
		}
		out = append(out, h.Name)
	}
	return out
}

// own makes Headers this message's own slice before a write.
func (m *Message) own() {
	if !m.ownHeaders {
		var hs []flowengine.Header
		if cap(m.spare) >= len(m.Headers)+4 {
			hs = append(m.spare[:0], m.Headers...)
		} else {
			hs = make([]flowengine.Header, len(m.Headers), len(m.Headers)+4)
			copy(hs, m.Headers)
		}
		m.Headers, m.ownHeaders, m.spare = hs, true, nil
	}
	m.headersSet = true
}

// maxSpareHeaders bounds the header list a recycled run keeps per message.
const maxSpareHeaders = 64

// takeOwned returns m's own header list, emptied, for a later message's
// own (spare): nil when m's list is Envoy's (not owned) or large.
func (m *Message) takeOwned() []flowengine.Header {
	if !m.ownHeaders || cap(m.Headers) > maxSpareHeaders {
		return m.spare
	}
	hs := m.Headers[:cap(m.Headers)]
	clear(hs)
	return hs[:0]
}

// SetHeader replaces every line of header name with one line, name as
// given, at the end.
func (m *Message) SetHeader(name, value string) {
	m.own()
	out := m.Headers[:0]
	for _, h := range m.Headers {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	m.Headers = append(out, flowengine.Header{Name: name, Value: value})
}

// AddHeader appends a line to header name.
func (m *Message) AddHeader(name, value string) {
	m.own()
	m.Headers = append(m.Headers, flowengine.Header{Name: name, Value: value})
}

// RemoveHeader removes every line of header name.
func (m *Message) RemoveHeader(name string) {
	found := false
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			found = true
			break
		}
	}
	if !found {
		return
	}
	m.own()
	out := m.Headers[:0]
	for _, h := range m.Headers {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	m.Headers = out
}

// RemoveAllHeaders removes every header.
func (m *Message) RemoveAllHeaders() {
	m.Headers, m.ownHeaders, m.headersSet = nil, true, true
}

// HeadersChanged reports whether a policy changed a header.
func (m *Message) HeadersChanged() bool { return m.headersSet }

// --- query parameters ---

// Query returns the query parameters in order.
func (m *Message) Query() []Param {
	if !m.queryParsed {
		m.queryParsed = true
		m.query = parseParams(m.rawQuery, m.query[:0])
	}
	return m.query
}

// QueryString returns the query string (no "?").
func (m *Message) QueryString() string {
	if !m.pathSet {
		return m.rawQuery
	}
	return encodeParams(m.Query())
}

// SetQueryString replaces the query string.
func (m *Message) SetQueryString(q string) {
	m.rawQuery, m.query, m.queryParsed, m.pathSet = q, nil, false, true
	m.Query()
}

// QueryParam returns the first value of query parameter name (names are
// case-sensitive, as in Apigee).
func (m *Message) QueryParam(name string) (string, bool) {
	for _, p := range m.Query() {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// QueryValues returns every value of query parameter name.
func (m *Message) QueryValues(name string) []string {
	var out []string
	for _, p := range m.Query() {
		if p.Name == name {
			out = append(out, p.Value)
		}
	}
	return out
}

// SetQueryParam replaces every value of name with value.
func (m *Message) SetQueryParam(name, value string) {
	m.RemoveQueryParam(name)
	m.query = append(m.query, Param{name, value})
	m.pathSet = true
}

// AddQueryParam appends a value to name.
func (m *Message) AddQueryParam(name, value string) {
	m.Query()
	m.query = append(m.query, Param{name, value})
	m.pathSet = true
}

// RemoveQueryParam removes every value of name.
func (m *Message) RemoveQueryParam(name string) {
	q := m.Query()
	out := q[:0:0]
	for _, p := range q {
		if p.Name != name {
			out = append(out, p)
		}
	}
	m.query = out
	m.pathSet = true
}

// SetPath replaces the path (a "?query" part replaces the query).
func (m *Message) SetPath(p string) {
	path, q, hasQ := strings.Cut(p, "?")
	m.Path, m.pathSet = path, true
	if hasQ {
		m.SetQueryString(q)
	}
}

// PathChanged reports whether a policy changed the path or the query.
func (m *Message) PathChanged() bool { return m.pathSet }

// URI returns the path with its query string.
func (m *Message) URI() string {
	if q := m.QueryString(); q != "" {
		return m.Path + "?" + q
	}
	return m.Path
}

// SetVerb replaces the request method.
func (m *Message) SetVerb(v string) { m.Verb, m.verbSet = v, true }

// VerbChanged reports whether a policy changed the method.
func (m *Message) VerbChanged() bool { return m.verbSet }

// SetStatus replaces the response status.
func (m *Message) SetStatus(code int) { m.Status, m.statusSet = code, true }

// StatusChanged reports whether a policy changed the status.
func (m *Message) StatusChanged() bool { return m.statusSet }

// --- form parameters ---

// FormParams returns the body's form parameters when the message is
// application/x-www-form-urlencoded (nil otherwise).
func (m *Message) FormParams() []Param {
	ct, _ := m.Header("content-type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), formType) {
		return nil
	}
	b, err := m.Content()
	if err != nil {
		return nil
	}
	if m.formCounted && string(m.formFor) == string(b) {
		return m.formCache
	}
	m.formCache, m.formFor, m.formCounted = parseParams(string(b), nil), b, true
	return m.formCache
}

// FormParam returns the first value of form parameter name.
func (m *Message) FormParam(name string) (string, bool) {
	for _, p := range m.FormParams() {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

const formType = "application/x-www-form-urlencoded"

// SetFormParams replaces the body with the encoded params and makes the
// message a form (its content type, unless it is one already: a body of
// another type has no form parameters to keep).
func (m *Message) SetFormParams(ps []Param) {
	m.SetContent([]byte(encodeParams(ps)))
	if ct, _ := m.Header("content-type"); !strings.HasPrefix(strings.ToLower(ct), formType) {
		m.SetHeader("Content-Type", formType)
	}
}

// SetFormParam replaces every value of form parameter name with value.
func (m *Message) SetFormParam(name, value string) { m.putFormParam(name, value, false) }

// AddFormParam appends a value to form parameter name.
func (m *Message) AddFormParam(name, value string) { m.putFormParam(name, value, true) }

func (m *Message) putFormParam(name, value string, add bool) {
	ps := append([]Param(nil), m.FormParams()...)
	if !add {
		out := ps[:0]
		for _, p := range ps {
			if p.Name != name {
				out = append(out, p)
			}
		}
		ps = out
	}
	m.SetFormParams(append(ps, Param{name, value}))
}

func parseParams(s string, out []Param) []Param {
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out = append(out, Param{k, v})
	}
	return out
}

func encodeParams(ps []Param) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}

// javaList renders values as Java's Collection.toString: "[a, b]".
func javaList(vs []string) string {
	return "[" + strings.Join(vs, ", ") + "]"
}
