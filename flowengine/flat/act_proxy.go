package flat

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/upstream"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
	"github.com/flowproc/flowproc/internal/lowername"
)

func init() {
	registerAction("proxy-request", &actionSpec{attrs: []string{"in", "src"}, compile: compileProxy})
}

// proxyAction is <proxy-request>{…}</proxy-request> or an x-flat-proxy
// route: it forwards the client request to Envoy's upstream with FLAT's
// rewrites, then lets the flow continue on the upstream's response.
type proxyAction struct {
	t     *tmpl
	in    input
	fixed *proxySpec // x-flat-proxy: parsed once at load
	// constant is the spec of a body without template commands, parsed
	// at load, and charge the output its template charges a run's
	// budget (see Run).
	constant *proxySpec
	charge   int64
	// plan is a body whose values are all header values (proxy_plan.go).
	plan   *proxyPlan
	target targetMemo // the origin or url its template gives
	keys   headerKeys // the header names it always sets
}

// proxySpec is FLAT's proxy-request JSON (FLAT docs: proxy-request).
type proxySpec struct {
	origin        string
	url           string
	stripEndpoint bool
	addPrefix     string
	query         member // string, object or array; t nil = keep the client's
	headers       []proxyHeader
	target        *url.URL // origin or url, parsed (shared read-only)
	// options are the request options (FLAT docs: the request action); when
	// given, flowproc makes the call itself (see proxyByCall).
	options *dom.Node
}

// proxyHeader is a member of a proxy-request's "headers": a header to set
// to value, or to remove (set false: the value was null, empty, an object
// or an array).
type proxyHeader struct {
	key   string
	value string
	set   bool
}

// targetCache remembers parsed origin/url strings: proxy-request templates
// nearly always yield the same few, and url.Parse allocates on every call.
// Parsed URLs are never modified. The cache is bounded; past the bound it
// simply stops adding.
var targetCache sync.Map // string → *url.URL

const targetCacheMax = 4096

var targetCacheLen atomic.Int64

// targetMemo remembers the first origin or url a proxy-request action's
// template gave and its parsed URL: templates nearly always give the same
// one, and comparing it is cheaper than the shared cache's lookup (a hash
// and a walk through a concurrent trie, in memory other requests have
// moved out of the CPU cache). Other values go to the shared cache.
type targetMemo struct{ first atomic.Pointer[targetEntry] }

type targetEntry struct {
	raw string
	u   *url.URL
}

// parse is parseTarget through m (nil: no memo).
func (m *targetMemo) parse(raw string) (*url.URL, error) {
	if m != nil {
		if e := m.first.Load(); e != nil && e.raw == raw {
			return e.u, nil
		}
	}
	u, err := parseTarget(raw)
	if err == nil && m != nil && m.first.Load() == nil {
		// raw is part of a run's tree text: keep a copy, not the text.
		m.first.CompareAndSwap(nil, &targetEntry{raw: strings.Clone(raw), u: u})
	}
	return u, err
}

// parseTarget parses an absolute http(s) URL, from the cache when it can.
func parseTarget(raw string) (*url.URL, error) {
	if u, ok := targetCache.Load(raw); ok {
		return u.(*url.URL), nil
	}
	pu, err := url.Parse(raw)
	if err != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if targetCacheLen.Load() < targetCacheMax {
		if _, loaded := targetCache.LoadOrStore(raw, pu); !loaded {
			targetCacheLen.Add(1)
		}
	}
	return pu, nil
}

func compileProxy(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &proxyAction{in: c.input(f, e), t: c.template(f, e, true)}
	if a.t == nil {
		return nil
	}
	// A body without template commands is the same on every request:
	// check it at load, so validate reports what every request would fail.
	// A body with commands is checked where its static parts allow
	// (proxy_static.go). Either may come from a src= file.
	src := a.t.t.Source()
	var err error
	if strings.Contains(src, "{{") {
		if _, err = checkProxySkeleton(src); err == nil {
			a.plan = newProxyPlan(a.t.t)
		}
	} else {
		var spec *proxySpec
		if spec, err = parseProxySpec([]byte(src)); err == nil {
			if charge, ok := outputCharge(a.t); ok {
				a.constant, a.charge = spec, charge
			}
		}
	}
	if err != nil {
		file, line, col := f.path, e.Line, e.Col
		if at, ok := e.Attr("src"); ok {
			file, line, col = filepath.Join(f.dir, at.Value), 1, 1
		}
		c.errs.Addf(file, line, col, diag.BadContent, "proxy-request: %v", err)
		return nil
	}
	a.keys = newHeaderKeys(a.t.t.ObjectKeys("headers"))
	return a
}

// proxyConfig compiles an x-flat-proxy route.
func (c *compiler) proxyConfig(px *apidef.Proxy) *proxyAction {
	spec, err := parseProxySpec(px.JSON)
	if err != nil {
		c.errs.Addf(px.At.File, px.At.Line, px.At.Col, diag.BadExtension, "x-flat-proxy: %v", err)
		return nil
	}
	names := make([]string, len(spec.headers))
	for i, m := range spec.headers {
		names[i] = m.key
	}
	return &proxyAction{fixed: spec, keys: newHeaderKeys(names)}
}

// parseProxySpec reads proxy-request JSON. Unknown properties and
// options are errors.
func parseProxySpec(data []byte) (*proxySpec, error) {
	ms, err := objectMembers(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("invalid proxy configuration: %w", err)
	}
	s := &proxySpec{}
	if err := s.read(ms, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// read sets s from a proxy-request object's members, parsing the origin or
// url through memo (nil: none). s.headers is appended to (a run's buffer).
func (s *proxySpec) read(ms []member, memo *targetMemo) error {
	for _, m := range ms {
		t := m.typ()
		switch m.key {
		case "origin", "url", "addPrefix":
			if t != oxn.String {
				return fmt.Errorf("%q must be a string", m.key)
			}
			switch m.key {
			case "origin":
				s.origin = m.stringValue()
			case "url":
				s.url = m.stringValue()
			default:
				s.addPrefix = m.stringValue()
			}
		case "stripEndpoint":
			if t != oxn.Boolean {
				return fmt.Errorf("%q must be a boolean", m.key)
			}
			s.stripEndpoint = m.stringValue() == "true"
		case "query":
			if t != oxn.Null {
				s.query = m
			}
		case "headers":
			if t == oxn.Null {
				continue
			}
			if t != oxn.Object {
				return fmt.Errorf("%q must be an object", m.key)
			}
			for c := m.t.FirstChild(m.i); c != oxn.NoIndex; c = m.t.Next(c) {
				h := member{key: m.t.Key(c), t: m.t, i: c}
				if !validHeaderName(h.key) {
					return fmt.Errorf("headers: invalid header name %q", h.key)
				}
				v, ok := h.scalar()
				s.headers = append(s.headers, proxyHeader{key: h.key, value: v, set: ok && v != ""})
			}
		case "options":
			if t != oxn.Object {
				return fmt.Errorf("%q must be an object", m.key)
			}
			if m.hasChildren() {
				// Checked now with a throw-away call (files such as
				// client certificates are read per request). Options
				// are read as nodes: this builds the *dom.Node form.
				var raw string
				opts := m.dom()
				if err := (*run)(nil).applyOptions(&upstream.Call{}, opts, &raw); err != nil {
					return fmt.Errorf("options: %w", err)
				}
				s.options = opts
			}
		default:
			return fmt.Errorf("unknown property %q (known: origin, url, stripEndpoint, addPrefix, query, headers, options)", m.key)
		}
	}
	if (s.origin == "") == (s.url == "") {
		return fmt.Errorf("exactly one of \"origin\" or \"url\" is required")
	}
	raw := s.origin
	if raw == "" {
		raw = s.url
	}
	target, err := memo.parse(raw)
	if err != nil {
		return err
	}
	s.target = target
	return nil
}

// outputCharge returns the output a run is charged for rendering t, a
// template without commands, into a tree, as renderTree renders it: the
// charge of one ExecuteTree into an unlimited budget. ok is false for a
// template without a shape, which is rendered on every run instead.
func outputCharge(t *tmpl) (charge int64, ok bool) {
	if !t.t.HasShape() {
		return 0, false
	}
	var b budget.Budget // the zero Budget is unlimited and counts
	if _, err := t.t.ExecuteTree(&expr.Context{Budget: &b}, nil, objectDepth); err != nil {
		return 0, false
	}
	_, _, _, charge = b.Used()
	return charge, true
}

func (a *proxyAction) Run(r *run, s *step) (ctrl, error) {
	spec := a.fixed
	// A body without template commands gives the spec parsed at load,
	// charged to the budget as its rendering is. Its input cannot matter,
	// except that reading a side call's content can fail, and a forwarded
	// request's main content is fetched (to fail with 5002 after): those,
	// and a charge over the budget, take the template's way, which fails
	// as it always did.
	if spec == nil && a.constant != nil && a.in.kind != inContent && !r.x.Forwarded &&
		r.budget.Err() == nil && r.budget.Output(a.charge) == nil {
		spec = a.constant
	}
	if spec == nil {
		c, err := r.templateContext(a.in)
		if err != nil {
			return ctrlNext, err
		}
		o := r.slab.objects()
		if a.plan != nil {
			// The values alone, into the spec read at load. When a value
			// is not one the scope answers directly, the template's way
			// below reads the values again (reads without effects) and
			// charges the output, which ExecuteValues charged only when
			// it gave them.
			fs, ok, err := a.t.t.ExecuteValues(c, objectDepth, o.fields[:0])
			if err != nil {
				return ctrlNext, a.t.errorf(err)
			}
			if ok {
				o.fields = fs
				spec = a.plan.fill(o, fs)
			}
		}
		if spec == nil {
			tree, _, notJSON, err := r.renderShapedIn(a.t, c, &o.trees, objectDepth, nil)
			if err != nil {
				return ctrlNext, err
			}
			ms, err := treeMembers(tree, notJSON, o.members)
			if err == nil {
				o.members = ms
				if o.proxy == nil {
					o.proxy = &proxySpec{}
				}
				spec = o.proxy
				*spec = proxySpec{headers: spec.headers[:0]}
				err = spec.read(ms, &a.target)
			} else {
				err = fmt.Errorf("invalid proxy configuration: %w", err)
			}
			if err != nil {
				return ctrlNext, fmt.Errorf("%s:%d: proxy-request: %w", s.At.File, s.At.Line, err)
			}
		}
	}
	return ctrlNext, r.proxy(spec, a.keys)
}

// dropOnProxy are request headers FLAT's proxy-request does not forward.
var dropOnProxy = [...]string{"authorization", "cookie"}

// proxy builds the Forward for spec and waits for the upstream response.
// keys describes the header names spec's action always sets.
func (r *run) proxy(spec *proxySpec, keys headerKeys) error {
	if r.x.Forwarded {
		return &flowError{status: 500, code: 5002, message: "FlowError", info: []string{"the request was already forwarded; proxy-request can run once per request"}}
	}
	f := &r.x.Fwd
	f.SetHeaders, f.RemoveHeaders = r.fwdSet[:0], r.fwdRemove[:0]
	target := spec.target
	path := r.reqPath
	query := r.reqQuery
	// The upstream path is joinPath(base, joinPath(prefix, path)).
	var base, prefix string
	if spec.url != "" {
		path = target.EscapedPath()
		query = target.RawQuery
	} else {
		if spec.stripEndpoint && r.endpoint != "" && strings.HasPrefix(path, r.endpoint) {
			path = path[len(r.endpoint):]
		}
		base, prefix = strings.TrimSuffix(target.EscapedPath(), "/"), spec.addPrefix
	}
	if q, ok, err := queryString(spec.query); err != nil {
		return fmt.Errorf("proxy-request: query: %w", err)
	} else if ok {
		query = q
	}
	// One string for the upstream URL, scheme://host/path?query, whose
	// tail is the forwarded :path.
	var buf [256]byte
	u := append(buf[:0], target.Scheme...)
	u = append(u, "://"...)
	u = append(u, target.Host...)
	host := len(u)
	p0, p1, p2 := joinParts(prefix, path)
	u = appendJoinPath(u, base, p0, p1, p2)
	if len(u) == host {
		u = append(u, '/')
	}
	if query != "" {
		u = append(u, '?')
		u = append(u, query...)
	}
	// A recycled run's text chunk. The scratch is made here when no
	// action made it (a constant or x-flat-proxy spec), so that Recycle
	// keeps it for the next run.
	r.slab.objects()
	upstreamURL := r.slab.keptArena().Text(u)
	f.Path = upstreamURL[host:]
	// The origin chooses the upstream: extproc sets
	// :authority, the scheme Envoy routes on and clear_route_cache.
	f.Authority, f.Scheme = authorityOf(target), target.Scheme
	var explicit [len(dropOnProxy)]bool
	for i, h := range spec.headers {
		name := keys.at(i, h.key).lower
		for i, d := range dropOnProxy {
			explicit[i] = explicit[i] || name == d
		}
		if !h.set {
			f.RemoveHeaders = append(f.RemoveHeaders, name)
			continue
		}
		if err := checkHeaderValue(h.value); err != nil {
			return fmt.Errorf("proxy-request: header %q: %w", h.key, err)
		}
		f.SetHeaders = append(f.SetHeaders, flowengine.Header{Name: name, Value: h.value})
	}
	if r.side != nil {
		for _, h := range r.side.jwtHeaders {
			f.SetHeaders = append(f.SetHeaders, flowengine.Header{Name: lowername.Lower(h.Name), Value: h.Value})
		}
	}
	for i, h := range dropOnProxy {
		if !explicit[i] && r.header(h) != "" {
			f.RemoveHeaders = append(f.RemoveHeaders, h)
		}
	}
	if spec.options != nil {
		return r.proxyByCall(spec, target)
	}
	return r.forward(upstreamURL)
}

// authorityOf is a target's host with its port only when the port is not
// the scheme's default.
func authorityOf(u *url.URL) string {
	port := u.Port()
	if port != "" && (u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443") {
		return strings.TrimSuffix(u.Host, ":"+port) // keeps an IPv6 literal's brackets
	}
	return u.Host
}

// forward hands the request to the host and records $upstream/main.
// A forward that failed is error 3209: the host's error, or Envoy's local
// reply for an upstream it could not reach (status 502) or that did not
// answer in time (504), which is what the host receives from Envoy
// instead of an upstream response.
func (r *run) forward(upstreamURL string) error {
	resp, err := r.x.Forward()
	if err != nil {
		return &flowError{status: 502, code: 3209, message: "Upstream request failed", info: []string{err.Error()}, cause: err}
	}
	switch resp.UpstreamFailure() {
	case flowengine.UpstreamUnavailable:
		return &flowError{status: 502, code: 3209, message: "Upstream request failed", info: []string{resp.CodeDetails}}
	case flowengine.UpstreamTimeout:
		return &flowError{status: 504, code: 3209, message: "Upstream request failed", info: []string{resp.CodeDetails}}
	}
	if r.upstream == nil && r.upDoc == nil {
		if r.x.Trace != nil {
			// A trace records $upstream when the forward sets it.
			r.upDoc = r.upstreamTree(upstreamURL, resp)
			r.setVarDoc("upstream", r.upDoc)
			return nil
		}
		// Built when something reads it (varAt): many proxy flows never
		// do, and the tree cost about 1 µs of a saturated exchange.
		r.upURL = upstreamURL
		r.storeEntry(varEntry{name: "upstream", doc: pendingUpstream})
		return nil
	}
	sl := &r.slab
	main := sl.object("main")
	main.AppendChild(sl.str("url", upstreamURL))
	main.AppendChild(sl.scalar("status", "number", strconv.Itoa(resp.Status)))
	main.AppendChild(sl.scalar("cacheHit", "boolean", "false"))
	hs := sl.object("headers")
	for i, h := range resp.Headers {
		name := strings.ToLower(h.Name)
		if seenBefore(resp.Headers[:i], name) {
			continue
		}
		sl.member(hs, name, joinValues(resp.Headers, name))
	}
	main.AppendChild(hs)
	r.setUpstreamEntry("main", main)
	return nil
}

// upstreamTree builds $upstream/main when no side call made $upstream
// before: the whole variable as a compact tree, which simple paths
// ($upstream/main/status) read in place; upstreamVar materialises it when a
// later side call adds an entry. resp is the exchange's upstream response,
// which does not change once Forward returned it.
func (r *run) upstreamTree(upstreamURL string, resp *flowengine.Response) *oxn.Doc {
	hs := resp.Headers
	text := 64 + len(upstreamURL)
	for _, h := range hs {
		text += len(h.Name) + len(h.Value)
	}
	// In the run's kept object arena when it has one (slab.keptArena; nil
	// allocates).
	arena := r.slab.keptArena()
	var b oxn.TreeBuilder
	arena.StartBuilder(&b, "upstream", 6+len(hs), text)
	main := b.Object(b.Root(), "main")
	b.String(main, "url", upstreamURL)
	var digits [20]byte
	b.Scalar(main, "status", oxn.Number, string(strconv.AppendInt(digits[:0], int64(resp.Status), 10)))
	b.Scalar(main, "cacheHit", oxn.Boolean, "false")
	hdrs := b.Object(main, "headers")
	// One member per name, lower-cased, with the values of all its
	// headers joined. Names are HTTP tokens, so ASCII: lower-cased once,
	// they compare with ==; a non-ASCII name makes every pair fold.
	var buf [16]string
	names, ascii := buf[:0], true
	for _, h := range hs {
		ascii = ascii && isASCII(h.Name)
		names = append(names, strings.ToLower(h.Name))
	}
	for i, h := range hs {
		name := names[i]
		if ascii {
			if slices.Contains(names[:i], name) {
				continue
			}
			if !slices.Contains(names[i+1:], name) {
				b.String(hdrs, name, h.Value) // the usual case: no join
				continue
			}
		} else if seenBefore(hs[:i], name) {
			continue
		}
		b.String(hdrs, name, joinValues(hs, name))
	}
	return arena.NewDoc(arena.BuiltTree(&b))
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// seenBefore reports whether name occurs in hs (case-insensitively).
func seenBefore(hs []flowengine.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// joinValues returns all values of a header joined as HTTP allows (cookie
// with "; ", others with ", "); a single value is returned without
// allocating.
func joinValues(hs []flowengine.Header, name string) string {
	count, first := 0, ""
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			if count == 0 {
				first = h.Value
			}
			count++
		}
	}
	if count <= 1 {
		return first
	}
	vals := make([]string, 0, count)
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			vals = append(vals, h.Value)
		}
	}
	sep := ", "
	if strings.EqualFold(name, "cookie") {
		sep = "; "
	}
	return strings.Join(vals, sep)
}

// joinParts returns the pieces of a and b joined with exactly one slash
// between them (nothing added when either is empty): p0+p1+p2, without
// allocating.
func joinParts(a, b string) (p0, p1, p2 string) {
	switch {
	case a == "":
		return b, "", ""
	case b == "":
		return a, "", ""
	case strings.HasSuffix(a, "/") && strings.HasPrefix(b, "/"):
		return a, b[1:], ""
	case !strings.HasSuffix(a, "/") && !strings.HasPrefix(b, "/"):
		return a, "/", b
	}
	return a, b, ""
}

// appendJoinPath appends a and the concatenation of bs to dst, joined as
// joinParts joins two strings.
func appendJoinPath(dst []byte, a string, bs ...string) []byte {
	first := -1 // the first byte of the b pieces, -1 when they are empty
	for _, b := range bs {
		if b != "" {
			first = int(b[0])
			break
		}
	}
	if a != "" {
		dst = append(dst, a...)
		aSlash := a[len(a)-1] == '/'
		switch {
		case first < 0:
			return dst
		case aSlash && first == '/':
			dst = dst[:len(dst)-1] // b's slash stands for both
		case !aSlash && first != '/':
			dst = append(dst, '/')
		}
	}
	for _, b := range bs {
		dst = append(dst, b...)
	}
	return dst
}

// queryString renders FLAT's query forms: "a=1&b=2", {a: 37}, or
// [{name, value}]. ok is false when no query was given (q.t is nil).
func queryString(q member) (string, bool, error) {
	if q.t == nil {
		return "", false, nil
	}
	var parts []string
	switch q.typ() {
	case oxn.String:
		return strings.TrimPrefix(q.stringValue(), "?"), true, nil
	case oxn.Object:
		for _, c := range q.children(nil) {
			if v, ok := c.scalar(); ok {
				parts = append(parts, url.QueryEscape(c.key)+"="+url.QueryEscape(v))
			}
		}
	case oxn.Array:
		for _, it := range q.children(nil) {
			name, ok := it.child("name")
			if !ok {
				return "", false, fmt.Errorf("array items need a \"name\"")
			}
			v := ""
			if value, ok := it.child("value"); ok {
				v, _ = value.scalar()
			}
			parts = append(parts, url.QueryEscape(name.stringValue())+"="+url.QueryEscape(v))
		}
	default:
		return "", false, fmt.Errorf("want a string, object or array")
	}
	return strings.Join(parts, "&"), true, nil
}
