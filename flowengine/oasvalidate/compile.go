package oasvalidate

import (
	"errors"
	"os"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	yaml "go.yaml.in/yaml/v4"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// extName is the extension this package enforces.
const extName = "x-flat-validate"

// compiler holds the state of one Compile.
type compiler struct {
	d      *apidef.Definition
	doc30  *openapi3.T // an OpenAPI 3.1 document seen as 3.0 (see op)
	errs   *diag.List
	root   *yaml.Node // the definition file, parsed on first need
	parsed bool
}

// setting reads the x-flat-validate of one level; keys locate it in the
// definition file (none: the top level). An invalid value is reported and
// treated as absent.
func (c *compiler) setting(ext map[string]any, keys ...string) setting {
	raw, ok := ext[extName]
	if !ok {
		return setting{}
	}
	s, err := parseSetting(raw)
	if err != nil {
		line, col := c.position(append(keys, extName)...)
		c.errs.Addf(c.d.File, line, col, diag.BadExtension, "%s: %v", extName, err)
		return setting{}
	}
	return s
}

// pathsSetting reads x-flat-validate directly under paths, a level
// between the top level and the paths that FLAT's fallback extensions
// (x-flat-flow, x-flat-proxy) also have. kin-openapi drops it from Swagger
// 2.0 documents, so it is read from the file.
func (c *compiler) pathsSetting() setting {
	root := resolve(c.yamlRoot())
	if root == nil || root.Kind != yaml.MappingNode {
		return setting{}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "paths" {
			continue
		}
		paths := resolve(root.Content[i+1])
		if paths == nil || paths.Kind != yaml.MappingNode {
			return setting{}
		}
		for j := 0; j+1 < len(paths.Content); j += 2 {
			k := paths.Content[j]
			if k.Value != extName {
				continue
			}
			var raw any
			if err := paths.Content[j+1].Decode(&raw); err != nil {
				c.errs.Addf(c.d.File, k.Line, k.Column, diag.BadExtension, "%s: %v", extName, err)
				return setting{}
			}
			s, err := parseSetting(raw)
			if err != nil {
				c.errs.Addf(c.d.File, k.Line, k.Column, diag.BadExtension, "%s: %v", extName, err)
				return setting{}
			}
			return s
		}
	}
	return setting{}
}

// methodKey is the definition's key of an operation method.
func methodKey(method string) string { return strings.ToLower(method) }

// yamlRoot parses the definition file once (for positions only).
func (c *compiler) yamlRoot() *yaml.Node {
	if c.parsed {
		return c.root
	}
	c.parsed = true
	data, err := os.ReadFile(c.d.File)
	if err != nil {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	c.root = doc.Content[0]
	return c.root
}

// position returns the line and column of the key reached by keys, or of
// the deepest key found on the way (0, 0 when none).
func (c *compiler) position(keys ...string) (line, col int) {
	n := c.yamlRoot()
	for _, k := range keys {
		n = resolve(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return line, col
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, col = n.Content[i].Line, n.Content[i].Column
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line, col
		}
		n = next
	}
	return line, col
}

// resolve follows aliases (bounded).
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// dataKeys hold example or literal data, where an x-flat-validate key is
// not a setting.
var dataKeys = map[string]bool{"example": true, "examples": true, "default": true, "enum": true, "const": true}

// scanMisplaced reports x-flat-validate anywhere but the top level, a path
// or an operation: it would be ignored, so it is an error (fail closed).
func (c *compiler) scanMisplaced() {
	root := resolve(c.yamlRoot())
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
	var walk func(n *yaml.Node, allowed bool, level string, depth int)
	walk = func(n *yaml.Node, allowed bool, level string, depth int) {
		n = resolve(n)
		if n == nil || depth > 64 {
			return
		}
		switch n.Kind {
		case yaml.SequenceNode:
			for _, e := range n.Content {
				walk(e, false, "", depth+1)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				switch {
				case k.Value == extName && !allowed:
					c.errs.Addf(c.d.File, k.Line, k.Column, diag.BadExtension, "%s is only allowed at the top level, on a path or on an operation; here it would be ignored", extName)
				case dataKeys[k.Value]:
				case level == "root" && k.Value == "paths":
					walk(v, true, "paths", depth+1)
				case level == "paths" && !strings.HasPrefix(k.Value, "x-"):
					walk(v, true, "path", depth+1)
				case level == "path" && methods[k.Value]:
					walk(v, true, "op", depth+1)
				default:
					walk(v, false, "", depth+1)
				}
			}
		}
	}
	walk(root, true, "root", 0)
}

// op compiles one operation with its effective setting s.
func (c *compiler) op(doc *openapi3.T, p *apidef.Path, item *openapi3.PathItem, kop *openapi3.Operation, s setting, v2 bool) *Op {
	// A shallow copy without security requirements: the security check is
	// the engine's next step (FLAT docs: project layout and request lifecycle), not part of validation.
	opCopy := *kop
	opCopy.Security = &openapi3.SecurityRequirements{}
	// kin-openapi checks OpenAPI 3.1 schemas with a JSON Schema 2020-12
	// validator that it compiles anew on every check (~250 µs and 1,700
	// allocations for a small body), and falls back to its OpenAPI 3.0
	// validator anyway for schemas without 2020-12-only keywords that use
	// $ref. Operations whose schemas use none of those keywords are checked
	// by the 3.0 validator directly (it knows type lists, "null" and numeric
	// exclusive bounds); the others keep the 2020-12 validator.
	spec := doc
	if doc.IsOpenAPI31OrLater() && !uses2020(item, kop) {
		if c.doc30 == nil {
			d30 := *doc
			d30.OpenAPI = "3.0.3"
			c.doc30 = &d30
		}
		spec = c.doc30
	}
	op := &Op{
		req:  s.req,
		resp: s.resp,
		v2:   v2,
		route: &routers.Route{
			Spec:      spec,
			Path:      p.Pattern,
			PathItem:  item,
			Operation: &opCopy,
		},
	}
	if s.req != Off && kop.RequestBody != nil && kop.RequestBody.Value != nil {
		op.needsBody = true
	}
	for _, pr := range append(append(openapi3.Parameters{}, item.Parameters...), kop.Parameters...) {
		if pr == nil || pr.Value == nil {
			continue
		}
		switch pr.Value.In {
		case openapi3.ParameterInQuery:
			op.hasQuery = true
		case openapi3.ParameterInHeader:
			op.headers = append(op.headers, strings.ToLower(pr.Value.Name))
		case openapi3.ParameterInCookie:
			op.headers = append(op.headers, "cookie")
		}
	}
	op.reqOpts = &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		ExcludeRequestBody:  !op.needsBody,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	}
	op.respOpts = &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	}
	reqNoBody, respNoBody := *op.reqOpts, *op.respOpts
	reqNoBody.ExcludeRequestBody, respNoBody.ExcludeResponseBody = true, true
	op.reqNoBody, op.respNoBody = &reqNoBody, &respNoBody
	return op
}

// uses2020 reports whether any schema of the operation (parameters, request
// body, responses and their headers, following $refs) uses a keyword that
// only JSON Schema 2020-12 defines.
func uses2020(item *openapi3.PathItem, op *openapi3.Operation) bool {
	var refs []*openapi3.SchemaRef
	content := func(c openapi3.Content) {
		for _, mt := range c {
			if mt != nil {
				refs = append(refs, mt.Schema)
			}
		}
	}
	for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
		if p != nil && p.Value != nil {
			refs = append(refs, p.Value.Schema)
			content(p.Value.Content)
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		content(op.RequestBody.Value.Content)
	}
	if op.Responses != nil {
		for _, r := range op.Responses.Map() {
			if r == nil || r.Value == nil {
				continue
			}
			content(r.Value.Content)
			for _, h := range r.Value.Headers {
				if h != nil && h.Value != nil {
					refs = append(refs, h.Value.Schema)
					content(h.Value.Content)
				}
			}
		}
	}
	for _, ref := range refs {
		if ref == nil {
			continue
		}
		err := ref.WalkSubtree(func(_ string, r *openapi3.SchemaRef) error {
			if r.Value != nil && only2020(r.Value) {
				return errFound2020
			}
			return nil
		})
		if err != nil {
			return true // found, or a walk failure: keep the exact validator
		}
	}
	return false
}

var errFound2020 = errors.New("JSON Schema 2020-12 keyword")

// only2020 reports whether s itself uses a keyword the OpenAPI 3.0
// validator does not know.
func only2020(s *openapi3.Schema) bool {
	return s.Const != nil || len(s.PrefixItems) != 0 || s.Contains != nil ||
		len(s.PatternProperties) != 0 || len(s.DependentSchemas) != 0 || s.PropertyNames != nil ||
		s.UnevaluatedItems.Has != nil || s.UnevaluatedItems.Schema != nil ||
		s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil ||
		s.If != nil || s.Then != nil || s.Else != nil ||
		len(s.DependentRequired) != 0 || len(s.Defs) != 0 || s.ContentSchema != nil
}
