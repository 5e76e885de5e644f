package flat

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"github.com/flowproc/flowproc/flowengine/template"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// compiler turns flow files into programs, collecting every diagnostic.
type compiler struct {
	p    *Project
	errs diag.List
	// calls records sub-flow edges for static cycle detection:
	// caller path → callee paths reached unconditionally.
	calls map[string][]subEdge
	// nested counts enclosing <if> blocks while compiling.
	nested int
	// test is set while compiling a <flat-test> file: the test actions
	// are allowed.
	test bool
}

type subEdge struct {
	callee      string
	conditional bool
	at          pos
}

// actionSpec describes an action: its attributes and how to compile it.
type actionSpec struct {
	attrs   []string // allowed attributes besides if/debug
	compile func(c *compiler, f *Flow, e *xmlsrc.Element) action
	// testOnly actions (assert, test-request, backend-flow, set-env) are
	// allowed only in <flat-test> files.
	testOnly bool
}

// actions is the registry of flow elements; each action's file registers
// itself in init.
var actions = map[string]*actionSpec{}

func registerAction(name string, s *actionSpec) { actions[name] = s }

// flow compiles the flow file at path (once) and returns it.
func (c *compiler) flow(path string, at apidef.Pos) *Flow {
	if f, ok := c.p.flows[path]; ok {
		return f
	}
	f := &Flow{File: c.p.rel(path), path: path, dir: filepath.Dir(path)}
	c.p.flows[path] = f // before compiling: recursion finds it
	src, err := c.p.readFile(path)
	if err != nil {
		c.errs.Addf(at.File, at.Line, at.Col, fileCode(err), "flow file %s: %v", c.p.rel(path), unwrapPathErr(err))
		return f
	}
	root, err := xmlsrc.Parse(path, src)
	if err != nil {
		var de *diag.Error
		if errors.As(err, &de) {
			c.errs.Add(de)
		} else {
			c.errs.Addf(path, 0, 0, diag.XMLSyntax, "%v", err)
		}
		return f
	}
	if root.Name != "flow" {
		c.errf(f, root.Line, root.Col, diag.BadRoot, "root element is <%s>, want <flow>", root.Name)
		return f
	}
	for _, a := range root.Attrs {
		c.errf(f, a.Line, a.Col, diag.UnknownAttribute, "<flow> takes no attribute %q", a.Name)
	}
	f.body = c.block(f, root.Children)
	return f
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (c *compiler) errf(f *Flow, line, col int, code diag.Code, format string, args ...any) {
	c.errs.Addf(f.path, line, col, code, format, args...)
}

// block compiles a sequence of elements, pairing if/elseif/else.
func (c *compiler) block(f *Flow, els []*xmlsrc.Element) []step {
	var out []step
	var lastIf *ifAction
	for _, e := range els {
		switch e.Name {
		case "elseif", "else":
			if lastIf == nil || lastIf.hasElse {
				c.errf(f, e.Line, e.Col, diag.MisplacedElse, "<%s> must directly follow <if> or <elseif>", e.Name)
				continue
			}
			c.elseBranch(f, lastIf, e)
			continue
		}
		lastIf = nil
		st, ok := c.step(f, e)
		if !ok {
			continue
		}
		if ia, isIf := st.Act.(*ifAction); isIf {
			lastIf = ia
		}
		out = append(out, st)
	}
	return out
}

// step compiles one element.
func (c *compiler) step(f *Flow, e *xmlsrc.Element) (step, bool) {
	st := step{Name: e.Name, Type: e.Name, At: runtime.Pos{File: f.File, Line: e.Line, Col: e.Col}}
	spec, ok := actions[e.Name]
	if !ok {
		c.errf(f, e.Line, e.Col, diag.UnknownAction, "unknown action <%s>%s", e.Name, suggest(e.Name))
		return st, false
	}
	if spec.testOnly && !c.test {
		c.errf(f, e.Line, e.Col, diag.UnknownAction, "<%s> is a test action: it is allowed only in <flat-test> files", e.Name)
		return st, false
	}
	allowed := map[string]bool{"if": true, "debug": true}
	if e.Name == "if" || e.Name == "break" || e.Name == "return" {
		allowed = map[string]bool{"debug": true}
	}
	if e.Name == "break" || e.Name == "return" {
		allowed["if"] = true
	}
	for _, a := range spec.attrs {
		allowed[a] = true
	}
	for _, a := range e.Attrs {
		if !allowed[a.Name] {
			c.errf(f, a.Line, a.Col, diag.UnknownAttribute, "<%s> has no attribute %q", e.Name, a.Name)
		}
	}
	if a, ok := e.Attr("debug"); ok && a.Value != "" {
		if c.p.debug.tags == nil {
			c.p.debug.tags = map[string][]string{}
		}
		for _, t := range strings.Split(a.Value, ",") {
			if t = strings.TrimSpace(t); t != "" {
				c.p.debug.tags[st.At.String()] = append(c.p.debug.tags[st.At.String()], t)
			}
		}
	}
	needsBody := stepReadsBody(e)
	var cond *flatCond
	if a, ok := e.Attr("if"); ok && e.Name != "if" {
		cond = &flatCond{e: c.expr(f, a.Value, a.Line, a.Col+len(a.Name)+2), src: a.Value}
		needsBody = needsBody || readsBody(a.Value)
		cond.needsBody = needsBody
		if cond.e != nil {
			st.Cond = cond
		}
	}
	st.Act = spec.compile(c, f, e)
	if st.Act == nil {
		return st, false
	}
	if needsBody {
		st.Act = bodyFirst{st.Act}
	}
	return st, true
}

var bodyRef = regexp.MustCompile(`\$body\b|\$request\s*/\s*post\b`)

// readsBody reports whether source text refers to the request body.
func readsBody(s string) bool { return bodyRef.MatchString(s) }

// stepReadsBody scans an element's own attributes and text (not nested
// steps, which fetch for themselves).
func stepReadsBody(e *xmlsrc.Element) bool {
	if e.Name == "if" {
		if a, ok := e.Attr("test"); ok {
			return readsBody(a.Value)
		}
		return false
	}
	for _, a := range e.Attrs {
		if readsBody(a.Value) {
			return true
		}
	}
	return readsBody(e.Text)
}

// expr compiles an XPath expression found at line:col of f.
func (c *compiler) expr(f *Flow, src string, line, col int) *expr.Expr {
	if strings.TrimSpace(src) == "" {
		c.errf(f, line, col, diag.XPathSyntax, "empty expression")
		return nil
	}
	x, err := expr.Compile(src)
	if err != nil {
		c.posErr(f, err, line, col, diag.XPathSyntax, "expression %q", src)
		return nil
	}
	c.noteCalls(x)
	return x
}

// noteCalls records what the project's runs must know of a compiled
// expression or template: whether it calls get-log(), which reads the
// fields of <log> actions (logAction.quiet).
func (c *compiler) noteCalls(x interface{ Calls(name string) bool }) {
	c.p.getLog = c.p.getLog || x.Calls("get-log")
}

// posErr translates an error positioned inside a string that starts at
// line:col of f into a file diagnostic.
func (c *compiler) posErr(f *Flow, err error, line, col int, code diag.Code, what string, args ...any) {
	var pe *diag.PosError
	if errors.As(err, &pe) {
		l, cl := line, col
		if pe.Line > 1 {
			l = line + pe.Line - 1
			cl = pe.Col
		} else if pe.Col > 0 {
			cl = col + pe.Col - 1
		}
		if pe.Code != "" {
			code = pe.Code
		}
		c.errs.Addf(f.path, l, cl, code, "%s: %s", sprintf(what, args...), pe.Msg)
		return
	}
	c.errs.Addf(f.path, line, col, code, "%s: %v", sprintf(what, args...), err)
}

// template compiles a template from an element's body or src= file.
func (c *compiler) template(f *Flow, e *xmlsrc.Element, required bool) *tmpl {
	if a, ok := e.Attr("src"); ok {
		path := filepath.Join(f.dir, a.Value)
		src, err := c.p.readFile(path)
		if err != nil {
			c.errf(f, a.Line, a.Col, fileCode(err), "template file %s: %v", a.Value, unwrapPathErr(err))
			return nil
		}
		if strings.TrimSpace(e.Text) != "" {
			c.errf(f, e.Line, e.Col, diag.BadContent, "<%s> has both src= and a body", e.Name)
		}
		t, err := template.Parse(string(src))
		if err != nil {
			c.errs.Add(templateDiag(path, err, 1, 1))
			return nil
		}
		c.noteCalls(t)
		return &tmpl{t: t, pos: pos{file: c.p.rel(path), line: 1, col: 1}}
	}
	if strings.TrimSpace(e.Text) == "" {
		if required {
			c.errf(f, e.Line, e.Col, diag.BadContent, "<%s> needs a JSON template body or src=", e.Name)
		}
		return nil
	}
	t, err := template.Parse(e.Text)
	if err != nil {
		c.errs.Add(templateDiag(f.path, err, e.TextLine, e.TextCol))
		return nil
	}
	c.noteCalls(t)
	return &tmpl{t: t, pos: pos{file: f.File, line: e.TextLine, col: e.TextCol}}
}

// templateDiag positions a template error within its file. The template
// text starts at line:col; pe.Line/Col are relative to the template.
func templateDiag(file string, err error, line, col int) *diag.Error {
	var pe *diag.PosError
	if errors.As(err, &pe) {
		l, cl := line, pe.Col
		if pe.Line > 0 {
			l = line + pe.Line - 1
		}
		if pe.Line <= 1 {
			cl = col + pe.Col - 1
		}
		code := pe.Code
		if code == "" {
			code = diag.TemplateSyntax
		}
		return diag.Errorf(file, l, cl, code, "template: %s", pe.Msg)
	}
	return diag.Errorf(file, line, col, diag.TemplateSyntax, "template: %v", err)
}

// value compiles an attribute that may be a dynamic {expression}.
func (c *compiler) value(f *Flow, a xmlsrc.Attr) value {
	v := a.Value
	if len(v) >= 2 && v[0] == '{' && v[len(v)-1] == '}' {
		return value{dyn: c.expr(f, v[1:len(v)-1], a.Line, a.Col+len(a.Name)+3)}
	}
	return value{lit: v}
}

// requireAttr returns a required attribute or records an error.
func (c *compiler) requireAttr(f *Flow, e *xmlsrc.Element, name string) (xmlsrc.Attr, bool) {
	a, ok := e.Attr(name)
	if !ok {
		c.errf(f, e.Line, e.Col, diag.MissingAttribute, "<%s> needs attribute %q", e.Name, name)
	}
	return a, ok
}

var varName = regexp.MustCompile(`^\$[A-Za-z_][A-Za-z0-9_-]*$`)

// outVar parses out="$name"; it returns "" for no out attribute.
func (c *compiler) outVar(f *Flow, e *xmlsrc.Element) string {
	a, ok := e.Attr("out")
	if !ok {
		return ""
	}
	if a.Value == "fit://request/content" {
		return ""
	}
	if !varName.MatchString(a.Value) {
		c.errf(f, a.Line, a.Col, diag.BadVariable, "out=%q: want a variable like $name or fit://request/content", a.Value)
		return ""
	}
	return a.Value[1:]
}

// checkCycles reports sub-flow cycles in which every call is unconditional:
// they would recurse until the depth limit on every request.
func (c *compiler) checkCycles() {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var visit func(n string, stack []subEdge)
	visit = func(n string, stack []subEdge) {
		color[n] = grey
		for _, e := range c.calls[n] {
			if e.conditional {
				continue
			}
			switch color[e.callee] {
			case white:
				visit(e.callee, append(stack, e))
			case grey:
				chain := []string{}
				for _, s := range append(stack, e) {
					chain = append(chain, s.callee)
				}
				c.errs.Addf(c.p.flows[n].path, e.at.line, e.at.col, diag.SubFlowCycle,
					"sub-flow cycle with no condition: %s -> %s (would recurse on every request)",
					c.p.flows[n].File, strings.Join(relAll(c.p, chain), " -> "))
			}
		}
		color[n] = black
	}
	for n := range c.calls {
		if color[n] == white {
			visit(n, nil)
		}
	}
}

func relAll(p *Project, paths []string) []string {
	out := make([]string, len(paths))
	for i, s := range paths {
		out[i] = p.rel(s)
	}
	return out
}

// suggest offers the closest known action name.
func suggest(name string) string {
	best, bestD := "", 3
	for k := range actions {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean <" + best + ">?)"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
