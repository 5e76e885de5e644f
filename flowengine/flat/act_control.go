package flat

import (
	"fmt"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"path/filepath"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// ifAction is <if test>…</if> with its <elseif>/<else> siblings.
type ifAction struct {
	branches []ifBranch
	elseBody []step
	hasElse  bool
}

type ifBranch struct {
	test *expr.Expr
	src  string // the test as written (for traces)
	body []step
	// needsBody: the test reads the request body.
	needsBody bool
}

func init() {
	registerAction("if", &actionSpec{attrs: []string{"test"}, compile: compileIf})
	registerAction("elseif", &actionSpec{attrs: []string{"test"}}) // paired by block()
	registerAction("else", &actionSpec{})                          // paired by block()
	registerAction("break", &actionSpec{compile: func(*compiler, *Flow, *xmlsrc.Element) action { return breakAction{} }})
	registerAction("return", &actionSpec{compile: func(*compiler, *Flow, *xmlsrc.Element) action { return returnAction{} }})
	registerAction("sub-flow", &actionSpec{attrs: []string{"src"}, compile: compileSubFlow})
}

func compileIf(c *compiler, f *Flow, e *xmlsrc.Element) action {
	ia := &ifAction{}
	a, ok := c.requireAttr(f, e, "test")
	var t *expr.Expr
	if ok {
		t = c.expr(f, a.Value, a.Line, a.Col+len(a.Name)+2)
	}
	c.nested++
	body := c.block(f, e.Children)
	c.nested--
	ia.branches = append(ia.branches, ifBranch{test: t, src: a.Value, body: body, needsBody: ok && readsBody(a.Value)})
	return ia
}

func (c *compiler) elseBranch(f *Flow, ia *ifAction, e *xmlsrc.Element) {
	for _, a := range e.Attrs {
		if (e.Name == "elseif" && a.Name == "test") || a.Name == "debug" {
			continue
		}
		c.errf(f, a.Line, a.Col, diag.UnknownAttribute, "<%s> has no attribute %q", e.Name, a.Name)
	}
	if e.Name == "else" {
		ia.hasElse = true
		c.nested++
		ia.elseBody = c.block(f, e.Children)
		c.nested--
		return
	}
	a, ok := c.requireAttr(f, e, "test")
	var t *expr.Expr
	if ok {
		t = c.expr(f, a.Value, a.Line, a.Col+len(a.Name)+2)
	}
	c.nested++
	body := c.block(f, e.Children)
	c.nested--
	ia.branches = append(ia.branches, ifBranch{test: t, src: a.Value, body: body, needsBody: ok && readsBody(a.Value)})
}

func (a *ifAction) Run(r *run, _ *step) (ctrl, error) {
	for _, b := range a.branches {
		if b.needsBody {
			if err := r.ensureBody(); err != nil {
				return ctrlNext, err
			}
		}
		ok, err := b.test.EvalBool(r.exprCtx(nil))
		if err != nil {
			return ctrlNext, err
		}
		r.x.TraceCond(b.src, ok)
		if ok {
			return r.steps(b.body)
		}
	}
	if a.hasElse {
		r.x.TraceCond("else", true)
		return r.steps(a.elseBody)
	}
	return ctrlNext, nil
}

type breakAction struct{}

func (breakAction) Run(*run, *step) (ctrl, error) { return ctrlBreak, nil }

type returnAction struct{}

func (returnAction) Run(*run, *step) (ctrl, error) { return ctrlReturn, nil }

// subFlowAction is <sub-flow src="file.xml"/>.
type subFlowAction struct {
	flow *Flow
}

func compileSubFlow(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a, ok := c.requireAttr(f, e, "src")
	if !ok {
		return nil
	}
	path := filepath.Clean(filepath.Join(f.dir, a.Value))
	callee := c.flow(path, apidef.Pos{File: f.path, Line: a.Line, Col: a.Col})
	if c.calls == nil {
		c.calls = map[string][]subEdge{}
	}
	_, conditional := e.Attr("if")
	c.calls[f.path] = append(c.calls[f.path], subEdge{callee: path, conditional: conditional || c.nested > 0, at: pos{line: e.Line, col: e.Col}})
	return &subFlowAction{flow: callee}
}

func (a *subFlowAction) Run(r *run, s *step) (ctrl, error) {
	if r.depth >= maxSubFlowDepth {
		return ctrlNext, fmt.Errorf("%s:%d: sub-flow %s: recursion deeper than %d levels", s.At.File, s.At.Line, a.flow.File, maxSubFlowDepth)
	}
	r.depth++
	c, err := r.flow(a.flow)
	r.depth--
	if c == ctrlReturn {
		c = ctrlNext
	}
	return c, err
}

// flow runs a whole flow file; expressions inside resolve files relative
// to it.
func (r *run) flow(f *Flow) (ctrl, error) {
	savedDir, savedFile := r.dir, r.flowFile
	r.dir, r.flowFile = f.dir, f.File
	c, err := r.steps(f.body)
	r.dir, r.flowFile = savedDir, savedFile
	return c, err
}

// steps runs a block through the shared step loop.
func (r *run) steps(body []step) (ctrl, error) {
	return runtime.Run(r, r.flowFile, body)
}
