package policies

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// This file holds the message operations AssignMessage, RaiseFault's
// FaultResponse and ServiceCallout's Request share: Add, Set, Copy,
// Remove and AssignVariable, compiled at load time into a list of
// functions that run in the order the elements appear in the XML
// (Apigee docs: AssignMessage: the X docs say the operations run in
// document order). The children each action accepts are apigeelint's
// PO034 lists (Apigee docs: AssignMessage).

// opEnv is what the operations of one policy execution work on.
type opEnv struct {
	r *engine.Run
	// vars is what templates and Ref read: the run, or an overlay that
	// makes the message being built "message" (RaiseFault).
	vars flowvar.Vars
	// dst is the message being built or changed.
	dst *engine.Message
	// src is the default source of <Copy> without source=: the message of
	// the running segment (request or response), as the AssignMessage
	// docs describe.
	src *engine.Message
	// strict is IgnoreUnresolvedVariables=false.
	strict bool
	// faults builds the policy's faults: the policy itself, so that
	// setting up an opEnv allocates no closures.
	faults opFaults
	// contentSet records that an operation wrote the payload (RaiseFault
	// keeps Apigee's fault body otherwise).
	contentSet bool
}

// opFaults builds a policy's faults for the operations' failures.
type opFaults interface {
	// unresolved is the fault for a variable that does not resolve.
	unresolved(name string) error
	// setFailed is the fault for a variable AssignVariable cannot write.
	setFailed(name string, err error) error
}

// policyFaults are AssignMessage's and RaiseFault's opFaults:
// steps.<prefix>.UnresolvedVariable and SetVariableFailed, whose
// faultstrings name the policy as "<typ>[<name>]".
type policyFaults struct{ prefix, typ, name string }

func (f *policyFaults) unresolved(v string) error {
	return engine.NewFault(f.prefix, "UnresolvedVariable", 500, "%s[%s]: unable to resolve variable %s", f.typ, f.name, v)
}

func (f *policyFaults) setFailed(v string, err error) error {
	nf := engine.NewFault(f.prefix, "SetVariableFailed", 500, "%s[%s]: unable to set variable %s", f.typ, f.name, v)
	nf.Err = err
	return nf
}

// opEnvs holds opEnvs between policy executions: an operation is a func
// value, so the opEnv it gets escapes, and a policy would otherwise
// allocate one per execution.
var opEnvs = sync.Pool{New: func() any { return new(opEnv) }}

// getOpEnv returns a cleared opEnv from the pool; putOpEnv gives it back
// once the operations returned.
func getOpEnv() *opEnv { return opEnvs.Get().(*opEnv) }

func putOpEnv(e *opEnv) {
	*e = opEnv{}
	opEnvs.Put(e)
}

// msgOp is one compiled operation.
type msgOp func(e *opEnv) error

// msgOps is a policy's operations in document order.
type msgOps []msgOp

// opElements are the operation elements, for c.Unknown lists.
var opElements = []string{"Add", "Set", "Copy", "Remove", "AssignVariable"}

// run applies the operations in order, stopping at the first error.
func (ops msgOps) run(e *opEnv) error {
	for _, op := range ops {
		if err := op(e); err != nil {
			return err
		}
	}
	return nil
}

// compileOps compiles the Add/Set/Copy/Remove/AssignVariable children of
// parent in document order; other children are left to the caller.
func compileOps(c *engine.Compiler, parent *bundle.Node) msgOps {
	var ops msgOps
	for _, n := range parent.Children {
		switch n.Name {
		case "Add":
			ops = append(ops, compileAdd(c, n)...)
		case "Set":
			ops = append(ops, compileSet(c, n)...)
		case "Copy":
			if op := compileCopy(c, n); op != nil {
				ops = append(ops, op)
			}
		case "Remove":
			ops = append(ops, compileRemove(c, n)...)
		case "AssignVariable":
			if op := compileAssignVariable(c, n); op != nil {
				ops = append(ops, op)
			}
		}
	}
	return ops
}

// render renders t against the run, charging its output to the budget.
// An unresolved variable is the policy's fault when e.strict.
func (e *opEnv) render(t *msgtemplate.Template) (string, error) {
	s, miss, err := t.String(e.vars)
	if err != nil {
		return "", fmt.Errorf("message template %q: %w", t.Source(), err)
	}
	if miss != "" && e.strict {
		return "", e.faults.unresolved(miss)
	}
	if err := e.r.Budget().Output(int64(len(s))); err != nil {
		return "", err
	}
	return s, nil
}

// namedTemplate is a <Header name="x">{template}</Header> and its kin.
type namedTemplate struct {
	name string
	t    *msgtemplate.Template
}

// compileNamed compiles the <child name="…">template</child> elements of
// a Headers/QueryParams/FormParams list.
// eachNamed is the operation that renders each named template and applies
// its value to the message being built.
func eachNamed(items []namedTemplate, apply func(m *engine.Message, name, value string)) msgOp {
	return func(e *opEnv) error {
		for _, it := range items {
			v, err := e.render(it.t)
			if err != nil {
				return err
			}
			apply(e.dst, it.name, v)
		}
		return nil
	}
}

func compileNamed(c *engine.Compiler, list *bundle.Node, child string) []namedTemplate {
	c.Unknown(list, child)
	var out []namedTemplate
	for _, n := range list.Children {
		if n.Name != child {
			continue
		}
		name, ok := n.Attr("name")
		if !ok || strings.TrimSpace(name) == "" {
			c.Errorf(n, diag.APMissingElement, "<%s> needs a name attribute", child)
			continue
		}
		if t := c.Template(n, n.Text); t != nil {
			out = append(out, namedTemplate{name: name, t: t})
		}
	}
	return out
}

// names returns the name attributes of list's <child> elements.
func names(c *engine.Compiler, list *bundle.Node, child string) []string {
	c.Unknown(list, child)
	var out []string
	for _, n := range list.Children {
		if n.Name != child {
			continue
		}
		name, ok := n.Attr("name")
		if !ok || strings.TrimSpace(name) == "" {
			c.Errorf(n, diag.APMissingElement, "<%s> needs a name attribute", child)
			continue
		}
		out = append(out, name)
	}
	return out
}

// --- Add ---

func compileAdd(c *engine.Compiler, n *bundle.Node) msgOps {
	c.Unknown(n, "Headers", "QueryParams", "FormParams")
	var ops msgOps
	for _, ch := range n.Children {
		switch ch.Name {
		case "Headers":
			ops = append(ops, eachNamed(compileNamed(c, ch, "Header"), (*engine.Message).AddHeader))
		case "QueryParams":
			ops = append(ops, eachNamed(compileNamed(c, ch, "QueryParam"), (*engine.Message).AddQueryParam))
		case "FormParams":
			ops = append(ops, eachNamed(compileNamed(c, ch, "FormParam"), (*engine.Message).AddFormParam))
		}
	}
	return ops
}

// --- Set ---

func compileSet(c *engine.Compiler, n *bundle.Node) msgOps {
	c.Unknown(n, "Headers", "QueryParams", "FormParams", "Payload", "Verb", "Path", "StatusCode", "ReasonPhrase", "Version")
	var ops msgOps
	for _, ch := range n.Children {
		switch ch.Name {
		case "Headers":
			ops = append(ops, eachNamed(compileNamed(c, ch, "Header"), (*engine.Message).SetHeader))
		case "QueryParams":
			ops = append(ops, eachNamed(compileNamed(c, ch, "QueryParam"), (*engine.Message).SetQueryParam))
		case "FormParams":
			ops = append(ops, eachNamed(compileNamed(c, ch, "FormParam"), (*engine.Message).SetFormParam))
		case "Payload":
			if op := compilePayload(c, ch); op != nil {
				ops = append(ops, op)
			}
		case "Verb", "Path", "StatusCode", "ReasonPhrase", "Version":
			c.Unknown(ch)
			if ch.Text == "" {
				// <Verb/>, <Path/>: nothing to set (the corpus's
				// aps-pagination writes them empty on a response).
				continue
			}
			t := c.Template(ch, ch.Text)
			if t == nil {
				continue
			}
			if ch.Name == "StatusCode" && t.IsLiteral() {
				if _, err := parseStatus(ch.Text); err != nil {
					c.Errorf(ch, diag.APBadPolicy, "<StatusCode>: %v", err)
					continue
				}
			}
			ops = append(ops, setField(ch.Name, t))
		}
	}
	return ops
}

// parseStatus reads an HTTP status code (100–599).
func parseStatus(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("%q is not an HTTP status code", s)
	}
	return n, nil
}

func setField(field string, t *msgtemplate.Template) msgOp {
	return func(e *opEnv) error {
		v, err := e.render(t)
		if err != nil {
			return err
		}
		switch field {
		case "Verb":
			e.dst.SetVerb(strings.ToUpper(strings.TrimSpace(v)))
		case "Path":
			e.dst.SetPath(v)
		case "StatusCode":
			code, err := parseStatus(v)
			if err != nil {
				return fmt.Errorf("<Set><StatusCode>: %w", err)
			}
			e.dst.SetStatus(code)
		case "ReasonPhrase":
			e.dst.Reason = v
		case "Version":
			e.dst.Version = v
		}
		return nil
	}
}

// compilePayload compiles <Payload contentType variablePrefix
// variableSuffix>. The content is the element's markup when it has child
// elements (an XML payload), else its text. JSON braces stay literal as
// msgtemplate documents ("{" followed by a quote or whitespace is text,
// apigeelint's rule).
func compilePayload(c *engine.Compiler, n *bundle.Node) msgOp {
	src := n.Text
	if len(n.Children) > 0 {
		src = strings.TrimSpace(n.Inner)
	}
	prefix, suffix := byte('{'), byte('}')
	vp, hasP := n.Attr("variablePrefix")
	vs, hasS := n.Attr("variableSuffix")
	if hasP || hasS {
		// One attribute alone keeps the other delimiter's default.
		if !hasP {
			vp = "{"
		}
		if !hasS {
			vs = "}"
		}
		if len(vp) != 1 || len(vs) != 1 {
			c.Errorf(n, diag.APBadPolicy, "<Payload> variablePrefix %q and variableSuffix %q must both be one character", vp, vs)
			return nil
		}
		prefix, suffix = vp[0], vs[0]
	}
	t := c.TemplateDelims(n, src, prefix, suffix)
	if t == nil {
		return nil
	}
	ct, _ := n.Attr("contentType")
	ct = strings.TrimSpace(ct)
	return func(e *opEnv) error {
		v, err := e.render(t)
		if err != nil {
			return err
		}
		if max := e.r.MaxBodyBytes(); max > 0 && int64(len(v)) > max {
			return fmt.Errorf("<Payload> of %d bytes exceeds the body limit of %d bytes", len(v), max)
		}
		e.dst.SetContent([]byte(v))
		if ct != "" {
			e.dst.SetHeader("Content-Type", ct)
		}
		e.contentSet = true
		return nil
	}
}

// --- Remove ---

func compileRemove(c *engine.Compiler, n *bundle.Node) msgOps {
	c.Unknown(n, "Headers", "QueryParams", "FormParams", "Payload")
	var ops msgOps
	for _, ch := range n.Children {
		switch ch.Name {
		case "Headers":
			for _, h := range ch.Children {
				if h.Name == "Header" && h.Text != "" {
					// Removing one value of a header is not implemented:
					// refuse rather than remove the whole header.
					c.Errorf(h, diag.APBadPolicy, "<Remove><Header> with a value (removing one value of a header) is not supported")
				}
			}
			hs := names(c, ch, "Header")
			if len(ch.Children) == 0 {
				ops = append(ops, func(e *opEnv) error { e.dst.RemoveAllHeaders(); return nil })
				continue
			}
			ops = append(ops, func(e *opEnv) error {
				for _, h := range hs {
					e.dst.RemoveHeader(h)
				}
				return nil
			})
		case "QueryParams":
			qs := names(c, ch, "QueryParam")
			all := len(ch.Children) == 0
			ops = append(ops, func(e *opEnv) error {
				if all {
					e.dst.SetQueryString("")
					return nil
				}
				for _, q := range qs {
					e.dst.RemoveQueryParam(q)
				}
				return nil
			})
		case "FormParams":
			fs := names(c, ch, "FormParam")
			all := len(ch.Children) == 0
			ops = append(ops, func(e *opEnv) error {
				ps := e.dst.FormParams()
				if ps == nil {
					return nil
				}
				var keep []engine.Param
				if !all {
				next:
					for _, p := range ps {
						for _, f := range fs {
							if p.Name == f {
								continue next
							}
						}
						keep = append(keep, p)
					}
				}
				e.dst.SetFormParams(keep)
				return nil
			})
		case "Payload":
			c.Unknown(ch)
			if !c.Bool(ch, ch.Text, false) {
				continue
			}
			ops = append(ops, func(e *opEnv) error {
				e.dst.SetContent(nil)
				e.contentSet = true
				return nil
			})
		}
	}
	return ops
}

// --- Copy ---

// copySpec is a compiled <Copy>.
type copySpec struct {
	source                  string
	allHeaders, allQuery    bool
	allForm                 bool
	headers, query, form    []string
	payload, path, verb     bool
	status, reason, version bool
}

func compileCopy(c *engine.Compiler, n *bundle.Node) msgOp {
	c.Unknown(n, "Headers", "QueryParams", "FormParams", "Payload", "Path", "Verb", "StatusCode", "ReasonPhrase", "Version")
	s := &copySpec{}
	s.source, _ = n.Attr("source")
	s.source = strings.TrimSpace(s.source)
	for _, ch := range n.Children {
		switch ch.Name {
		case "Headers":
			s.headers = names(c, ch, "Header")
			s.allHeaders = len(ch.Children) == 0
		case "QueryParams":
			s.query = names(c, ch, "QueryParam")
			s.allQuery = len(ch.Children) == 0
		case "FormParams":
			s.form = names(c, ch, "FormParam")
			s.allForm = len(ch.Children) == 0
		default:
			c.Unknown(ch)
			b := c.Bool(ch, ch.Text, false)
			switch ch.Name {
			case "Payload":
				s.payload = b
			case "Path":
				s.path = b
			case "Verb":
				s.verb = b
			case "StatusCode":
				s.status = b
			case "ReasonPhrase":
				s.reason = b
			case "Version":
				s.version = b
			}
		}
	}
	return s.apply
}

// sourceMessage resolves a source= message variable.
func sourceMessage(r *engine.Run, name string) (*engine.Message, bool) {
	if m, ok := r.Message(name); ok && m != nil {
		return m, true
	}
	if v, ok := r.Lookup(name); ok {
		if m, isMsg := v.(*engine.Message); isMsg && m != nil {
			return m, true
		}
	}
	return nil, false
}

func (s *copySpec) apply(e *opEnv) error {
	src := e.src
	if s.source != "" {
		m, ok := sourceMessage(e.r, s.source)
		if !ok {
			// The Apigee troubleshooting page for UnresolvedVariable names
			// exactly this case: a Copy source that is not available.
			if e.strict {
				return e.faults.unresolved(s.source)
			}
			return nil
		}
		src = m
	}
	dst := e.dst
	if src == nil || src == dst {
		return nil
	}
	if s.allHeaders {
		for _, name := range src.HeaderNames() {
			copyHeader(dst, src, name)
		}
	}
	for _, h := range s.headers {
		copyHeader(dst, src, h)
	}
	if s.allQuery || len(s.query) > 0 {
		for _, name := range paramNames(src.Query(), s.allQuery, s.query) {
			if vs := src.QueryValues(name); vs != nil {
				dst.RemoveQueryParam(name)
				for _, v := range vs {
					dst.AddQueryParam(name, v)
				}
			}
		}
	}
	if s.allForm || len(s.form) > 0 {
		sp := src.FormParams()
		if len(sp) > 0 {
			ps := append([]engine.Param(nil), dst.FormParams()...)
			for _, name := range paramNames(sp, s.allForm, s.form) {
				out := ps[:0]
				for _, p := range ps {
					if p.Name != name {
						out = append(out, p)
					}
				}
				ps = out
				for _, p := range sp {
					if p.Name == name {
						ps = append(ps, p)
					}
				}
			}
			dst.SetFormParams(ps)
		}
	}
	if s.payload {
		b, err := src.Content()
		if err != nil {
			return fmt.Errorf("<Copy><Payload>: %w", err)
		}
		dst.SetContent(append([]byte(nil), b...))
		if line, ok := src.HeaderLine("Content-Type"); ok {
			dst.SetHeader("Content-Type", line)
		}
		e.contentSet = true
	}
	if s.path && src.IsRequest {
		dst.SetPath(src.Path)
	}
	if s.verb && src.IsRequest {
		dst.SetVerb(src.Verb)
	}
	if s.status && !src.IsRequest {
		dst.SetStatus(src.Status)
	}
	if s.reason && !src.IsRequest {
		dst.Reason = src.Reason
	}
	if s.version {
		dst.Version = src.Version
	}
	return nil
}

// paramNames is every distinct name in ps (all) or the listed ones.
func paramNames(ps []engine.Param, all bool, listed []string) []string {
	if !all {
		return listed
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p.Name)
		}
	}
	return out
}

// copyHeader replaces dst's header name with every line src has of it; a
// header src lacks is left alone.
func copyHeader(dst, src *engine.Message, name string) {
	var lines []flowengine.Header
	for _, h := range src.Headers {
		if strings.EqualFold(h.Name, name) {
			lines = append(lines, h)
		}
	}
	if lines == nil {
		return
	}
	dst.RemoveHeader(name)
	for _, h := range lines {
		dst.AddHeader(h.Name, h.Value)
	}
}

// --- AssignVariable ---

// assignVar is a compiled <AssignVariable>.
type assignVar struct {
	name     string
	value    string
	hasValue bool
	ref      string
	tmpl     *msgtemplate.Template
	propSet  *msgtemplate.Template
}

func compileAssignVariable(c *engine.Compiler, n *bundle.Node) msgOp {
	c.Unknown(n, "Name", "Value", "Ref", "Template", "PropertySetRef", "ResourceURL")
	a := &assignVar{}
	ok := true
	for _, ch := range n.Children {
		c.Unknown(ch)
		switch ch.Name {
		case "Name":
			a.name = ch.Text
		case "Value":
			a.value, a.hasValue = ch.Text, true
		case "Ref":
			a.ref = ch.Text
		case "Template":
			if ref, has := ch.Attr("ref"); has {
				// <Template ref="var">: the template text comes from a
				// variable at run time; flowproc compiles templates only
				// at load time.
				c.Errorf(ch, diag.APBadPolicy, "<Template ref=%q>: a template read from a variable at run time is not supported", ref)
				ok = false
				continue
			}
			if a.tmpl = c.Template(ch, ch.Text); a.tmpl == nil {
				ok = false
			}
		case "PropertySetRef":
			if a.propSet = c.Template(ch, ch.Text); a.propSet == nil {
				ok = false
			}
		case "ResourceURL":
			c.Errorf(ch, diag.APBadPolicy, "<ResourceURL> (assigning a resource file to a variable) is not supported")
			ok = false
		}
	}
	if a.name == "" {
		c.Errorf(n, diag.APMissingElement, "<AssignVariable> needs a <Name>")
		ok = false
	}
	if !ok {
		return nil
	}
	return a.apply
}

// apply assigns the first of PropertySetRef, Ref and Template that
// resolves, else Value (Apigee docs: AssignMessage: Value is the fallback when
// Ref/Template resolve to null). When nothing resolves and there is no
// Value, the variable is left unchanged; a Template with unresolved
// variables and no Value faults under IgnoreUnresolvedVariables=false
// like every other template of the policy.
func (a *assignVar) apply(e *opEnv) error {
	if a.propSet != nil {
		key, _, err := a.propSet.String(e.vars)
		if err != nil {
			return fmt.Errorf("<PropertySetRef>: %w", err)
		}
		if v, ok := e.r.Lookup("propertyset." + key); ok && v != nil {
			return a.set(e, v)
		}
	}
	if a.ref != "" {
		if v, ok := e.vars.Lookup(a.ref); ok && v != nil {
			return a.set(e, v)
		}
	}
	if a.tmpl != nil {
		s, miss, err := a.tmpl.String(e.vars)
		if err != nil {
			return fmt.Errorf("<Template>: %w", err)
		}
		if miss == "" || !a.hasValue {
			if miss != "" && e.strict {
				return e.faults.unresolved(miss)
			}
			if err := e.r.Budget().Output(int64(len(s))); err != nil {
				return err
			}
			return a.set(e, s)
		}
	}
	if a.hasValue {
		return a.set(e, a.value)
	}
	return nil
}

func (a *assignVar) set(e *opEnv, v any) error {
	if err := e.r.Set(a.name, v); err != nil {
		return e.faults.setFailed(a.name, err)
	}
	return nil
}

// messageOverlay resolves "message" and "message.*" to m and everything
// else through the run.
type messageOverlay struct {
	r *engine.Run
	m *engine.Message
}

// Lookup implements flowvar.Vars.
func (o messageOverlay) Lookup(name string) (any, bool) {
	if name == "message" {
		return o.m, true
	}
	if rest, ok := strings.CutPrefix(name, "message."); ok {
		return o.r.MessageVar(o.m, rest)
	}
	return o.r.Lookup(name)
}
