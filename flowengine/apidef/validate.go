package apidef

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// validate checks the document with kin-openapi, leniently: FLAT's slimline
// definitions (FLAT docs: OpenAPI integration) may omit info, responses, operations and the
// declaration of path parameters, and wildcard paths are FLAT's own. What
// apidef checks itself (paths, duplicate paths) is not reported twice.
func (l *loader) validate() {
	defer func() {
		if r := recover(); r != nil { // a validator bug must not take the server down
			l.errorf(nil, diag.BadDefinition, "the OpenAPI validator failed on this document: %v", r)
		}
	}()
	ldr := openapi3.NewLoader()
	ldr.IsExternalRefsAllowed = true
	ldr.ReadFromURIFunc = openapi3.ReadFromFile // local files only, never the network
	if l.noFiles {
		// Parse: there is no directory that external $refs could be
		// read from.
		ldr.IsExternalRefsAllowed = false
		ldr.ReadFromURIFunc = func(*openapi3.Loader, *url.URL) ([]byte, error) {
			return nil, errNoFiles
		}
	}
	location := &url.URL{Path: filepath.ToSlash(l.file)}

	var doc *openapi3.T
	if l.v3 {
		ldr.IncludeOrigin = true
		var err error
		doc, err = ldr.LoadFromDataWithPath(l.data, location)
		if err != nil {
			l.kinError(fmt.Errorf("OpenAPI %s: %w", l.d.Version, err), false)
			return
		}
	} else {
		js, err := toJSON(l.sanitized2())
		if err != nil {
			l.errorf(nil, diag.BadDefinition, "%v", err)
			return
		}
		var doc2 openapi2.T
		if err := openapi2.UnmarshalFromData(js, &doc2); err != nil {
			l.kinError(fmt.Errorf("swagger 2.0: %w", err), false)
			return
		}
		doc, err = openapi2conv.ToV3WithLoader(&doc2, ldr, location)
		if err != nil {
			l.kinError(fmt.Errorf("swagger 2.0: %w", err), false)
			return
		}
	}
	if doc.Info == nil {
		doc.Info = &openapi3.Info{Title: "FLAT app", Version: "0"} // slimline: no info
	} else {
		l.d.APIVersion = doc.Info.Version
	}
	l.d.Doc = doc
	err := doc.Validate(context.Background(), openapi3.EnableMultiError(), openapi3.DisableExamplesValidation())
	if err == nil {
		return
	}
	var me openapi3.MultiError
	if !errors.As(err, &me) {
		me = openapi3.MultiError{err}
	}
	for _, e := range flatten(me) {
		if l.lenient(e) {
			continue
		}
		l.kinError(e, l.v3)
	}
}

// flatten expands nested MultiErrors.
func flatten(me openapi3.MultiError) []error {
	var out []error
	for _, e := range me {
		var inner openapi3.MultiError
		if errors.As(e, &inner) && len(inner) > 0 {
			out = append(out, flatten(inner)...)
			continue
		}
		out = append(out, e)
	}
	return out
}

// lenient reports whether kin-openapi error e is one FLAT tolerates (or
// one apidef reports itself).
func (l *loader) lenient(e error) bool {
	var (
		respReq   *openapi3.OperationResponsesRequired
		respEmpty *openapi3.ResponsesNonEmptyRequired
		infoReq   *openapi3.InfoRequired
		pathsReq  *openapi3.PathsRequired
		conflict  *openapi3.ConflictingPathsError
		slash     *openapi3.PathMustStartWithSlashError
		params    *openapi3.PathParametersError
	)
	switch {
	case errors.As(e, &respReq), errors.As(e, &respEmpty), errors.As(e, &infoReq), errors.As(e, &pathsReq):
		return true // slimline (an app without paths serves only its default flow)
	case errors.As(e, &conflict), errors.As(e, &slash):
		return true // BadPath from the router
	case errors.As(e, &params):
		// Slimline paths need not declare their template parameters; a
		// declared path parameter missing from the template is an error.
		segs, _, err := parsePattern(params.Path)
		if err != nil {
			return true
		}
		inTemplate := map[string]bool{}
		for _, s := range segs {
			if s.kind == segParam {
				inTemplate[s.name] = true
			}
		}
		for _, name := range params.Missing {
			if !inTemplate[name] {
				return false
			}
		}
		return true
	}
	return false
}

// kinError adds a BadDefinition for a kin-openapi error, positioned at the
// element it names (useOrigin: trust kin-openapi's recorded origins, which
// are only right when it parsed the original file).
func (l *loader) kinError(e error, useOrigin bool) {
	var at *yaml.Node
	if useOrigin {
		if loc := originOf(e); loc != nil && loc.Line > 0 {
			at = &yaml.Node{Line: loc.Line, Column: loc.Column}
		}
	}
	if at == nil {
		at = l.contextNode(e)
	}
	code := diag.BadDefinition
	if errors.Is(e, fs.ErrNotExist) {
		code = diag.MissingFile // a $ref to a file that does not exist
	}
	l.errorf(at, code, "%v", e)
}

var originType = reflect.TypeFor[*openapi3.Origin]()

// originOf returns the deepest origin recorded in e's chain.
func originOf(e error) *openapi3.Location {
	var loc *openapi3.Location
	for ; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				break
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		f := v.FieldByName("Origin")
		if !f.IsValid() || f.Type() != originType || f.IsNil() {
			continue
		}
		o := f.Interface().(*openapi3.Origin)
		if o.Key != nil && o.Key.Line > 0 {
			loc = o.Key
		}
		var ste *openapi3.SchemaTypeError
		if errors.As(e, &ste) {
			if fl, ok := o.Fields.Lookup("type"); ok && fl.Line > 0 {
				loc = &fl
			}
		}
	}
	return loc
}

// componentKeys maps kin-openapi component sections to the 3.x and 2.0
// keys of the document.
var componentKeys = map[string][2]string{
	"schema":          {"schemas", "definitions"},
	"parameter":       {"parameters", "parameters"},
	"response":        {"responses", "responses"},
	"security scheme": {"securitySchemes", "securityDefinitions"},
	"request body":    {"requestBodies", "parameters"},
	"header":          {"headers", ""},
	"example":         {"examples", ""},
	"link":            {"links", ""},
	"callback":        {"callbacks", ""},
}

// contextNode finds the document node named by e's context wrappers (path,
// operation, component, section), or a $ref that e's message quotes.
func (l *loader) contextNode(e error) *yaml.Node {
	var (
		pve *openapi3.PathValidationError
		ove *openapi3.OperationValidationError
		cve *openapi3.ComponentValidationError
		sve *openapi3.SectionValidationError
	)
	var ppe *openapi3.PathParametersError
	if errors.As(e, &ppe) {
		if k, _ := lookup(l.root, "paths", ppe.Path, strings.ToLower(ppe.Method)); k != nil {
			return k
		}
	}
	if errors.As(e, &pve) {
		k, v := lookup(l.root, "paths", pve.Path)
		if k == nil {
			return l.refNode(e)
		}
		if errors.As(e, &ove) {
			if mk, _ := lookup(v, strings.ToLower(ove.Method)); mk != nil {
				return mk
			}
		}
		return k
	}
	if errors.As(e, &cve) {
		keys, ok := componentKeys[cve.Section]
		if ok {
			var k *yaml.Node
			if l.v3 {
				k, _ = lookup(l.root, "components", keys[0], cve.Name)
			} else if keys[1] != "" {
				k, _ = lookup(l.root, keys[1], cve.Name)
			}
			if k != nil {
				return k
			}
		}
	}
	if n := l.refNode(e); n != nil {
		return n
	}
	if errors.As(e, &sve) {
		if k, _ := lookup(l.root, sve.Section); k != nil {
			return k
		}
	}
	return nil
}

// lookup follows keys through nested mappings and returns the last key and
// its value.
func lookup(n *yaml.Node, keys ...string) (k, v *yaml.Node) {
	v = n
	for _, key := range keys {
		k = nil
		for _, p := range pairs(v) {
			if keyText(p.k) == key {
				k, v = p.k, deref(p.v)
				break
			}
		}
		if k == nil {
			return nil, nil
		}
	}
	return k, v
}

// refNode returns the first $ref value that e's message quotes.
func (l *loader) refNode(e error) *yaml.Node {
	msg := e.Error()
	var found *yaml.Node
	var visit func(n *yaml.Node, depth int)
	visit = func(n *yaml.Node, depth int) {
		if found != nil || n == nil || depth > 200 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "$ref" && v.Kind == yaml.ScalarNode && v.Value != "" &&
					(strings.Contains(msg, v.Value) || !l.v3 && strings.Contains(msg, openapi2conv.ToV3Ref(v.Value))) {
					found = v
					return
				}
				visit(v, depth+1)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				visit(c, depth+1)
			}
		}
	}
	visit(l.root, 0)
	return found
}

// sanitized2 returns the Swagger 2.0 document as kin-openapi's openapi2
// types accept it: without the x-* entries directly under paths (FLAT's
// fallback flow/proxy), with empty objects for slimline null paths and
// operations, and with FLAT's example references resolved (see
// inlineExample). l.root is never modified: changed levels are copied.
func (l *loader) sanitized2() *yaml.Node {
	ex := &exampleRefs{defs: map[string]bool{}, refs: map[*yaml.Node]bool{}}
	root := emptyMap()
	hasInfo := false
	defsAt := -1
	for _, p := range pairs(l.root) {
		v := p.v
		switch keyText(p.k) {
		case "paths":
			v = l.sanitizePaths(deref(p.v), ex)
		case "responses":
			v = l.responsesExamples(deref(p.v), ex)
		case "info":
			hasInfo = true
		case "definitions":
			defsAt = len(root.Content) + 1
		}
		root.Content = append(root.Content, p.k, v)
	}
	if defsAt >= 0 && len(ex.defs) > 0 {
		root.Content[defsAt] = l.withoutDataDefinitions(deref(root.Content[defsAt]), ex)
	}
	if !hasInfo { // slimline
		root.Content = append(root.Content, str("info"), &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map",
			Content: []*yaml.Node{str("title"), str("FLAT app"), str("version"), str("0")}})
	}
	return root
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func emptyMap() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func (l *loader) sanitizePaths(paths *yaml.Node, ex *exampleRefs) *yaml.Node {
	if paths == nil || paths.Kind != yaml.MappingNode {
		return paths
	}
	out := emptyMap()
	for _, p := range pairs(paths) {
		if strings.HasPrefix(keyText(p.k), "x-") {
			continue
		}
		item := deref(p.v)
		switch {
		case isNull(item):
			item = emptyMap()
		case item.Kind == yaml.MappingNode:
			fixed := emptyMap()
			for _, q := range pairs(item) {
				v := q.v
				if methods2[keyText(q.k)] {
					if isNull(v) {
						v = emptyMap()
					} else {
						v = replaceKey(deref(v), "responses", func(r *yaml.Node) *yaml.Node { return l.responsesExamples(r, ex) })
					}
				}
				fixed.Content = append(fixed.Content, q.k, v)
			}
			item = fixed
		}
		out.Content = append(out.Content, p.k, item)
	}
	return out
}

// Slimline example data (FLAT cookbook "Using the Built-in Mocking"): a
// Swagger 2.0 response example may be {$ref: "#/definitions/Name"}, where
// definitions/Name is the example value itself rather than a schema, or
// {$ref: "file.json"}, a JSON or YAML file next to the definition. FLAT
// answers mock requests with the referenced data. kin-openapi keeps such an
// example as the literal object {"$ref": …} and rejects a data-only
// definitions entry as a schema with unknown fields, so apidef resolves
// these references itself and leaves data-only entries out of the schemas
// kin-openapi validates. Only entries that are referenced from an example
// and from nowhere else are treated as data: every other definitions entry
// is still validated as a schema.

// exampleRefs collects the definitions entries used as example data and the
// $ref nodes that refer to them from examples.
type exampleRefs struct {
	defs map[string]bool
	refs map[*yaml.Node]bool
}

// replaceKey returns a copy of mapping m whose value for key is replaced
// by fn(value); m itself when it is not a mapping or has no such key.
func replaceKey(m *yaml.Node, key string, fn func(*yaml.Node) *yaml.Node) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return m
	}
	var out *yaml.Node
	for i, p := range pairs(m) {
		if keyText(p.k) != key {
			continue
		}
		if out == nil {
			cp := *m
			cp.Content = append([]*yaml.Node(nil), m.Content...)
			out = &cp
		}
		out.Content[2*i+1] = fn(deref(p.v))
	}
	if out == nil {
		return m
	}
	return out
}

// responsesExamples returns responses (a map of response objects) with
// every examples entry resolved.
func (l *loader) responsesExamples(responses *yaml.Node, ex *exampleRefs) *yaml.Node {
	if responses == nil || responses.Kind != yaml.MappingNode {
		return responses
	}
	out := emptyMap()
	for _, p := range pairs(responses) {
		v := replaceKey(deref(p.v), "examples", func(examples *yaml.Node) *yaml.Node {
			if examples == nil || examples.Kind != yaml.MappingNode {
				return examples
			}
			cp := emptyMap()
			for _, e := range pairs(examples) {
				cp.Content = append(cp.Content, e.k, l.inlineExample(deref(e.v), ex))
			}
			return cp
		})
		out.Content = append(out.Content, p.k, v)
	}
	return out
}

// inlineExample returns the data an example value {$ref: …} refers to, or
// v itself when it is not a reference. An unresolvable reference is a load
// error.
func (l *loader) inlineExample(v *yaml.Node, ex *exampleRefs) *yaml.Node {
	ps := pairs(v)
	if len(ps) != 1 || keyText(ps[0].k) != "$ref" || !isString(ps[0].v) {
		return v
	}
	refNode := deref(ps[0].v)
	ref := refNode.Value
	if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
		name = strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")
		_, data := lookup(l.root, "definitions", name)
		if data == nil {
			l.errorf(refNode, diag.BadDefinition, "example $ref %q: definitions has no entry %q", ref, name)
			return v
		}
		ex.defs[name] = true
		ex.refs[refNode] = true
		return data
	}
	if strings.Contains(ref, "#") || strings.Contains(ref, "://") {
		// kin-openapi would keep it as a literal {"$ref": …} example.
		l.errorf(refNode, diag.BadDefinition, "example $ref %q: an example may refer to #/definitions/NAME or to a whole file next to the definition", ref)
		return v
	}
	p := filepath.FromSlash(ref)
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.dir, p)
	}
	data, err := l.readFile(filepath.Clean(p))
	if err != nil {
		l.errorf(refNode, fileCode(err), "example file %q: %v", ref, err)
		return v
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		if err == nil {
			err = errors.New("empty file")
		}
		l.errorf(refNode, diag.BadDefinition, "example file %q: %v", ref, err)
		return v
	}
	ex.refs[refNode] = true
	return doc.Content[0]
}

// withoutDataDefinitions returns definitions without the entries used only
// as example data.
func (l *loader) withoutDataDefinitions(defs *yaml.Node, ex *exampleRefs) *yaml.Node {
	schemaRefs := map[string]bool{}
	var visit func(n *yaml.Node, depth int)
	visit = func(n *yaml.Node, depth int) {
		if n == nil || depth > 200 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "$ref" && v.Kind == yaml.ScalarNode && !ex.refs[v] {
					if name, ok := strings.CutPrefix(v.Value, "#/definitions/"); ok {
						schemaRefs[strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")] = true
					}
				}
				visit(v, depth+1)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				visit(c, depth+1)
			}
		}
	}
	visit(l.root, 0)
	out := emptyMap()
	for _, p := range pairs(defs) {
		name := keyText(p.k)
		if ex.defs[name] && !schemaRefs[name] {
			continue
		}
		out.Content = append(out.Content, p.k, p.v)
	}
	return out
}
