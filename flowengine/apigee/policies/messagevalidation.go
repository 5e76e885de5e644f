package policies

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/xmltree"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/xmlschema"
)

// MessageValidation (the UI's "SOAP Message Validation",
// SOAPMessageValidation) checks that a message is well-formed JSON or XML
// and, for XML, that it is the SOAP envelope and the element the policy
// names and that it is valid against an XSD or a WSDL's schemas from the
// bundle. Schema validation runs on libxml2 (package flowengine/xmlschema)
// and needs the "xslt" build tag; without it a policy with a
// <ResourceURL> does not load (AP400, as the XSL policy), while the form
// without one (well-formedness, envelope and <Element> checks) runs in
// every build, in pure Go.
//
// Relied on [Apigee's SOAPMessageValidation policy reference, and its
// runtime and deployment error troubleshooting pages]:
//   - Children (all optional): <Source> (default "message": the request or
//     the response, by flow), <SOAPMessage version="1.1|1.2|1.1/1.2"/>,
//     <Element namespace="ns">local name</Element> (may repeat),
//     <ResourceURL>xsd://file.xsd or wsdl://file.wsdl</ResourceURL>.
//   - A JSON message (Content-Type application/json or +json) is only
//     checked for well-formedness, whatever else is configured; anything
//     else is parsed as XML (fail closed: a message of another type is
//     not let through unchecked).
//   - A <ResourceURL> of another type does not deploy ("Invalid Resource
//     Type <t>. It should be xsd or wsdl", InvalidResourceType); a schema
//     that does not compile does not deploy (ResourceCompileFailed); an
//     empty <Element> (RootElementNameUnspecified) or one that is not an
//     XML name (InvalidRootElementName) does not deploy. flowproc reports
//     these as load errors naming Apigee's error: AP104 for the empty
//     <Element>, AP401 for the others.
//   - Runtime faults, all status 500: steps.messagevalidation.
//     SourceMessageNotAvailable ("<source> message is not available for
//     MessageValidation: <policy>"), NonMessageVariable ("Variable <v>
//     does not resolve to a Message") and Failed ("<policy> failed with
//     reason: "<reason>"") for malformed JSON or XML, a wrong envelope or
//     element, or a schema violation. The reason is flowproc's (envelope
//     and element checks) or libxml2's (schema violations), not the Java
//     parser's wording Apigee gives. messagevalidation.<policy>.failed is
//     set to true on a fault (engine), and continueOnError applies.
//
// flowproc's reading where the reference is silent:
//   - SOAP mode is <SOAPMessage> present or a wsdl:// resource: the root
//     must be Envelope in the namespace of an allowed version (SOAP 1.1
//     http://schemas.xmlsoap.org/soap/envelope/, SOAP 1.2
//     http://www.w3.org/2003/05/soap-envelope), with an optional Header
//     then one Body (SOAP 1.1 also allows namespace-qualified elements
//     after the Body); a <SOAPMessage/> without a version accepts both.
//   - <Element> names the element validated: the first element child of
//     the SOAP Body in SOAP mode, else the document's root; with several,
//     any one of them matches. Without <Element> any element does.
//   - With a schema, SOAP mode validates each element child of the Body on
//     its own (what a WSDL's message parts describe); otherwise the whole
//     document is validated. The schema's imports and includes may name
//     only the bundle's own xsd and wsdl resources (by file name); a WSDL
//     contributes the xs:schema elements of its types section and of the
//     bundle WSDLs it wsdl:imports.
//   - A document with a DOCTYPE is Failed (no entity is ever expanded).
func init() {
	for _, typ := range []string{"MessageValidation", "SOAPMessageValidation"} {
		engine.Register(engine.Kind{Type: typ, Prefix: mvPrefix, New: newMessageValidation, Recyclable: true})
	}
}

const (
	mvPrefix = "messagevalidation"
	soap11NS = "http://schemas.xmlsoap.org/soap/envelope/"
	soap12NS = "http://www.w3.org/2003/05/soap-envelope"
)

type mvElement struct{ space, local string }

func (e mvElement) String() string { return "{" + e.space + "}" + e.local }

type messageValidation struct {
	name, source string
	soap         bool
	versions     []string // allowed envelope namespaces in SOAP mode
	elements     []mvElement
	schema       *xmlschema.Schema
}

func newMessageValidation(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Source", "SOAPMessage", "Element", "ResourceURL")...)
	mv := &messageValidation{name: p.Name, source: strings.TrimSpace(textOf(root.Child("Source")))}
	if mv.source == "" {
		mv.source = "message"
	}
	if sm := root.Child("SOAPMessage"); sm != nil {
		mv.soap = true
		v, _ := sm.Attr("version")
		switch strings.TrimSpace(v) {
		case "1.1":
			mv.versions = []string{soap11NS}
		case "1.2":
			mv.versions = []string{soap12NS}
		case "1.1/1.2", "":
			mv.versions = []string{soap11NS, soap12NS}
		default:
			c.Errorf(sm, diag.APBadPolicy, "MessageValidation %s: <SOAPMessage version=%q>: want 1.1, 1.2 or 1.1/1.2", p.Name, v)
			return nil
		}
	}
	for _, e := range root.Children {
		if e.Name != "Element" {
			continue
		}
		local := strings.TrimSpace(e.Text)
		ns, _ := e.Attr("namespace")
		switch {
		case local == "":
			c.Errorf(e, diag.APMissingElement, "MessageValidation %s: RootElementNameUnspecified: <Element> needs the element's name", p.Name)
			return nil
		case !isNCName(local):
			c.Errorf(e, diag.APBadPolicy, "MessageValidation %s: InvalidRootElementName: %q is not an XML element name (give the prefix-less name and its namespace= attribute)", p.Name, local)
			return nil
		}
		mv.elements = append(mv.elements, mvElement{space: strings.TrimSpace(ns), local: local})
	}
	ru := root.Child("ResourceURL")
	if ru == nil || strings.TrimSpace(ru.Text) == "" {
		return mv
	}
	url := strings.TrimSpace(ru.Text)
	scheme, file, _ := strings.Cut(url, "://")
	if scheme != "xsd" && scheme != "wsdl" {
		c.Errorf(ru, diag.APBadPolicy, "MessageValidation %s: InvalidResourceType: Invalid Resource Type %s. It should be xsd or wsdl", p.Name, scheme)
		return nil
	}
	if !xmlschema.Available() {
		c.Errorf(ru, diag.APUnsupportedPolicy, "MessageValidation %s: schema validation (%s): %v", p.Name, url, xmlschema.ErrUnavailable)
		return nil
	}
	src, ok := c.Resource(ru, url)
	if !ok {
		return nil
	}
	files := schemaFiles(c.Bundle.FS)
	var err error
	if scheme == "wsdl" {
		mv.soap = true
		if mv.versions == nil {
			mv.versions = []string{soap11NS, soap12NS}
		}
		mv.schema, err = xmlschema.CompileWSDL(file, src, files)
	} else {
		mv.schema, err = xmlschema.Compile(file, src, files)
	}
	if err != nil {
		c.Errorf(ru, diag.APBadPolicy, "MessageValidation %s: ResourceCompileFailed: %v", p.Name, err)
		return nil
	}
	return mv
}

// schemaFiles are the bundle's xsd and wsdl resources by file name: what
// a schema's imports and includes may load.
func schemaFiles(fsys fs.FS) map[string][]byte {
	out := map[string][]byte{}
	if fsys == nil {
		return out
	}
	for _, dir := range []string{"resources/xsd", "resources/wsdl"} {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			continue // no such directory
		}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			if b, err := fs.ReadFile(fsys, path.Join(dir, e.Name())); err == nil {
				if _, dup := out[e.Name()]; !dup {
					out[e.Name()] = b
				}
			}
		}
	}
	return out
}

// isNCName reports whether s is a namespace-less XML name.
func isNCName(s string) bool {
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || r == '_':
		case i > 0 && (unicode.IsDigit(r) || r == '-' || r == '.' || unicode.Is(unicode.Mn, r)):
		default:
			return false
		}
	}
	return s != ""
}

// Execute implements engine.Policy.
func (mv *messageValidation) Execute(r *engine.Run) error {
	m, ok := r.Message(mv.source)
	if !ok || m == nil {
		if v, found := r.Lookup(mv.source); found && v != nil {
			return engine.NewFault(mvPrefix, "NonMessageVariable", 500, "Variable %s does not resolve to a Message", mv.source)
		}
		return engine.NewFault(mvPrefix, "SourceMessageNotAvailable", 500, "%s message is not available for MessageValidation: %s", mv.source, mv.name)
	}
	in, err := m.Content()
	if err != nil {
		return fmt.Errorf("MessageValidation %s: reading %s: %w", mv.name, mv.source, err)
	}
	if err := r.Budget().Decoded(int64(len(in))); err != nil {
		return err
	}
	ct, _ := m.Header("content-type")
	var reason string
	if contentTypeIs(ct, "json") {
		reason = jsonReason(in)
	} else {
		reason, err = mv.checkXML(in)
		if err != nil {
			return fmt.Errorf("MessageValidation %s: %w", mv.name, err)
		}
	}
	if err := r.Budget().Err(); err != nil {
		return err
	}
	if reason != "" {
		return engine.NewFault(mvPrefix, "Failed", 500, "%s failed with reason: \"%s\"", mv.name, reason)
	}
	return nil
}

// jsonReason is why b is not well-formed JSON, "" when it is.
func jsonReason(b []byte) string {
	var raw json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return "malformed JSON: " + err.Error()
	}
	return ""
}

// checkXML returns why doc fails the policy ("" when it passes); err is
// for a validator that could not run.
func (mv *messageValidation) checkXML(doc []byte) (reason string, err error) {
	envNS, reason := mv.structure(doc)
	if reason != "" || mv.schema == nil {
		return reason, nil
	}
	if mv.soap {
		err = mv.schema.ValidateSOAPBody(doc, envNS)
	} else {
		err = mv.schema.Validate(doc)
	}
	var ve *xmlschema.ValidationError
	if errors.As(err, &ve) {
		return ve.Error(), nil
	}
	return "", err
}

// structure checks well-formedness, the SOAP envelope and <Element>. It
// returns the envelope's namespace in SOAP mode and the reason of a
// failure.
func (mv *messageValidation) structure(doc []byte) (envNS, reason string) {
	tree, err := xmltree.Parse(doc, 0)
	if err != nil {
		return "", "the content is not well-formed XML: " + err.Error()
	}
	target := tree.Root()
	if target == nil {
		return "", "the content is not well-formed XML: no root element"
	}
	if mv.soap {
		var body *xmltree.Node
		envNS, body, reason = soapBody(target, mv.versions)
		if reason != "" {
			return "", reason
		}
		target = firstElement(body)
		if target == nil {
			if len(mv.elements) > 0 {
				return "", "the SOAP Body is empty; expected " + mv.expected()
			}
			return envNS, ""
		}
	}
	if len(mv.elements) == 0 {
		return envNS, ""
	}
	for _, e := range mv.elements {
		if target.Space == e.space && target.Local == e.local {
			return envNS, ""
		}
	}
	return "", fmt.Sprintf("expected element %s, found %s", mv.expected(), mvElement{target.Space, target.Local})
}

func (mv *messageValidation) expected() string {
	names := make([]string, len(mv.elements))
	for i, e := range mv.elements {
		names[i] = e.String()
	}
	return strings.Join(names, " or ")
}

// soapBody checks that env is a SOAP envelope in one of the versions'
// namespaces (optional Header, then Body; SOAP 1.1 allows qualified
// elements after the Body) and returns its namespace and Body.
func soapBody(env *xmltree.Node, versions []string) (ns string, body *xmltree.Node, reason string) {
	allowed := false
	for _, v := range versions {
		allowed = allowed || env.Space == v
	}
	if env.Local != "Envelope" || !allowed {
		want := make([]string, len(versions))
		for i, v := range versions {
			want[i] = mvElement{v, "Envelope"}.String()
		}
		got := mvElement{env.Space, env.Local}.String()
		if env.Local == "Envelope" && (env.Space == soap11NS || env.Space == soap12NS) {
			return "", nil, fmt.Sprintf("SOAP version mismatch: expected %s, found %s (SOAP %s)", strings.Join(want, " or "), got, soapVersion(env.Space))
		}
		return "", nil, fmt.Sprintf("expected a SOAP envelope %s, found %s", strings.Join(want, " or "), got)
	}
	ns = env.Space
	for _, c := range env.Children {
		switch c.Type {
		case xmltree.Text:
			if strings.TrimSpace(c.Data) != "" {
				return "", nil, "the SOAP Envelope has text content"
			}
			continue
		case xmltree.Element:
		default:
			continue
		}
		switch {
		case body == nil && c.Space == ns && c.Local == "Header" && !seenElementBefore(c):
		case body == nil && c.Space == ns && c.Local == "Body":
			body = c
		case body != nil && ns == soap11NS && c.Space != "" && c.Space != ns:
			// SOAP 1.1 section 4.1.2: qualified elements may follow the Body.
		default:
			return "", nil, fmt.Sprintf("unexpected element %s in the SOAP Envelope", mvElement{c.Space, c.Local})
		}
	}
	if body == nil {
		return "", nil, "the SOAP Envelope has no Body"
	}
	return ns, body, ""
}

func soapVersion(ns string) string {
	if ns == soap12NS {
		return "1.2"
	}
	return "1.1"
}

// seenElementBefore reports whether an element sibling precedes n.
func seenElementBefore(n *xmltree.Node) bool {
	for _, c := range n.Parent.Children {
		if c == n {
			return false
		}
		if c.Type == xmltree.Element {
			return true
		}
	}
	return false
}

func firstElement(n *xmltree.Node) *xmltree.Node {
	for _, c := range n.Children {
		if c.Type == xmltree.Element {
			return c
		}
	}
	return nil
}
