package flat

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/template"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

func init() {
	registerAction("echo", &actionSpec{attrs: []string{"mime", "status"}, compile: compileEcho})
	registerAction("template", &actionSpec{attrs: []string{"in", "out", "src", "check"}, compile: compileTemplate})
	registerAction("eval", &actionSpec{attrs: []string{"out"}, compile: compileEval})
	registerAction("set-status", &actionSpec{attrs: []string{"code"}, compile: compileSetStatus})
}

// echoAction is <echo mime status>static text</echo>: it answers and ends
// the request.
type echoAction struct {
	body   []byte
	mime   value
	status value
}

func compileEcho(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &echoAction{body: []byte(e.Text), mime: value{lit: "text/plain"}}
	if m, ok := e.Attr("mime"); ok {
		a.mime = c.value(f, m)
	}
	if s, ok := e.Attr("status"); ok {
		a.status = c.statusValue(f, s)
	}
	if len(e.Children) > 0 {
		c.errf(f, e.Children[0].Line, e.Children[0].Col, diag.BadContent, "<echo> takes static text, not elements; use <template> for dynamic output")
	}
	return a
}

func (a *echoAction) Run(r *run, _ *step) (ctrl, error) {
	m, err := a.mime.eval(r)
	if err != nil {
		return ctrlNext, err
	}
	if !a.status.empty() {
		if err := r.applyStatus(a.status); err != nil {
			return ctrlNext, err
		}
	}
	r.setMain(a.body, m)
	return ctrlTerminate, nil
}

// statusValue compiles a status attribute, checking literals at load.
func (c *compiler) statusValue(f *Flow, a xmlsrc.Attr) value {
	v := c.value(f, a)
	if v.dyn == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(v.lit)); err != nil || n < 100 || n > 599 {
			c.errf(f, a.Line, a.Col, diag.BadAttribute, "%s=%q: want an HTTP status 100-599", a.Name, a.Value)
		}
	}
	return v
}

// applyStatus sets the response status from a status value; an empty or
// invalid status gives 500 (FLAT set-status semantics).
func (r *run) applyStatus(v value) error {
	s, err := v.eval(r)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		r.x.Resp.Status = 500
		return nil
	}
	r.x.Resp.Status = n
	return nil
}

// setStatusAction is <set-status code="201"/>.
type setStatusAction struct{ code value }

func compileSetStatus(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a, ok := c.requireAttr(f, e, "code")
	if !ok {
		return nil
	}
	return &setStatusAction{code: c.statusValue(f, a)}
}

func (a *setStatusAction) Run(r *run, _ *step) (ctrl, error) {
	return ctrlNext, r.applyStatus(a.code)
}

// input is where a template reads its context from (in=).
type input struct {
	// fetch: the default main content may fetch the upstream body after a
	// forward (template only; other actions use what is already there).
	fetch bool
	kind  inputKind
	name  string    // variable name for inVar
	fixed *dom.Node // parsed file for inFile
}

type inputKind uint8

const (
	inMain    inputKind = iota // fit://request/content (default)
	inNone                     // in=""
	inVar                      // in="$x"
	inFile                     // in="file.json"
	inContent                  // in="fit://request/content/<id>": a side call's body
)

func (c *compiler) input(f *Flow, e *xmlsrc.Element) input {
	a, ok := e.Attr("in")
	if !ok || a.Value == "fit://request/content" {
		return input{kind: inMain}
	}
	if a.Value == "" {
		return input{kind: inNone}
	}
	if id, ok := strings.CutPrefix(a.Value, "fit://request/content/"); ok {
		return input{kind: inContent, name: id}
	}
	if strings.HasPrefix(a.Value, "$") {
		if !varName.MatchString(a.Value) {
			c.errf(f, a.Line, a.Col, diag.BadVariable, "in=%q: not a variable name", a.Value)
		}
		return input{kind: inVar, name: a.Value[1:]}
	}
	path := filepath.Join(f.dir, a.Value)
	data, err := c.p.readFile(path)
	if err != nil {
		c.errf(f, a.Line, a.Col, fileCode(err), "in=%q: %v", a.Value, unwrapPathErr(err))
		return input{kind: inNone}
	}
	doc, err := oxn.Parse(data, c.p.opts.maxDepth())
	if err != nil {
		doc, err = dom.ParseXML(data, c.p.opts.maxDepth())
	}
	if err != nil {
		c.errf(f, a.Line, a.Col, diag.BadContent, "in=%q: neither JSON nor XML: %v", a.Value, err)
		return input{kind: inNone}
	}
	return input{kind: inFile, fixed: doc.FirstElement()}
}

// node returns the context node for a run.
func (in input) node(r *run) (*dom.Node, error) {
	switch in.kind {
	case inMain:
		if !in.fetch && r.x.Forwarded && !r.x.Resp.BodySet {
			return nil, nil
		}
		return r.mainContext()
	case inVar:
		v, ok := r.Var(in.name)
		if !ok {
			return nil, nil
		}
		return contextOf(v), nil
	case inFile:
		return in.fixed, nil
	case inContent:
		doc, err := r.ContentDoc(in.name)
		if doc == nil || err != nil {
			return nil, err
		}
		return doc.FirstElement(), nil
	}
	return nil, nil
}

// contextOf turns a variable value into a template context node.
func contextOf(v expr.Value) *dom.Node {
	switch t := v.(type) {
	case expr.NodeSet:
		if len(t) == 0 {
			return nil
		}
		if t[0].Type == dom.DocumentNode {
			return t[0].FirstElement()
		}
		return t[0]
	case string:
		if doc, err := oxn.Parse([]byte(t), 512); err == nil {
			return doc.FirstElement()
		}
		return oxn.NewString("json", t)
	case float64:
		return oxn.NewNumber("json", t)
	case bool:
		return oxn.NewBool("json", t)
	}
	return nil
}

// templateAction is <template in out src check>.
type templateAction struct {
	t     *tmpl
	in    input
	out   string
	check bool
	// envOnly: the template reads nothing but $env
	// (template.Template.ReadsOnly), so every run that sees the project's
	// environment gets the same output, FLAT's usual
	// <template out="$cfg"> of an init flow. The first such run's tree is
	// kept in shared and given to the later ones (sharedOutput).
	envOnly bool
	shared  atomic.Pointer[oxn.Tree]
}

func compileTemplate(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &templateAction{in: c.input(f, e), out: c.outVar(f, e), check: true}
	a.in.fetch = true
	if ch, ok := e.Attr("check"); ok {
		a.check = ch.Value != "false"
	}
	a.t = c.template(f, e, true)
	if a.t == nil {
		return nil
	}
	a.envOnly = a.out != "" && a.t.t.ReadsOnly("env")
	return a
}

func (a *templateAction) Run(r *run, s *step) (ctrl, error) {
	if a.out != "" {
		// From the objects' arena when a recycled run kept it (no
		// allocation in steady state), else a tree of its own (slab.keptArena).
		arena := r.slab.keptArena()
		var tree *oxn.Tree
		var out []byte
		var notJSON, err error
		if a.envOnly && r.projectEnv() && r.varIndex("env") < 0 {
			tree, out, notJSON, err = a.sharedOutput(r)
		} else {
			tree, out, notJSON, err = r.renderTree(a.t, a.in, arena, r.p.opts.maxDepth())
		}
		if err != nil {
			return ctrlNext, err
		}
		if notJSON != nil {
			if a.check {
				r.p.logger().Warn(`Action "template": Output is not valid JSON`, "requestID", r.x.ID, "at", fmt.Sprintf("%s:%d", s.At.File, s.At.Line))
			}
			r.setVar(a.out, string(out))
			return ctrlNext, nil
		}
		r.setVarDoc(a.out, arena.NewDoc(tree))
		return ctrlNext, nil
	}
	out, err := r.render(a.t, a.in)
	if err != nil {
		return ctrlNext, err
	}
	if a.check && !oxn.Valid(out) {
		r.p.logger().Warn(`Action "template": Output is not valid JSON`, "requestID", r.x.ID, "at", fmt.Sprintf("%s:%d", s.At.File, s.At.Line))
	}
	r.setMain(bytes.Clone(out), "application/json") // out is scratch space
	return ctrlNext, nil
}

// sharedOutput is renderTree for an envOnly template in a run that sees
// the project's $env: the tree an earlier run built, or, for the first,
// one built outside the run's arena and kept for the later runs when it is
// JSON. The context is still read, for what reading it does (after a
// forward, the upstream's body becomes the main content, or fails to), as
// the template's own run would.
func (a *templateAction) sharedOutput(r *run) (tree *oxn.Tree, out []byte, notJSON, err error) {
	if t := a.shared.Load(); t != nil {
		if _, err := r.templateContext(a.in); err != nil {
			return nil, nil, nil, err
		}
		return t, nil, nil, nil
	}
	tree, out, notJSON, err = r.renderTree(a.t, a.in, nil, r.p.opts.maxDepth())
	if err == nil && notJSON == nil {
		a.shared.CompareAndSwap(nil, tree)
	}
	return tree, out, notJSON, err
}

// render runs t with the context in= selects.
func (r *run) render(t *tmpl, in input) ([]byte, error) {
	c, err := r.templateContext(in)
	if err != nil {
		return nil, err
	}
	return r.runTemplate(t, c)
}

// templateContext returns the expression context a template runs with:
// the context node in= selects, as a Tree node when the input is held as
// one.
func (r *run) templateContext(in input) (*expr.Context, error) {
	switch in.kind {
	case inVar:
		if n, ok := r.TreeVar(in.name); ok {
			// The json element of a tree body, as contextOf gives it
			// for the materialised document; $request's element.
			if n.Index == oxn.DocIndex {
				n.Index = 0
			}
			return r.treeCtx(n), nil
		}
	case inMain:
		if in.fetch || !r.x.Forwarded || r.x.Resp.BodySet {
			d, err := r.mainTree()
			if err != nil {
				return nil, err
			}
			if d != nil {
				return r.treeCtx(expr.TreeNode{Doc: d, Index: 0}), nil
			}
		}
	}
	node, err := in.node(r)
	if err != nil {
		return nil, err
	}
	return r.exprCtx(node), nil
}

// renderTree runs t like render and returns its output as a compact tree
// from arena (nil: allocated), parsed with maxDepth. A template whose
// output always has the same members (template.Template.HasShape: most
// header, proxy and log objects) is built straight into the tree
// without writing and parsing its text. err is an error of the template;
// notJSON, when the output is not JSON, the parser's, with the output in
// out (the run's scratch space).
func (r *run) renderTree(t *tmpl, in input, arena *oxn.TreeArena, maxDepth int) (tree *oxn.Tree, out []byte, notJSON, err error) {
	return r.renderShaped(t, in, arena, maxDepth, nil)
}

// renderShaped is renderTree, and when fields is not nil and t is a record
// (template.Template.IsRecord), it runs t with ExecuteRecord: when every
// value is a scalar, *fields gets the output object's fields (in its
// backing array) and the tree is nil.
func (r *run) renderShaped(t *tmpl, in input, arena *oxn.TreeArena, maxDepth int, fields *[]template.Field) (tree *oxn.Tree, out []byte, notJSON, err error) {
	c, err := r.templateContext(in)
	if err != nil {
		return nil, nil, nil, err
	}
	return r.renderShapedIn(t, c, arena, maxDepth, fields)
}

// renderShapedIn is renderShaped with the template's context already made
// (templateContext).
func (r *run) renderShapedIn(t *tmpl, c *expr.Context, arena *oxn.TreeArena, maxDepth int, fields *[]template.Field) (tree *oxn.Tree, out []byte, notJSON, err error) {
	if t.t.HasShape() {
		if fields != nil && t.t.IsRecord() {
			var fs []template.Field
			fs, tree, err = t.t.ExecuteRecord(c, arena, maxDepth, *fields)
			if err == nil && tree == nil {
				*fields = fs
			}
		} else {
			tree, err = t.t.ExecuteTree(c, arena, maxDepth)
		}
		if err == nil {
			return tree, nil, nil, nil
		}
		if !errors.Is(err, oxn.ErrTooDeep) {
			return nil, nil, nil, t.errorf(err)
		}
		// Output nesting deeper than maxDepth is text that is not JSON
		// to the callers (<template out> keeps it as a string): run
		// the template again for that text. Only such output pays
		// for two runs.
	}
	out, err = r.runTemplate(t, c)
	if err != nil {
		return nil, nil, nil, err
	}
	tree, notJSON = parseTree(out, arena, maxDepth)
	if notJSON != nil {
		return nil, out, notJSON, nil
	}
	return tree, out, nil, nil
}

// renderObject renders t and splits the output into JSON object members
// (set-response-headers, log); what names the action in errors.
func (r *run) renderObject(t *tmpl, in input, what string, s *step) ([]member, error) {
	_, ms, err := r.renderMembers(t, in, what, s, false)
	return ms, err
}

// renderMembers is renderObject, and when record is set and t is a record
// (template.Template.IsRecord) whose values all turn out scalars, it
// returns the object's fields instead of members, without building a tree
// (set-response-headers). Exactly one of the two results is set when err
// is nil.
func (r *run) renderMembers(t *tmpl, in input, what string, s *step, record bool) ([]template.Field, []member, error) {
	o := r.slab.objects()
	var fields *[]template.Field
	if record {
		o.fields = o.fields[:0]
		fields = &o.fields
	}
	tree, _, notJSON, err := r.renderShaped(t, in, &o.trees, objectDepth, fields)
	if err != nil {
		return nil, nil, err
	}
	if tree == nil && notJSON == nil && record {
		return o.fields, nil, nil
	}
	ms, err := treeMembers(tree, notJSON, o.members)
	if err != nil {
		return nil, nil, fmt.Errorf("%s:%d: %s: %w", s.At.File, s.At.Line, what, err)
	}
	o.members = ms
	return nil, ms, nil
}

// treeCtx is exprCtx with a Tree node as the context.
func (r *run) treeCtx(tn expr.TreeNode) *expr.Context {
	c := r.exprCtx(nil)
	c.Tree = tn
	return c
}

// maxSizeHint bounds the output buffer runTemplate sizes in advance: a
// template whose output is sometimes large must not make every run
// allocate that much.
const maxSizeHint = 16 << 10

// runTemplate executes t into the run's scratch buffer, grown first to the
// size of a recent output of t (one allocation instead of a doubling per
// power of two), and returns the output without surrounding whitespace.
// The hint is rewritten only when an output is more than twice or less than
// half of it, so that runs of a template with steady output sizes only read
// it.
func (r *run) runTemplate(t *tmpl, c *expr.Context) ([]byte, error) {
	b := &r.scratch
	b.Reset()
	hint := int(t.size.Load())
	if hint > b.Cap() {
		b.Grow(hint)
	}
	if err := t.t.Execute(c, b); err != nil {
		return nil, t.errorf(err)
	}
	if n := min(b.Len(), maxSizeHint); n > 2*hint || 2*n < hint {
		t.size.Store(int32(n))
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

// evalAction is <eval out="$x">expression</eval>.
type evalAction struct {
	x   *expr.Expr
	out string
}

func compileEval(c *compiler, f *Flow, e *xmlsrc.Element) action {
	x := c.expr(f, strings.TrimSpace(e.Text), e.TextLine, e.TextCol)
	if x == nil {
		return nil
	}
	return &evalAction{x: x, out: c.outVar(f, e)}
}

func (a *evalAction) Run(r *run, s *step) (ctrl, error) {
	v, err := a.x.Eval(r.exprCtx(nil))
	if err != nil {
		return ctrlNext, fmt.Errorf("%s:%d: eval: %w", s.At.File, s.At.Line, err)
	}
	if a.out != "" {
		r.setVar(a.out, v)
	}
	return ctrlNext, nil
}
