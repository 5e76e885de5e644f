package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
	"github.com/flowproc/flowproc/flowengine/apigee/jsonpath"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/apigee/xmltree"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/expr"
)

// ExtractVariables (Apigee docs: ExtractVariables) sets flow variables from
// parts of a message: URIPath, QueryParam, Header, FormParam, Variable
// (each with one or more <Pattern>s tried in order, see evPattern),
// JSONPayload (JSONPath) and XMLPayload (XPath); patterns run in document
// order, so a later extraction overwrites an earlier one. Variables are named
// "<VariablePrefix>.<name>", or "<name>" without a prefix.
//
// What flowproc relies on (Apigee's policy reference and its runtime-error
// page, docs.apigee.com/api-platform/troubleshoot/policies/runtime/
// extract-variables-runtime-errors; fault strings are quoted from there):
//   - Source (default "message") is a message, or a string variable whose
//     text is parsed as the JSON or XML payload. A message not in scope is
//     SourceMessageNotAvailable, "<source> message is not available for
//     ExtractVariable: <policy>"; another unresolvable Source with a
//     JSONPayload is JsonPathParsingFailure, "ExtractVariables <policy>:
//     Json path parsing failed for for flow variables <source>" (sic).
//     clearPayload="true" empties the source message's content afterwards.
//   - URIPath matches proxy.pathsuffix (the path without the base path) for
//     the proxy request; another request message matches its own path; on
//     a response it does nothing. QueryParam on a response does nothing.
//     A parameter or header name "x.N" selects the N-th value of x.
//   - JSONPayload runs only when the message's Content-Type is
//     application/json (flowproc: also application/*+json), XMLPayload
//     only for application/xml, text/xml and application/*+xml. An empty
//     or malformed payload is ExecutionFailed, "Failed to execute the
//     ExtractVariables: <policy>". All faults have status 500.
//   - A definite JSONPath that matches nothing is InvalidJSONPath, "Invalid
//     JSON path <path> in policy <policy>.", unless
//     IgnoreUnresolvedVariables is true (then the variable stays unset);
//     an indefinite path (wildcards, deep scan) gives a JSON array, "[]"
//     when nothing matches. A JSON null leaves the variable unset.
//   - Patterns and XPaths that match nothing leave their variables unset
//     (no documented fault).
//   - type= casts the value (string, boolean, integer, long, float,
//     double; nodeset in XMLPayload keeps the matched nodes as XML text,
//     in JSONPayload the JSON text); a value that does not cast is
//     UnableToCast, "Unable to cast value <v> as <TYPE>.". A variable that
//     cannot be written (read-only) is SetVariableFailed, "Failed to set
//     variable <name> value <v> from ExtractVariables: <policy>".
//   - stopPayloadProcessing="true" on XMLPayload stops after the first
//     variable it sets.
//   - A JSONPath may be a message template ("$.{field}"), resolved and
//     parsed per request (one that does not parse is InvalidJSONPath);
//     literal JSONPaths and XPaths are compiled at load, and one that does
//     not compile is a load error (AP401), as are Apigee's deployment
//     errors: nothing to extract, a pattern without a {variable}, a
//     <Variable> without its path, a duplicate or empty namespace, an
//     XPath prefix not declared in <Namespaces>. An empty <JSONPayload/>
//     or <XMLPayload/> is accepted and extracts nothing (real bundles have
//     them).
//   - A Header name "x.values" gives all values of x as "[v1, v2]".
func init() {
	engine.Register(engine.Kind{Type: "ExtractVariables", Prefix: "extractvariables", New: newExtractVariables, Recyclable: true})
}

const evPrefix = "extractvariables"

type evKind int

const (
	evURIPath evKind = iota
	evQueryParam
	evHeader
	evFormParam
	evVariable
)

// evPatternSource is a URIPath, QueryParam, Header, FormParam or Variable
// element: where the value comes from and the patterns to try.
type evPatternSource struct {
	kind     evKind
	name     string
	patterns []*evPattern
}

type evPayloadVar struct {
	name, typ string
	path      string                // the JSONPath as written
	pathTmpl  *msgtemplate.Template // a JSONPath with {variables}
	json      *jsonpath.Path
	xpool     *sync.Pool
}

type extractVariables struct {
	name       string
	source     string
	clear      bool
	prefix     string
	ignore     bool
	sources    []evPatternSource
	jsonVars   []evPayloadVar
	xmlVars    []evPayloadVar
	xmlStop    bool
	hasJSON    bool
	hasXML     bool
	namespaces map[string]string
}

var evTypes = map[string]bool{"string": true, "boolean": true, "integer": true, "long": true, "float": true, "double": true, "nodeset": true}

func newExtractVariables(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	ev := &extractVariables{name: p.Name, source: "message"}
	root := p.Root
	c.Unknown(root, allowed("Source", "VariablePrefix", "URIPath", "QueryParam", "Header", "FormParam", "Variable", "JSONPayload", "XMLPayload", "IgnoreUnresolvedVariables")...)
	for _, n := range root.Children {
		switch n.Name {
		case "Source":
			if s := strings.TrimSpace(n.Text); s != "" {
				ev.source = s
			}
			v, _ := n.Attr("clearPayload")
			ev.clear = c.Bool(n, v, false)
		case "VariablePrefix":
			ev.prefix = strings.TrimSpace(n.Text)
		case "IgnoreUnresolvedVariables":
			ev.ignore = c.Bool(n, n.Text, false)
		case "URIPath", "QueryParam", "Header", "FormParam", "Variable":
			ev.compilePatternSource(c, n)
		case "JSONPayload":
			ev.hasJSON = ev.hasJSON || len(n.Children) > 0
			c.Unknown(n, "Variable")
			for _, v := range n.Children {
				if pv, ok := compilePayloadVar(c, v, "JSONPath"); ok {
					path := strings.TrimSpace(v.Child("JSONPath").Text)
					pv.path = path
					if strings.Contains(path, "{") {
						// A message template, resolved per request.
						if pv.pathTmpl = c.Template(v.Child("JSONPath"), path); pv.pathTmpl == nil {
							continue
						}
					} else {
						jp, err := jsonpath.Parse(path)
						if err != nil {
							c.Errorf(v, diag.APBadPolicy, "ExtractVariables %s: %v", p.Name, err)
							continue
						}
						pv.json = jp
					}
					ev.jsonVars = append(ev.jsonVars, pv)
				}
			}
		case "XMLPayload":
			ev.hasXML = ev.hasXML || n.Child("Variable") != nil
			s, _ := n.Attr("stopPayloadProcessing")
			ev.xmlStop = c.Bool(n, s, false)
			c.Unknown(n, "Namespaces", "Variable")
			// A non-nil map makes undeclared prefixes fail to compile
			// (Apigee: XPathCompilationFailed).
			ev.namespaces = map[string]string{}
			if ns := n.Child("Namespaces"); ns != nil {
				c.Unknown(ns, "Namespace")
				for _, x := range ns.Children {
					prefix, ok := x.Attr("prefix")
					uri := strings.TrimSpace(x.Text)
					switch _, dup := ev.namespaces[prefix]; {
					case !ok || prefix == "":
						c.Errorf(x, diag.APMissingElement, "<Namespace> needs a prefix attribute")
					case uri == "":
						c.Errorf(x, diag.APBadPolicy, "<Namespace prefix=%q> has no URI", prefix)
					case dup:
						c.Errorf(x, diag.APBadPolicy, "namespace prefix %q is declared twice", prefix)
					default:
						ev.namespaces[prefix] = uri
					}
				}
			}
			for _, v := range n.Children {
				if v.Name != "Variable" {
					continue
				}
				if pv, ok := compilePayloadVar(c, v, "XPath"); ok {
					src := strings.TrimSpace(v.Child("XPath").Text)
					x, err := xpath.CompileWithNS(src, ev.namespaces)
					if err != nil {
						c.Errorf(v.Child("XPath"), diag.APBadPolicy, "XPath %q does not compile: %v", src, err)
						continue
					}
					ns := ev.namespaces
					pv.xpool = &sync.Pool{New: func() any {
						x, _ := xpath.CompileWithNS(src, ns) // compiled once above
						return x
					}}
					pv.xpool.Put(x)
					ev.xmlVars = append(ev.xmlVars, pv)
				}
			}
		}
	}
	if len(ev.sources) == 0 && !ev.hasJSON && !ev.hasXML {
		c.Errorf(root, diag.APMissingElement, "ExtractVariables %s has nothing to extract (want URIPath, QueryParam, Header, FormParam, Variable, JSONPayload or XMLPayload)", p.Name)
	}
	return ev
}

func (ev *extractVariables) compilePatternSource(c *engine.Compiler, n *bundle.Node) {
	src := evPatternSource{kind: map[string]evKind{"URIPath": evURIPath, "QueryParam": evQueryParam, "Header": evHeader, "FormParam": evFormParam, "Variable": evVariable}[n.Name]}
	if src.kind != evURIPath {
		name, ok := n.Attr("name")
		if !ok || strings.TrimSpace(name) == "" {
			c.Errorf(n, diag.APMissingElement, "<%s> needs a name attribute", n.Name)
			return
		}
		src.name = strings.TrimSpace(name)
	}
	c.Unknown(n, "Pattern")
	for _, pn := range n.Children {
		if pn.Name != "Pattern" {
			continue
		}
		ic, _ := pn.Attr("ignoreCase")
		text := pn.Text
		if src.kind == evURIPath {
			text = strings.TrimSpace(text)
		}
		pat, err := compileEVPattern(text, c.Bool(pn, ic, false), src.kind == evURIPath)
		if err == nil && len(pat.vars) == 0 {
			err = errors.New("it has no {variable} to set")
		}
		if err != nil {
			c.Errorf(pn, diag.APBadPolicy, "<%s> pattern %q: %v", n.Name, text, err)
			continue
		}
		src.patterns = append(src.patterns, pat)
	}
	if len(src.patterns) == 0 {
		c.Errorf(n, diag.APMissingElement, "<%s> needs at least one <Pattern>", n.Name)
		return
	}
	ev.sources = append(ev.sources, src)
}

func compilePayloadVar(c *engine.Compiler, v *bundle.Node, pathElem string) (evPayloadVar, bool) {
	name, ok := v.Attr("name")
	if !ok || strings.TrimSpace(name) == "" {
		c.Errorf(v, diag.APMissingElement, "<Variable> needs a name attribute")
		return evPayloadVar{}, false
	}
	typ, _ := v.Attr("type")
	if typ = strings.TrimSpace(typ); typ == "" {
		typ = "string"
	}
	if !evTypes[typ] {
		c.Errorf(v, diag.APBadPolicy, "<Variable name=%q>: type %q is not one of string, boolean, integer, long, float, double, nodeset", name, typ)
		return evPayloadVar{}, false
	}
	c.Unknown(v, pathElem)
	if p := v.Child(pathElem); p == nil || strings.TrimSpace(p.Text) == "" {
		c.Errorf(v, diag.APMissingElement, "<Variable name=%q> needs a <%s>", name, pathElem)
		return evPayloadVar{}, false
	}
	return evPayloadVar{name: strings.TrimSpace(name), typ: typ}, true
}

func (ev *extractVariables) varName(name string) string {
	if ev.prefix == "" {
		return name
	}
	return ev.prefix + "." + name
}

func (ev *extractVariables) set(r *engine.Run, name string, v any) error {
	full := ev.varName(name)
	if err := r.Set(full, v); err != nil {
		s, _ := flowvar.String(v)
		f := engine.NewFault(evPrefix, "SetVariableFailed", 500, "Failed to set variable %s value %s from ExtractVariables: %s", full, s, ev.name)
		f.Err = err
		return f
	}
	return nil
}

func (ev *extractVariables) failed() *engine.Fault {
	return engine.NewFault(evPrefix, "ExecutionFailed", 500, "Failed to execute the ExtractVariables: %s", ev.name)
}

// Execute implements engine.Policy.
func (ev *extractVariables) Execute(r *engine.Run) error {
	m, ok := r.Message(ev.source)
	if !ok || m == nil {
		return ev.fromVariable(r)
	}
	for i := range ev.sources {
		if err := ev.runPatterns(r, m, &ev.sources[i]); err != nil {
			return err
		}
	}
	ct, _ := m.Header("content-type")
	if ev.hasJSON && contentTypeIs(ct, "json") {
		if err := ev.extractJSON(r, m); err != nil {
			return err
		}
	}
	if ev.hasXML && contentTypeIs(ct, "xml") {
		if err := ev.extractXML(r, m); err != nil {
			return err
		}
	}
	if ev.clear {
		m.SetContent(nil)
	}
	return nil
}

// fromVariable runs the policy on a Source that is not a message: a
// string variable is parsed as the JSON or XML payload (no Content-Type
// to check); patterns on message parts extract nothing.
func (ev *extractVariables) fromVariable(r *engine.Run) error {
	v, ok := r.Lookup(ev.source)
	s, isString := v.(string)
	if !ok || v == nil || !isString {
		switch {
		case isMessageName(ev.source):
			return engine.NewFault(evPrefix, "SourceMessageNotAvailable", 500, "%s message is not available for ExtractVariable: %s", ev.source, ev.name)
		case ev.hasJSON:
			return engine.NewFault(evPrefix, "JsonPathParsingFailure", 500, "ExtractVariables %s: Json path parsing failed for for flow variables %s", ev.name, ev.source)
		}
		return engine.NewFault(evPrefix, "SourceMessageNotAvailable", 500, "%s message is not available for ExtractVariable: %s", ev.source, ev.name)
	}
	for i := range ev.sources {
		if ev.sources[i].kind == evVariable {
			if err := ev.runPatterns(r, nil, &ev.sources[i]); err != nil {
				return err
			}
		}
	}
	if ev.hasJSON {
		if err := ev.jsonFrom(r, []byte(s)); err != nil {
			return err
		}
	}
	if ev.hasXML {
		if err := ev.xmlFrom(r, []byte(s)); err != nil {
			return err
		}
	}
	return nil
}

func isMessageName(name string) bool {
	switch name {
	case "request", "response", "message", "error":
		return true
	}
	return false
}

func (ev *extractVariables) isProxyRequest(r *engine.Run, m *engine.Message) bool {
	req, _ := r.Message("request")
	return m == req
}

// nth splits "x.N" into x and N (1-based) when N is a positive number.
func nth(name string) (string, int) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name, 0
	}
	if n, err := strconv.Atoi(name[i+1:]); err == nil && n > 0 {
		return name[:i], n
	}
	return name, 0
}

// pick returns the value of a parameter or header: vals[0] when the name
// exists, else the N-th value of x for a name "x.N".
func pick(vals []string, name string, lookup func(string) []string) (string, bool) {
	if len(vals) > 0 {
		return vals[0], true
	}
	if base, n := nth(name); n > 0 {
		if vs := lookup(base); n <= len(vs) {
			return vs[n-1], true
		}
	}
	return "", false
}

func formValues(m *engine.Message) func(string) []string {
	return func(name string) []string {
		var out []string
		for _, p := range m.FormParams() {
			if p.Name == name {
				out = append(out, p.Value)
			}
		}
		return out
	}
}

// runPatterns applies one pattern source; m is nil for a string Source,
// where only <Variable> sources apply.
func (ev *extractVariables) runPatterns(r *engine.Run, m *engine.Message, s *evPatternSource) error {
	if m == nil && s.kind != evVariable {
		return nil
	}
	var value string
	var ok bool
	switch s.kind {
	case evURIPath:
		if !m.IsRequest {
			return nil
		}
		if ev.isProxyRequest(r, m) {
			value, _ = r.Get("proxy.pathsuffix")
			ok = true
		} else {
			value, ok = m.Path, true
		}
	case evQueryParam:
		if !m.IsRequest {
			return nil
		}
		value, ok = pick(m.QueryValues(s.name), s.name, m.QueryValues)
	case evHeader:
		value, ok = m.Header(s.name)
		if base, isValues := strings.CutSuffix(s.name, ".values"); !ok && isValues {
			if vs := m.HeaderValues(base); len(vs) > 0 {
				value, ok = "["+strings.Join(vs, ", ")+"]", true
			}
		}
		if !ok {
			value, ok = pick(nil, s.name, m.HeaderValues)
		}
	case evFormParam:
		values := formValues(m)
		value, ok = pick(values(s.name), s.name, values)
	case evVariable:
		value, ok = r.Get(s.name)
	}
	if !ok {
		return nil
	}
	// All patterns are tried; the match with the most path segments wins,
	// the first of equals (Apigee's "Specifying multiple patterns").
	var best *evPattern
	var bestVals []string
	for _, p := range s.patterns {
		vals, matched, err := p.match(value)
		if err != nil {
			f := ev.failed()
			f.Err = err
			return f
		}
		if matched && (best == nil || p.segments > best.segments) {
			best, bestVals = p, vals
		}
	}
	if best == nil {
		return nil
	}
	for i, name := range best.vars {
		if err := ev.set(r, name, bestVals[i]); err != nil {
			return err
		}
	}
	return nil
}

func (ev *extractVariables) payload(r *engine.Run, m *engine.Message) ([]byte, error) {
	b, err := m.Content()
	if err != nil {
		return nil, fmt.Errorf("ExtractVariables %s: reading the payload: %w", ev.name, err)
	}
	if err := r.Budget().Decoded(int64(len(b))); err != nil {
		return nil, err
	}
	return b, nil
}

func (ev *extractVariables) extractJSON(r *engine.Run, m *engine.Message) error {
	doc, err := ev.payload(r, m)
	if err != nil {
		return err
	}
	return ev.jsonFrom(r, doc)
}

func (ev *extractVariables) jsonFrom(r *engine.Run, doc []byte) error {
	if len(bytes.TrimSpace(doc)) == 0 || !json.Valid(doc) {
		return ev.failed()
	}
	for _, v := range ev.jsonVars {
		jp, path := v.json, v.path
		if jp == nil {
			var err error
			if path, _, err = v.pathTmpl.String(r); err == nil {
				jp, err = jsonpath.Parse(path)
			}
			if err != nil {
				f := engine.NewFault(evPrefix, "InvalidJSONPath", 500, "Invalid JSON path %s in policy %s.", path, ev.name)
				f.Err = err
				return f
			}
		}
		res := jp.Eval(doc)
		var s string
		if jp.Definite() {
			if len(res) == 0 {
				if ev.ignore {
					continue
				}
				return engine.NewFault(evPrefix, "InvalidJSONPath", 500, "Invalid JSON path %s in policy %s.", path, ev.name)
			}
			if string(bytes.TrimSpace(res[0])) == "null" {
				continue
			}
			s = jsonpath.Scalar(res[0])
		} else {
			s = jp.Render(doc, false)
		}
		val, err := ev.cast(s, v.typ)
		if err != nil {
			return err
		}
		if err := ev.set(r, v.name, val); err != nil {
			return err
		}
	}
	return nil
}

func (ev *extractVariables) extractXML(r *engine.Run, m *engine.Message) error {
	b, err := ev.payload(r, m)
	if err != nil {
		return err
	}
	return ev.xmlFrom(r, b)
}

func (ev *extractVariables) xmlFrom(r *engine.Run, b []byte) error {
	doc, perr := xmltree.Parse(b, 0)
	if perr != nil {
		f := ev.failed()
		f.Err = perr
		return f
	}
	for _, v := range ev.xmlVars {
		s, found := evalXPath(v, doc)
		if !found {
			continue
		}
		val, err := ev.cast(s, v.typ)
		if err != nil {
			return err
		}
		if err := ev.set(r, v.name, val); err != nil {
			return err
		}
		if ev.xmlStop {
			return nil
		}
	}
	return nil
}

// evalXPath evaluates v's XPath on doc: a node-set gives its first node's
// string value (all nodes as XML for type nodeset), other results their
// XPath string form. found is false for an empty node-set.
func evalXPath(v evPayloadVar, doc *xmltree.Node) (string, bool) {
	x, _ := v.xpool.Get().(*xpath.Expr)
	if x == nil {
		return "", false // cannot happen: the expression compiled at load
	}
	defer v.xpool.Put(x)
	switch res := x.Evaluate(xmltree.NewNavigator(doc)).(type) {
	case *xpath.NodeIterator:
		if v.typ != "nodeset" {
			if res.MoveNext() {
				return res.Current().Value(), true
			}
			return "", false
		}
		var b bytes.Buffer
		found := false
		for res.MoveNext() {
			found = true
			nav, _ := res.Current().(*xmltree.Navigator)
			if nav == nil || nav.AttrIndex() >= 0 {
				b.WriteString(res.Current().Value())
				continue
			}
			nav.Current().WriteXML(&b)
		}
		return b.String(), found
	case string:
		return res, true
	case bool:
		return strconv.FormatBool(res), true
	case float64:
		return expr.FormatNumber(res), true
	}
	return "", false
}

func (ev *extractVariables) cast(s, typ string) (any, error) {
	bad := func() error {
		return engine.NewFault(evPrefix, "UnableToCast", 500, "Unable to cast value %s as %s.", s, strings.ToUpper(typ))
	}
	t := strings.TrimSpace(s)
	switch typ {
	case "boolean":
		switch strings.ToLower(t) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, bad()
	case "integer":
		n, err := strconv.ParseInt(t, 10, 32)
		if err != nil {
			return nil, bad()
		}
		return int32(n), nil
	case "long":
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case "float":
		f, err := strconv.ParseFloat(t, 32)
		if err != nil {
			return nil, bad()
		}
		return float32(f), nil
	case "double":
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, bad()
		}
		return f, nil
	}
	return s, nil
}
