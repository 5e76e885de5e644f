package flat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"mime"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// maxSubFlowDepth bounds sub-flow recursion.
const maxSubFlowDepth = 64

// run is the FLAT state of one exchange: the shared exchange state, the
// variables and FLAT's main content. It lives in the run's goroutine only.
type run struct {
	x runtime.Exchange
	p *Project

	vars   []varEntry
	slab   slab
	budget budget.Budget // this run's limits; Reset in Project.Run

	// parsed request pieces, built lazily
	reqDoc   *oxn.Doc     // $request as a compact tree (requestDoc)
	reqSet   expr.Value   // $request as a boxed NodeSet, built once
	ectx     expr.Context // reused for every evaluation (never retained)
	reqPath  string       // path without query
	reqQuery string
	params   []paramKV
	endpoint string

	// bodyVal is $body: a string, or a JSON body as an *oxn.Doc (a
	// compact tree) until something reads $body other than through a
	// simple path or a template context; Var then replaces it with the
	// materialised document (the same nodes the Doc maps tree positions
	// to). bodyLoaded is below with the other flags.
	bodyVal expr.Value

	// The main content (the response body the flow is building) is
	// x.Resp.Body/ContentType/BodySet. respBodyLoaded: the upstream body
	// was fetched into the main content; contentFromUpstream: the main
	// content is still that unmodified body.
	bodyLoaded          bool
	respBodyLoaded      bool
	contentFromUpstream bool
	inErrFlow           bool
	// backing arrays for x.Fwd's header lists (most forwards change a few)
	fwdSet    [3]flowengine.Header
	fwdRemove [4]string

	logFields *orderedMap
	side      *sides    // side-call state, allocated by the first side call
	upstream  *dom.Node // the $upstream object (forward and side calls)
	upDoc     *oxn.Doc  // $upstream as a forward recorded it, until it changes (upstreamTree)
	upURL     string    // the forward's upstream URL while $upstream is pendingUpstream
	// scratch holds template output that is parsed, not kept (see
	// execTemplate); slab.objects has the scratch space of objectMembers.
	scratch   bytes.Buffer
	errorCode int
	depth     int
	dir       string // directory of the flow running now
	flowFile  string // the flow running now (for traces)
	flowName  string // the flow the request was routed to

	// Initial backing arrays of vars, params and response headers:
	// allocated with the run.
	varsBuf    [4]varEntry
	reqArr     [1]*dom.Node // backs reqSet
	scratchBuf [128]byte    // initial space of scratch (the run stays within a 2 KiB size class)
	paramsBuf  [2]paramKV
	headersBuf [4]flowengine.Header
}

// Exchange implements runtime.State.
func (r *run) Exchange() *runtime.Exchange { return &r.x }

type paramKV struct{ name, value string }

// varEntry is one flow variable. A JSON value a template wrote
// (<template out="$x">) is held as doc, a compact tree, and val is built
// from it (the materialised root element) only when something needs the
// *dom.Node form; simple paths and template contexts read doc in place
// (TreeVar).
type varEntry struct {
	name string
	val  expr.Value
	doc  *oxn.Doc
}

// pendingUpstream is the doc of a $upstream entry a forward recorded and
// nothing has read yet: varAt builds the tree on first use. Only varAt
// sees it; every reader of r.vars goes through varAt.
var pendingUpstream = new(oxn.Doc)

// varAt returns r.vars[i], building a pending $upstream first.
func (r *run) varAt(i int) *varEntry {
	e := &r.vars[i]
	if e.doc == pendingUpstream {
		r.upDoc = r.upstreamTree(r.upURL, r.x.Upstream)
		e.doc = r.upDoc
	}
	return e
}

// Scalar implements expr.ScalarScope: $upstream/main/status, url and
// cacheHit of a forward whose $upstream nothing has read yet, from the
// response itself, so a flow that checks the status (nearly every one)
// does not build the tree of the upstream's headers. The values are those
// upstreamTree writes: the status a number, the URL a string, cacheHit
// false.
func (r *run) Scalar(name string, path []string) (expr.ScalarValue, bool) {
	if name != "upstream" || len(path) != 2 || path[0] != "main" {
		return expr.ScalarValue{}, false
	}
	if i := r.varIndex("upstream"); i < 0 || r.vars[i].doc != pendingUpstream {
		return expr.ScalarValue{}, false
	}
	switch path[1] {
	case "status":
		if st := r.x.Upstream.Status; st >= 0 && st < len(statusTexts) {
			return expr.ScalarValue{Type: oxn.Number, Text: statusTexts[st]}, true
		}
	case "url":
		return expr.ScalarValue{Type: oxn.String, Text: r.upURL}, true
	case "cacheHit":
		return expr.ScalarValue{Type: oxn.Boolean, Text: "false"}, true
	}
	return expr.ScalarValue{}, false
}

// statusTexts are the decimal texts of the status codes, made once so
// that Scalar gives $upstream/main/status without formatting it.
var statusTexts = func() (t [1000]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// value returns the entry's value, materialising a tree-held one.
func (e *varEntry) value() expr.Value {
	if e.val == nil && e.doc != nil {
		e.val = expr.NodeSet{e.doc.NodeAt(0)}
	}
	return e.val
}

// loneRoot returns the root element of d's *dom.Node form, detached from
// the document it is materialised under: the shape of the variables the
// run builds itself ($request, $upstream), which were lone elements
// before they were held as trees.
func loneRoot(d *oxn.Doc) *dom.Node {
	el := d.NodeAt(0)
	if doc := el.Parent; doc != nil {
		doc.FirstChild, doc.LastChild = nil, nil
		el.Parent = nil
	}
	return el
}

// Var implements expr.Scope.
func (r *run) Var(name string) (expr.Value, bool) {
	if i := r.varIndex(name); i >= 0 {
		e := r.varAt(i)
		if e.val == nil && e.doc != nil && e.doc == r.upDoc {
			e.val = expr.NodeSet{loneRoot(e.doc)} // as upstreamVar makes it
		}
		return e.value(), true
	}
	switch name {
	case "request":
		if r.reqSet == nil {
			r.reqArr[0] = r.requestNode()
			r.reqSet = expr.NodeSet(r.reqArr[:]) // boxed once per run
		}
		return r.reqSet, true
	case "body":
		if d, ok := r.bodyVal.(*oxn.Doc); ok {
			r.bodyVal = expr.NodeSet{d.Document()} // boxed once per run
		}
		if r.bodyLoaded && r.bodyVal != nil {
			return r.bodyVal, true
		}
		return nil, false
	case "env":
		set, _ := r.env()
		return set, true
	case "server":
		return r.p.serverSet, true
	}
	return nil, false
}

// TreeVar implements expr.TreeScope: a variable a template wrote as JSON,
// $request, and $body when it is a JSON body not yet materialised, as
// their trees. A flow variable shadows $request and $body.
func (r *run) TreeVar(name string) (expr.TreeNode, bool) {
	if i := r.varIndex(name); i >= 0 {
		if d := r.varAt(i).doc; d != nil {
			return expr.TreeNode{Doc: d, Index: 0}, true
		}
		return expr.TreeNode{}, false
	}
	if name != "request" && name != "body" {
		return expr.TreeNode{}, false
	}
	if name == "request" {
		return expr.TreeNode{Doc: r.requestDoc(), Index: 0}, true
	}
	d, ok := r.bodyVal.(*oxn.Doc)
	if !ok {
		return expr.TreeNode{}, false
	}
	return expr.TreeNode{Doc: d, Index: oxn.DocIndex}, true
}

func (r *run) setVar(name string, v expr.Value) {
	if r.x.Trace != nil {
		b, _ := renderValue(v)
		r.x.TraceVar(name, string(b))
	}
	r.storeVar(name, v)
}

// storeVar sets a variable without tracing it.
func (r *run) storeVar(name string, v expr.Value) {
	r.storeEntry(varEntry{name: name, val: v})
}

// varIndex returns the index of the flow variable name in r.vars, else -1.
func (r *run) varIndex(name string) int {
	for i := range r.vars {
		if r.vars[i].name == name {
			return i
		}
	}
	return -1
}

// storeEntry sets the variable e.name to e's value.
func (r *run) storeEntry(e varEntry) {
	if i := r.varIndex(e.name); i >= 0 {
		// A pending $upstream is built before it is replaced: r.upDoc
		// stays the forward's record, as upstreamVar expects.
		r.varAt(i)
		r.vars[i] = e
		return
	}
	r.vars = append(r.vars, e)
}

// setVarDoc sets a variable to the JSON value held in d (its root
// element), tracing it like setVar.
func (r *run) setVarDoc(name string, d *oxn.Doc) {
	e := varEntry{name: name, doc: d}
	if r.x.Trace != nil {
		var b bytes.Buffer
		if err := d.Tree().WriteJSON(&b, 0); err == nil {
			r.x.TraceVar(name, b.String())
		} else {
			b, _ := renderValue(e.value())
			r.x.TraceVar(name, string(b))
		}
	}
	r.storeEntry(e)
}

func (r *run) exprCtx(node *dom.Node) *expr.Context {
	r.ectx = expr.Context{Ctx: r.x.Ctx, Scope: r, Node: node, Runtime: r, Dir: r.dir, Root: r.p.root, Budget: &r.budget}
	return &r.ectx
}

// ensureBody fetches and parses the request body once.
func (r *run) ensureBody() error {
	if r.bodyLoaded {
		return nil
	}
	r.bodyLoaded = true
	b, err := r.x.RequestBody()
	if err != nil {
		return &flowError{status: 502, code: 3205, message: "Request body unavailable", info: []string{err.Error()}, cause: err}
	}
	if int64(len(b)) > r.p.opts.maxBody() {
		return &flowError{status: 413, code: 3208, message: "Request Entity Too Large",
			info: []string{fmt.Sprintf("Request body of %d bytes exceeds the limit of %d bytes.", len(b), r.p.opts.maxBody())}}
	}
	ct := r.header("content-type")
	if isJSONType(ct) {
		// The body stays a compact tree (about a quarter of the parsed
		// *dom.Node form); see docs/bench.md "JSON body memory".
		t, err := oxn.ParseTree(b, r.p.opts.maxDepth())
		if err == nil {
			r.bodyVal = oxn.NewDoc(t)
		} else {
			r.p.logger().Warn("request body is not valid JSON", "requestID", r.x.ID, "error", err)
		}
	} else if len(b) > 0 {
		r.bodyVal = string(b)
	}
	return nil
}

func isJSONType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func (r *run) header(name string) string { return r.x.Header(name) }

// setMain writes the main content (the response body).
func (r *run) setMain(b []byte, contentType string) {
	r.contentFromUpstream = false
	r.x.SetBody(b, contentType)
}

// mainContext returns the main content as a template context node: the
// OXN root element when it is JSON, nil otherwise. After a forward, the
// main content is the upstream's response body, fetched on first use.
func (r *run) mainContext() (*dom.Node, error) {
	if r.x.Forwarded && !r.x.Resp.BodySet && r.x.Upstream != nil {
		if err := r.ensureResponseBody(); err != nil {
			return nil, err
		}
	}
	content := r.x.Resp.Body
	if !r.x.Resp.BodySet || len(content) == 0 {
		return nil, nil
	}
	if !isJSONType(r.x.Resp.ContentType) && r.x.Resp.ContentType != "" {
		return oxn.NewString("json", string(content)), nil
	}
	doc, err := r.slab.Parse(content, r.p.opts.maxDepth())
	if err != nil {
		return nil, nil
	}
	return doc.FirstElement(), nil
}

// mainTree is mainContext for JSON main content, held as a Tree: the
// document whose json element is the context node; nil when the main
// content is not JSON (or does not parse: mainContext then gives its
// context node, nil for JSON that does not parse).
func (r *run) mainTree() (*oxn.Doc, error) {
	if r.x.Forwarded && !r.x.Resp.BodySet && r.x.Upstream != nil {
		if err := r.ensureResponseBody(); err != nil {
			return nil, err
		}
	}
	content := r.x.Resp.Body
	if !r.x.Resp.BodySet || len(content) == 0 || (!isJSONType(r.x.Resp.ContentType) && r.x.Resp.ContentType != "") {
		return nil, nil
	}
	t, err := oxn.ParseTree(content, r.p.opts.maxDepth())
	if err != nil {
		return nil, nil
	}
	return oxn.NewDoc(t), nil
}

// ensureResponseBody makes the upstream response body the main content.
func (r *run) ensureResponseBody() error {
	if r.respBodyLoaded {
		return nil
	}
	r.respBodyLoaded = true
	b, err := r.x.ResponseBody()
	if err != nil {
		return &flowError{status: 502, code: 3209, message: "Upstream response body unavailable", info: []string{err.Error()}, cause: err}
	}
	r.setMain(b, r.x.UpstreamHeader("content-type"))
	r.contentFromUpstream = true
	return nil
}

// setResponseHeader sets (replaces) a response header.
func (r *run) setResponseHeader(name, value string) { r.x.SetResponseHeader(name, value) }

// flowError is a FLAT error: it becomes the error flow's $error or the
// system error document.
type flowError struct {
	status  int
	code    int
	message string
	info    []string
	// extra holds the whole $error object when the error action built it.
	extra *dom.Node
	cause error
}

func (e *flowError) Error() string {
	return fmt.Sprintf("%d %d %s %s", e.status, e.code, e.message, strings.Join(e.info, "; "))
}

func (e *flowError) Unwrap() error { return e.cause }

// asFlowError turns any run error into a flowError (internal errors → 500).
func asFlowError(err error) *flowError {
	var fe *flowError
	if errors.As(err, &fe) {
		return fe
	}
	if fe := budgetError(err); fe != nil {
		return fe
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &flowError{status: 499, code: 5001, message: "Request cancelled", info: []string{err.Error()}, cause: err}
	}
	return &flowError{status: 500, code: 5000, message: "FlowError", info: []string{err.Error()}, cause: err}
}

// errorDocument renders FLAT's system error document.
func errorDocument(fe *flowError, requestID string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"error":{"message":`)
	oxn.WriteString(&b, fe.message)
	fmt.Fprintf(&b, `,"status":%d,"requestID":`, fe.status)
	oxn.WriteString(&b, requestID)
	b.WriteString(`,"info":[`)
	for i, s := range fe.info {
		if i > 0 {
			b.WriteByte(',')
		}
		oxn.WriteString(&b, s)
	}
	fmt.Fprintf(&b, `],"code":%d}}`, fe.code)
	return b.Bytes()
}

// SystemErrorDocument renders FLAT's system error document
// {"error":{"message","status","requestID","info","code"}}.
func SystemErrorDocument(status, code int, message, requestID string, info []string) []byte {
	return errorDocument(&flowError{status: status, code: code, message: message, info: info}, requestID)
}
