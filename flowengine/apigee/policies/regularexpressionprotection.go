package policies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/javaregex"
	"github.com/flowproc/flowproc/flowengine/apigee/jsonpath"
	"github.com/flowproc/flowproc/flowengine/apigee/xmltree"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/expr"
)

// RegularExpressionProtection (Apigee docs: threat protection) rejects a message
// when a Java regular expression is found in one of its parts: the URI
// path, named query parameters, headers, form parameters, flow variables,
// values selected by JSONPath from a JSON payload or by XPath from an XML
// payload.
//
// What flowproc relies on (Apigee's RegularExpressionProtection policy
// reference and its error reference; fault strings paraphrase the
// documented formats):
//   - A <Pattern> is a java.util.regex pattern searched for anywhere in
//     the value (Matcher.find), not matched against the whole value.
//     Patterns are compiled at load with javaregex (Go's RE2: linear time
//     in the input, so no request can make a pattern backtrack); a Java
//     construct RE2 lacks (backreferences, lookaround, possessive
//     quantifiers) is a load error, never silently dropped. Each search
//     is charged to the run's regex budget (len(value)+1 units).
//   - Source defaults to "message" (the request in a request flow, the
//     response in a response flow). A Source that names a non-message
//     variable is NonMessageVariable, "Variable <v> does not resolve to
//     a Message"; one that is not in scope is SourceMessageNotAvailable,
//     "<source> message is not available for RegularExpressionProtection
//     StepDefinition <policy>". Both 500.
//   - A match is ThreatDetected, status 400, "Regular Expression Threat
//     Detected in <policy>: regex: <pattern> input: <value>".
//   - A <Variable> that does not resolve is VariableResolutionFailed
//     (500, "Failed to resolve variable <name>") unless
//     IgnoreUnresolvedVariables is true. A header, query or form parameter
//     that is absent has nothing to search. flowproc searches every value
//     of a repeated header or parameter (a threat in the second value is
//     still a threat).
//   - URIPath searches the message's path (request only). QueryParam
//     and FormParam apply to requests only.
//   - JSONPayload runs when the message's Content-Type is JSON and the
//     body is not empty; XMLPayload when it is XML. A selected JSON string
//     is searched unquoted, anything else as compact JSON text (with "/"
//     written "\/" when escapeSlashCharacter="true"). An XPath node-set is
//     searched node by node (string values). A payload that does not
//     parse is ExecutionFailed, "Failed to execute the
//     RegularExpressionProtection StepDefinition <policy>. Reason: <why>"
//     (500).
//   - regularexpressionprotection.<policy>.failed is set by the engine.
func init() {
	engine.Register(engine.Kind{Type: "RegularExpressionProtection", Prefix: repPrefix, New: newRegexProtection, Recyclable: true})
}

const repPrefix = "regularexpressionprotection"

type repPattern struct {
	src string
	re  *regexp.Regexp
}

type repKind int

const (
	repURIPath repKind = iota
	repQueryParam
	repHeader
	repFormParam
	repVariable
)

type repSource struct {
	kind     repKind
	name     string
	patterns []repPattern
}

type repJSON struct {
	expr     string
	path     *jsonpath.Path
	patterns []repPattern
}

type repXML struct {
	expr     string
	typ      string
	xpool    *sync.Pool
	patterns []repPattern
}

type regexProtection struct {
	name        string
	source      string
	ignore      bool
	sources     []repSource
	json        []repJSON
	escapeSlash bool
	xml         []repXML
}

func newRegexProtection(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	rp := &regexProtection{name: p.Name, source: "message"}
	root := p.Root
	c.Unknown(root, allowed("Source", "IgnoreUnresolvedVariables", "URIPath", "QueryParam", "Header", "FormParam", "Variable", "JSONPayload", "XMLPayload")...)
	ok := true
	for _, n := range root.Children {
		switch n.Name {
		case "Source":
			if s := strings.TrimSpace(n.Text); s != "" {
				rp.source = s
			}
		case "IgnoreUnresolvedVariables":
			rp.ignore = c.Bool(n, n.Text, false)
		case "URIPath", "QueryParam", "Header", "FormParam", "Variable":
			ok = rp.compileSource(c, n) && ok
		case "JSONPayload":
			esc, _ := n.Attr("escapeSlashCharacter")
			rp.escapeSlash = c.Bool(n, esc, false)
			c.Unknown(n, "JSONPath")
			for _, jp := range n.Children {
				if jp.Name != "JSONPath" {
					continue
				}
				c.Unknown(jp, "Expression", "Pattern")
				expr := strings.TrimSpace(repChildText(jp, "Expression"))
				if expr == "" {
					c.Errorf(jp, diag.APMissingElement, "<JSONPath> needs an <Expression>")
					ok = false
					continue
				}
				path, err := jsonpath.Parse(expr)
				if err != nil {
					c.Errorf(jp, diag.APBadPolicy, "RegularExpressionProtection %s: JSONPath %q: %v", p.Name, expr, err)
					ok = false
					continue
				}
				pats, pok := compileRepPatterns(c, jp)
				ok = ok && pok
				rp.json = append(rp.json, repJSON{expr: expr, path: path, patterns: pats})
			}
		case "XMLPayload":
			ok = rp.compileXML(c, n) && ok
		}
	}
	if len(rp.sources) == 0 && len(rp.json) == 0 && len(rp.xml) == 0 && ok {
		c.Errorf(root, diag.APMissingElement, "RegularExpressionProtection %s has nothing to check (want URIPath, QueryParam, Header, FormParam, Variable, JSONPayload or XMLPayload)", p.Name)
		ok = false
	}
	if !ok {
		return nil
	}
	return rp
}

func repChildText(n *bundle.Node, name string) string {
	if c := n.Child(name); c != nil {
		return c.Text
	}
	return ""
}

// compileRepPatterns compiles the <Pattern> children of n; at least one is
// required.
func compileRepPatterns(c *engine.Compiler, n *bundle.Node) ([]repPattern, bool) {
	var out []repPattern
	ok := true
	for _, pn := range n.Children {
		if pn.Name != "Pattern" {
			continue
		}
		src := strings.TrimSpace(pn.Text)
		if src == "" {
			c.Errorf(pn, diag.APBadPolicy, "<Pattern> is empty")
			ok = false
			continue
		}
		re, err := javaregex.Compile(src)
		if err != nil {
			c.Errorf(pn, diag.APBadPolicy, "<Pattern> %q: %v", src, err)
			ok = false
			continue
		}
		out = append(out, repPattern{src: src, re: re})
	}
	if len(out) == 0 && ok {
		c.Errorf(n, diag.APMissingElement, "<%s> needs at least one <Pattern>", n.Name)
		ok = false
	}
	return out, ok
}

func (rp *regexProtection) compileSource(c *engine.Compiler, n *bundle.Node) bool {
	src := repSource{kind: map[string]repKind{"URIPath": repURIPath, "QueryParam": repQueryParam, "Header": repHeader, "FormParam": repFormParam, "Variable": repVariable}[n.Name]}
	if src.kind != repURIPath {
		name, _ := n.Attr("name")
		if src.name = strings.TrimSpace(name); src.name == "" {
			c.Errorf(n, diag.APMissingElement, "<%s> needs a name attribute", n.Name)
			return false
		}
	}
	c.Unknown(n, "Pattern")
	pats, ok := compileRepPatterns(c, n)
	if !ok {
		return false
	}
	src.patterns = pats
	rp.sources = append(rp.sources, src)
	return true
}

func (rp *regexProtection) compileXML(c *engine.Compiler, n *bundle.Node) bool {
	c.Unknown(n, "Namespaces", "XPath")
	ns := map[string]string{}
	ok := true
	if nsn := n.Child("Namespaces"); nsn != nil {
		c.Unknown(nsn, "Namespace")
		for _, x := range nsn.Children {
			prefix, _ := x.Attr("prefix")
			uri := strings.TrimSpace(x.Text)
			switch _, dup := ns[prefix]; {
			case prefix == "":
				c.Errorf(x, diag.APMissingElement, "<Namespace> needs a prefix attribute")
				ok = false
			case uri == "":
				c.Errorf(x, diag.APBadPolicy, "<Namespace prefix=%q> has no URI", prefix)
				ok = false
			case dup:
				c.Errorf(x, diag.APBadPolicy, "namespace prefix %q is declared twice", prefix)
				ok = false
			default:
				ns[prefix] = uri
			}
		}
	}
	for _, xp := range n.Children {
		if xp.Name != "XPath" {
			continue
		}
		c.Unknown(xp, "Expression", "Type", "Pattern")
		expr := strings.TrimSpace(repChildText(xp, "Expression"))
		if expr == "" {
			c.Errorf(xp, diag.APMissingElement, "<XPath> needs an <Expression>")
			ok = false
			continue
		}
		typ := strings.TrimSpace(repChildText(xp, "Type"))
		if typ == "" {
			typ = "string"
		}
		switch typ {
		case "string", "boolean", "int", "integer", "long", "float", "double", "nodeset":
		default:
			c.Errorf(xp, diag.APBadPolicy, "<XPath> type %q is not one of string, boolean, int, integer, long, float, double, nodeset", typ)
			ok = false
			continue
		}
		x, err := xpath.CompileWithNS(expr, ns)
		if err != nil {
			c.Errorf(xp, diag.APBadPolicy, "XPath %q does not compile: %v", expr, err)
			ok = false
			continue
		}
		pats, pok := compileRepPatterns(c, xp)
		if !pok {
			ok = false
			continue
		}
		pool := &sync.Pool{New: func() any {
			x, _ := xpath.CompileWithNS(expr, ns) // compiled once above
			return x
		}}
		pool.Put(x)
		rp.xml = append(rp.xml, repXML{expr: expr, typ: typ, xpool: pool, patterns: pats})
	}
	return ok
}

func (rp *regexProtection) failed(why string, err error) *engine.Fault {
	f := engine.NewFault(repPrefix, "ExecutionFailed", 500, "Failed to execute the RegularExpressionProtection StepDefinition %s. Reason: %s", rp.name, why)
	f.Err = err
	return f
}

// check searches value for each pattern; the first found is a threat.
func (rp *regexProtection) check(r *engine.Run, pats []repPattern, value string) error {
	for _, p := range pats {
		if err := r.Budget().Regex(int64(len(value)) + 1); err != nil {
			return err
		}
		if p.re.MatchString(value) {
			return engine.NewFault(repPrefix, "ThreatDetected", 400, "Regular Expression Threat Detected in %s: regex: %s input: %s", rp.name, p.src, value)
		}
	}
	return nil
}

// Execute implements engine.Policy.
func (rp *regexProtection) Execute(r *engine.Run) error {
	m, ok := r.Message(rp.source)
	if !ok || m == nil {
		if v, found := r.Lookup(rp.source); found && v != nil {
			return engine.NewFault(repPrefix, "NonMessageVariable", 500, "Variable %s does not resolve to a Message", rp.source)
		}
		return engine.NewFault(repPrefix, "SourceMessageNotAvailable", 500, "%s message is not available for RegularExpressionProtection StepDefinition %s", rp.source, rp.name)
	}
	for i := range rp.sources {
		if err := rp.checkSource(r, m, &rp.sources[i]); err != nil {
			return err
		}
	}
	if len(rp.json) == 0 && len(rp.xml) == 0 {
		return nil
	}
	ct, _ := m.Header("content-type")
	isJSON, isXML := contentTypeIs(ct, "json"), contentTypeIs(ct, "xml")
	if (!isJSON || len(rp.json) == 0) && (!isXML || len(rp.xml) == 0) {
		return nil
	}
	body, err := m.Content()
	if err != nil {
		return rp.failed("the payload cannot be read", fmt.Errorf("reading the payload: %w", err))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if isJSON {
		return rp.checkJSON(r, body)
	}
	return rp.checkXML(r, body)
}

func (rp *regexProtection) checkSource(r *engine.Run, m *engine.Message, s *repSource) error {
	var values []string
	switch s.kind {
	case repURIPath:
		if !m.IsRequest {
			return nil
		}
		values = []string{m.Path}
	case repQueryParam:
		if !m.IsRequest {
			return nil
		}
		values = m.QueryValues(s.name)
	case repHeader:
		values = m.HeaderValues(s.name)
	case repFormParam:
		if !m.IsRequest {
			return nil
		}
		values = formValues(m)(s.name)
	case repVariable:
		v, ok := r.Get(s.name)
		if !ok {
			if rp.ignore {
				return nil
			}
			return engine.NewFault(repPrefix, "VariableResolutionFailed", 500, "Failed to resolve variable %s", s.name)
		}
		values = []string{v}
	}
	for _, v := range values {
		if err := rp.check(r, s.patterns, v); err != nil {
			return err
		}
	}
	return nil
}

func (rp *regexProtection) checkJSON(r *engine.Run, doc []byte) error {
	if !json.Valid(doc) {
		return rp.failed("the JSON payload does not parse", nil)
	}
	for _, j := range rp.json {
		for _, res := range j.path.Eval(doc) {
			var s string
			if t := bytes.TrimSpace(res); len(t) > 0 && t[0] == '"' {
				s = jsonpath.Scalar(res)
			} else {
				var b bytes.Buffer
				_ = json.Compact(&b, res) // res comes from a valid document
				s = b.String()
				if rp.escapeSlash {
					s = strings.ReplaceAll(s, "/", `\/`)
				}
			}
			if err := rp.check(r, j.patterns, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rp *regexProtection) checkXML(r *engine.Run, body []byte) error {
	doc, err := xmltree.Parse(body, 0)
	if err != nil {
		return rp.failed("the XML payload does not parse", err)
	}
	for _, x := range rp.xml {
		values := repXPath(x, doc)
		for _, v := range values {
			if err := rp.check(r, x.patterns, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// repXPath evaluates x on doc: the string value of each selected node for
// a nodeset, of the first for other types, or the XPath result's string
// form.
func repXPath(x repXML, doc *xmltree.Node) []string {
	e, _ := x.xpool.Get().(*xpath.Expr)
	if e == nil {
		return nil // cannot happen: the expression compiled at load
	}
	defer x.xpool.Put(e)
	switch res := e.Evaluate(xmltree.NewNavigator(doc)).(type) {
	case *xpath.NodeIterator:
		var out []string
		for res.MoveNext() {
			out = append(out, res.Current().Value())
			if x.typ != "nodeset" {
				break
			}
		}
		return out
	case string:
		return []string{res}
	case bool:
		if res {
			return []string{"true"}
		}
		return []string{"false"}
	case float64:
		return []string{expr.FormatNumber(res)}
	}
	return nil
}
