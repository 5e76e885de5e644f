// Package mock answers requests from an OpenAPI definition's examples, as
// FLAT's built-in mocking does (FLAT docs: built-in mocking for the client's
// "Mock: true" header with FLAT_ALLOW_MOCKING=true, FLAT docs: upstream API definitions for the upstream
// request option mock-response).
//
// Response picks the operation's 200 response (else the lowest 2xx), the
// media type that best matches Accept (application/json when Accept is
// absent or allows anything), and a body from, in order: the media type's
// example, its examples (the first by name), the schema's example, and a
// value generated from the schema. Swagger 2.0 examples that $ref a
// definitions entry or a JSON file are resolved by apidef.Load.
//
// Decisions where FLAT's documentation is silent (docs/mocking.md):
//
//   - JSON media types (application/json, */*+json) are encoded as
//     compact JSON with object keys sorted (kin-openapi hands examples
//     over as Go maps, so the definition's key order is not kept); other
//     media types take a string example verbatim and skip non-string
//     examples.
//   - Generated values are deterministic: the first enum value, default,
//     or a fixed value per type and format within minimum/maximum and
//     minLength/maxLength (patterns are not honoured); objects list every
//     property except writeOnly ones; arrays hold max(1, minItems) items.
//     Recursion stops at MaxDepth (an object there is {}, an array []).
//   - A response without content is answered with an empty body; an
//     examples entry that only has an externalValue is skipped.
//
// Nothing here panics; a definition that offers nothing to answer with
// gives ok == false.
package mock

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Header is the request header that asks for a mock and the response
// header a mock answer carries, both with the value "true".
const Header = "Mock"

// MaxDepth bounds nesting in generated values (recursive schemas).
const MaxDepth = 8

// Operation returns the operation of doc for a path key as written in the
// definition (apidef.Path.Pattern) and an upper-case method; HEAD falls
// back to GET as in apidef's routing. It returns nil when there is none
// (for example a slimline path without operations).
func Operation(doc *openapi3.T, pattern, method string) *openapi3.Operation {
	if doc == nil || doc.Paths == nil {
		return nil
	}
	item := doc.Paths.Value(pattern)
	if item == nil {
		return nil
	}
	if op := item.GetOperation(method); op != nil {
		return op
	}
	if method == http.MethodHead {
		return item.GetOperation(http.MethodGet)
	}
	return nil
}

// Response returns the mock answer for op: its status, Content-Type and
// body. ok is false when op has no 2xx response, no media type of that
// response is acceptable, or the acceptable ones have neither a usable
// example nor a schema. doc is the definition op belongs to: an OpenAPI 3
// example written as {$ref: "#/components/examples/Name"} (kin-openapi
// keeps it literally) is taken from its components; doc may be nil.
func Response(doc *openapi3.T, op *openapi3.Operation, accept string) (status int, contentType string, body []byte, ok bool) {
	if op == nil || op.Responses == nil {
		return 0, "", nil, false
	}
	status, resp := successResponse(op.Responses)
	if resp == nil {
		return 0, "", nil, false
	}
	if len(resp.Content) == 0 {
		return status, "", nil, true
	}
	for _, ct := range candidates(resp.Content, accept) {
		if b, ok := bodyFor(doc, resp.Content[ct.key], ct.typ); ok {
			return status, ct.typ, b, true
		}
	}
	return 0, "", nil, false
}

// successResponse returns the 200 response, else the lowest 2xx (a "2XX"
// range counts as 200).
func successResponse(rs *openapi3.Responses) (int, *openapi3.Response) {
	best, bestCode := (*openapi3.Response)(nil), 0
	for key, ref := range rs.Map() {
		if ref == nil || ref.Value == nil {
			continue
		}
		code := 0
		if strings.EqualFold(key, "2XX") {
			code = 200
		} else if n, err := strconv.Atoi(key); err == nil && n >= 200 && n <= 299 {
			code = n
		} else {
			continue
		}
		// Prefer the lower code; an explicit "200" beats "2XX".
		if best == nil || code < bestCode || code == bestCode && key == "200" {
			best, bestCode = ref.Value, code
		}
	}
	return bestCode, best
}

// bodyFor encodes the best example of mt as a body of media type typ.
func bodyFor(doc *openapi3.T, mt *openapi3.MediaType, typ string) ([]byte, bool) {
	if mt == nil {
		return nil, false
	}
	var values []any
	if mt.Example != nil {
		values = append(values, exampleRef(doc, mt.Example))
	}
	names := make([]string, 0, len(mt.Examples))
	for name := range mt.Examples {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if ex := mt.Examples[name]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
			values = append(values, ex.Value.Value)
		}
	}
	if mt.Schema != nil && mt.Schema.Value != nil {
		s := mt.Schema.Value
		if s.Example != nil {
			values = append(values, s.Example)
		}
		values = append(values, s.Examples...)
		values = append(values, Generate(s))
	}
	for _, v := range values {
		if b, ok := encode(v, typ); ok {
			return b, true
		}
	}
	return nil, false
}

// isJSON reports whether media type typ is JSON.
func isJSON(typ string) bool {
	typ = bare(typ)
	return typ == "application/json" || strings.HasSuffix(typ, "+json")
}

// encode renders v as a body of media type typ.
func encode(v any, typ string) ([]byte, bool) {
	if !isJSON(typ) {
		s, ok := v.(string)
		return []byte(s), ok
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), true
}

// exampleRef resolves an example {$ref: "#/components/examples/Name"}
// against doc; any other value is returned as it is.
func exampleRef(doc *openapi3.T, v any) any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 || doc == nil || doc.Components == nil {
		return v
	}
	ref, _ := m["$ref"].(string)
	name, ok := strings.CutPrefix(ref, "#/components/examples/")
	if !ok {
		return v
	}
	if ex := doc.Components.Examples[name]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
		return ex.Value.Value
	}
	return v
}
