package flat

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"github.com/flowproc/flowproc/flowengine/upstream"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// FLAT tests (FLAT docs: testing): a <flat-test> file is a flow with the
// test actions assert, test-request, backend-flow and set-env. It runs
// through the same engine as production: test-request runs the app's whole
// pipeline on a request, and the side calls of every run go to the
// registered backend flows instead of the network. The test, the app flows
// and the backend flows share their variables, except $request and $body,
// which each run has of its own.

// Test is a compiled <flat-test> file.
type Test struct {
	// File is the test's path relative to the project directory.
	File string
	p    *Project // a copy of the project that also holds the test's flows
	flow *Flow
}

// TestOptions configure a test run.
type TestOptions struct {
	// Upstream makes the side calls of a test that registers no backend
	// flow (nil: the project's client).
	Upstream upstream.Client
	// Trace receives the events of the test's runs (nil: none).
	Trace flowengine.Tracer
	// NewHost makes the host of one test-request: the exchange of req
	// (whose body is body) as the proxy would drive it. A forward goes
	// through calls, the client of the test's backend flows (or the
	// network), as the side call "main". Required for test-request; the
	// test runner (package flowtest) provides it.
	NewHost func(req *flowengine.Request, body []byte, calls upstream.Client) TestHost
}

// TestHost is the host of a test-request run.
type TestHost interface {
	flowengine.Host
	// Upstream returns the response of the forward, if the run forwarded,
	// and its body.
	Upstream() (*flowengine.Response, []byte)
}

// TestResult is the outcome of one test file.
type TestResult struct {
	// File is the test's path relative to the project directory.
	File string
	// Assertions counts the assertions evaluated.
	Assertions int
	// Failures are the failed assertions, in order, with file:line.
	Failures []string
	// Requests are the test-requests made ("GET /api/x?y=1").
	Requests []string
	// Err is set when the test did not run to its end (a flow error in
	// the test itself, or a test without any assertion).
	Err error
}

// OK reports whether the test passed.
func (r *TestResult) OK() bool { return r.Err == nil && len(r.Failures) == 0 }

// IsTestFile reports whether data is a FLAT test: XML whose root element
// is <flat-test>.
func IsTestFile(path string, data []byte) bool {
	root, err := xmlsrc.Parse(path, data)
	return err == nil && root.Name == "flat-test"
}

// LoadTest compiles the <flat-test> file at path (absolute or relative to
// the working directory) against the project. The project itself is not
// changed: the test compiles into a copy that shares its flows.
func (p *Project) LoadTest(path string) (*Test, diag.List) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, diag.List{diag.Errorf(path, 0, 0, diag.MissingFile, "%v", err)}
	}
	tp := *p
	tp.flows = maps.Clone(p.flows)
	c := &compiler{p: &tp, test: true}
	f := &Flow{File: tp.rel(abs), path: abs, dir: filepath.Dir(abs)}
	src, err := tp.readFile(abs)
	if err != nil {
		return nil, diag.List{diag.Errorf(abs, 0, 0, fileCode(err), "test file %s: %v", tp.rel(abs), unwrapPathErr(err))}
	}
	root, err := xmlsrc.Parse(abs, src)
	if err != nil {
		var de *diag.Error
		if errors.As(err, &de) {
			return nil, diag.List{de}
		}
		return nil, diag.List{diag.Errorf(abs, 0, 0, diag.XMLSyntax, "%v", err)}
	}
	if root.Name != "flat-test" {
		return nil, diag.List{diag.Errorf(abs, root.Line, root.Col, diag.BadRoot, "root element is <%s>, want <flat-test>", root.Name)}
	}
	f.body = c.block(f, root.Children)
	if !hasAssert(root) {
		c.errf(f, root.Line, root.Col, diag.BadContent, "a test needs at least one <assert>")
	}
	c.checkCycles()
	if len(c.errs) > 0 {
		c.errs.Sort()
		return nil, c.errs
	}
	return &Test{File: f.File, p: &tp, flow: f}, nil
}

func hasAssert(e *xmlsrc.Element) bool {
	for _, c := range e.Children {
		if c.Name == "assert" || hasAssert(c) {
			return true
		}
	}
	return false
}

// testState is shared by the runs of one test: the test itself, its
// test-requests and the backend flows.
type testState struct {
	res  *TestResult
	opts TestOptions
	// backends are the registered backend flows by request ID.
	backends map[string]*Flow
	// envSet is $env after set-env (nil: the project's), envIndex its
	// members (run.MemberNode).
	env      *dom.Node
	envSet   expr.Value
	envIndex memberIndex
	// mu guards res and backends.
	mu sync.Mutex
	// runMu serialises backend flows: requests calls them concurrently,
	// and they share the test's variables.
	runMu sync.Mutex
}

// Run runs the test once. It never panics out: a panic is a failed test.
func (t *Test) Run(ctx context.Context, opts TestOptions) (res *TestResult) {
	res = &TestResult{File: t.File}
	st := &testState{res: res, opts: opts, backends: map[string]*Flow{}}
	req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "localhost", Path: "/", BodyKnownEmpty: true, Trace: opts.Trace}
	r := t.p.newRun(ctx, req, innerHost{})
	r.side = &sides{test: st}
	r.flowName = t.File
	defer func() {
		if v := recover(); v != nil {
			res.Err = fmt.Errorf("the test panicked: %v", v)
		}
	}()
	if _, err := r.flow(t.flow); err != nil {
		fe := asFlowError(err)
		res.Err = fmt.Errorf("%s (status %d, code %d): %s", fe.message, fe.status, fe.code, strings.Join(fe.info, "; "))
	}
	return res
}

// shareVars copies the variables of from into to, except the run's own
// $request and $body.
func shareVars(to, from *run) {
	for i := range from.vars {
		v := *from.varAt(i)
		if v.name == "request" || v.name == "body" {
			continue
		}
		if v.doc != nil && v.doc == from.upDoc {
			// The forward's $upstream tree: share the lone element
			// from's Var gives, not a second shape of it.
			v = varEntry{name: v.name, val: expr.NodeSet{loneRoot(v.doc)}}
		}
		to.storeEntry(v)
	}
}

// innerHost is the host of the runs inside a test that have no proxy in
// front of them: the test file itself and backend flows. They have a body
// and cannot forward.
type innerHost struct{ body []byte }

func (h innerHost) RequestBody(context.Context) ([]byte, error) { return h.body, nil }

func (innerHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	return nil, errors.New("a test or backend flow has no request to forward; use test-request")
}

func (innerHost) ResponseBody(context.Context) ([]byte, error) {
	return nil, flowengine.ErrBodyUnavailable
}

// client is the side-call client of a run in a test: the backend flows
// when any is registered, the network otherwise.
func (st *testState) client(r *run) upstream.Client {
	return backendClient{st: st, r: r}
}

// backendClient answers side calls with the registered backend flows.
type backendClient struct {
	st *testState
	r  *run // the run making the calls (its variables are shared)
}

func (b backendClient) Do(ctx context.Context, c *upstream.Call) (*upstream.Result, error) {
	if c == nil {
		return nil, upstream.ErrNilCall
	}
	st := b.st
	st.runMu.Lock()
	defer st.runMu.Unlock()
	st.mu.Lock()
	f, ok := st.backends[c.ID]
	mocked := len(st.backends) > 0
	st.mu.Unlock()
	if !mocked {
		client := st.opts.Upstream
		if client == nil {
			client = b.r.p.client()
		}
		return client.Do(ctx, c)
	}
	if !ok {
		return &upstream.Result{ID: c.ID, URL: c.URL, Err: &upstream.Error{Kind: upstream.KindUnmocked,
			Message: fmt.Sprintf("no backend-flow for request %q (with backend flows registered, a test sends no real requests)", c.ID)}}, nil
	}
	return st.runBackend(ctx, b.r, f, c), nil
}

// requestOfCall is the request a call sends (to the app under test, or to
// a backend flow) as the engine sees a client's: headers lower-cased, the
// cookies as one Cookie header, the body's Content-Type.
func requestOfCall(c *upstream.Call, u *url.URL, trace flowengine.Tracer) *flowengine.Request {
	req := &flowengine.Request{Method: c.Method, Scheme: u.Scheme, Authority: u.Host, Path: u.RequestURI(), BodyKnownEmpty: len(c.Body) == 0, Trace: trace}
	if q := encodeFields(c.Query); q != "" {
		if strings.Contains(req.Path, "?") {
			req.Path += "&" + q
		} else {
			req.Path += "?" + q
		}
	}
	for _, h := range c.Headers {
		if strings.EqualFold(h.Name, "cookie") && len(c.Cookies) > 0 {
			continue
		}
		req.Headers = append(req.Headers, flowengine.Header{Name: strings.ToLower(h.Name), Value: h.Value})
	}
	if len(c.Cookies) > 0 {
		parts := make([]string, len(c.Cookies))
		for i, ck := range c.Cookies {
			parts[i] = ck.Name + "=" + ck.Value
		}
		req.Headers = append(req.Headers, flowengine.Header{Name: "cookie", Value: strings.Join(parts, "; ")})
	}
	if c.ContentType != "" && !hasHeaderName(req.Headers, "content-type") {
		req.Headers = append(req.Headers, flowengine.Header{Name: "content-type", Value: c.ContentType})
	}
	return req
}

// runBackend runs a backend flow for call c made by run from, as if it
// were the upstream: $request and $body describe the call, and the
// response it builds is the call's result.
func (st *testState) runBackend(ctx context.Context, from *run, f *Flow, c *upstream.Call) *upstream.Result {
	res := &upstream.Result{ID: c.ID, URL: c.URL, Header: http.Header{}}
	u, err := url.Parse(c.URL)
	if err != nil {
		res.Err = &upstream.Error{Kind: upstream.KindInvalid, Message: err.Error()}
		return res
	}
	req := requestOfCall(c, u, st.opts.Trace)
	b := from.p.newRun(ctx, req, innerHost{body: c.Body})
	b.side = &sides{test: st}
	b.reqPath, b.reqQuery, _ = strings.Cut(req.Path, "?")
	b.endpoint = b.reqPath
	b.flowName = f.File
	shareVars(b, from)
	runtime.Guard(func() *flowengine.Outcome {
		if _, err := b.flow(f); err != nil {
			return b.errorOutcome(asFlowError(err)) // the error document is the response
		}
		return nil
	}, b.panicked)
	shareVars(from, b)
	res.Status = b.x.Resp.Status
	if res.Status == 0 {
		res.Status = 200
	}
	for _, h := range b.x.Resp.Headers {
		res.Header.Add(h.Name, h.Value)
	}
	for _, h := range b.x.Resp.Added {
		res.Header.Add(h.Name, h.Value)
	}
	if b.x.Resp.BodySet {
		res.Body = b.x.Resp.Body
		if b.x.Resp.ContentType != "" {
			res.Header.Set("Content-Type", b.x.Resp.ContentType)
		}
	}
	return res
}

func hasHeaderName(hs []flowengine.Header, name string) bool {
	for _, h := range hs {
		if h.Name == name {
			return true
		}
	}
	return false
}

func encodeFields(fs []upstream.Field) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = url.QueryEscape(f.Name) + "=" + url.QueryEscape(f.Value)
	}
	return strings.Join(parts, "&")
}

// testFailure records a failed assertion of the test.
func (st *testState) fail(at runtime.Pos, format string, args ...any) {
	st.res.Failures = append(st.res.Failures, fmt.Sprintf("%s:%d: ", at.File, at.Line)+fmt.Sprintf(format, args...))
}

// setEnv applies set-env changes to the test's $env.
func (st *testState) setEnv(base *dom.Node, ms []member) {
	env := oxn.NewObject("env")
	changed := map[string]*dom.Node{}
	removed := map[string]bool{}
	for _, m := range ms {
		if m.typ() == oxn.Null {
			removed[m.key] = true
			continue
		}
		v, ok := m.scalar()
		if !ok {
			var b strings.Builder
			bb, _ := renderValue(expr.NodeSet{m.dom()})
			b.Write(bb)
			v = b.String()
		}
		changed[m.key] = oxn.NewString(m.key, v)
	}
	for c := base.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != dom.ElementNode {
			continue
		}
		k := oxn.Key(c)
		if removed[k] {
			continue
		}
		if n, ok := changed[k]; ok {
			oxn.AddMember(env, k, n)
			delete(changed, k)
			continue
		}
		oxn.AddMember(env, k, oxn.NewString(k, c.StringValue()))
	}
	for _, m := range ms {
		if n, ok := changed[m.key]; ok {
			oxn.AddMember(env, m.key, n)
			delete(changed, m.key)
		}
	}
	st.env, st.envSet, st.envIndex = env, expr.NodeSet{env}, indexMembers(env)
}
