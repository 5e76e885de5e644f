package apidef

import (
	"reflect"
	"testing"
)

// The FLAT cookbook's mocking recipe (cookbook/builtin-mocking.md): a
// response example that is a $ref to a data-only definitions entry or to a
// JSON file next to the definition.
const (
	cookbookMockDef = `swagger: "2.0"
paths:
  /:
    get:
      responses:
        200:
          examples:
            application/json:
              $ref: "#/definitions/Example"
definitions:
  Example:
    foo: bar
    baz: qux
`
	cookbookMockFile = `swagger: "2.0"
paths:
  /:
    get:
      responses:
        200:
          examples:
            application/json:
              $ref: example.json
`
)

// TestLoadExampleRefs: such definitions load, and the Doc holds the
// referenced data as the example (what mocking answers with).
func TestLoadExampleRefs(t *testing.T) {
	want := map[string]any{"foo": "bar", "baz": "qux"}
	cases := []struct {
		name  string
		files map[string]string
		path  string
	}{
		{"definitions data", map[string]string{"swagger.yaml": cookbookMockDef}, "/"},
		{"external file", map[string]string{"swagger.yaml": cookbookMockFile, "example.json": `{"foo": "bar", "baz": "qux"}`}, "/"},
		{"external YAML file in a subdirectory", map[string]string{"swagger.yaml": cookbookMockFile[:len(cookbookMockFile)-len("example.json\n")] + "mocks/example.yaml\n", "mocks/example.yaml": "foo: bar\nbaz: qux\n"}, "/"},
		{"top-level response", map[string]string{"swagger.yaml": `swagger: "2.0"
paths:
  /a:
    get:
      responses:
        200: {$ref: "#/responses/Ok"}
responses:
  Ok:
    description: ok
    examples:
      application/json: {$ref: "#/definitions/Ex"}
definitions:
  Ex: {foo: bar, baz: qux}
`}, "/a"},
		{"data definition next to a schema", map[string]string{"swagger.yaml": cookbookMockDef + `  Schema:
    type: object
    properties:
      foo: {type: string}
`}, "/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := mustLoad(t, writeProject(t, c.files))
			r := d.Doc.Paths.Find(c.path).Get.Responses.Status(200)
			got := r.Value.Content.Get("application/json").Example
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("example = %#v, want %#v", got, want)
			}
			if d.Doc.Components != nil && d.Doc.Components.Schemas["Example"] != nil {
				t.Errorf("data-only definition Example kept as a schema")
			}
		})
	}
}

// TestLoadExampleRefErrors: unresolvable example references fail, and the
// leniency does not reach definitions that are not example data.
func TestLoadExampleRefErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{"missing definitions entry", map[string]string{"swagger.yaml": cookbookMockDef[:len(cookbookMockDef)-len("definitions:\n  Example:\n    foo: bar\n    baz: qux\n")]},
			[]string{"swagger.yaml:9:21 FP101"}, `definitions has no entry "Example"`},
		{"missing file", map[string]string{"swagger.yaml": cookbookMockFile}, []string{"swagger.yaml:9:21 FP103"}, `example file "example.json"`},
		{"file outside the project", map[string]string{"swagger.yaml": cookbookMockFile[:len(cookbookMockFile)-len("example.json\n")] + "../x.json\n"}, []string{"swagger.yaml:9:21 FP109"}, "outside"},
		{"file fragment", map[string]string{"swagger.yaml": cookbookMockFile[:len(cookbookMockFile)-len("example.json\n")] + "example.json#/a\n", "example.json": `{"a": 1}`}, []string{"swagger.yaml:9:21 FP101"}, "whole file"},
		{"remote example", map[string]string{"swagger.yaml": cookbookMockFile[:len(cookbookMockFile)-len("example.json\n")] + "https://example.com/x.json\n"}, []string{"swagger.yaml:9:21 FP101"}, "whole file"},
		{"other local pointer", map[string]string{"swagger.yaml": cookbookMockFile[:len(cookbookMockFile)-len("example.json\n")] + "\"#/responses/x\"\n"}, []string{"swagger.yaml:9:21 FP101"}, "whole file"},
		{"bad file", map[string]string{"swagger.yaml": cookbookMockFile, "example.json": "{"}, []string{"swagger.yaml:9:21 FP101"}, `example file "example.json"`},
		{"example data also used as a schema", map[string]string{"swagger.yaml": cookbookMockDef + `  Other:
    type: object
    properties:
      e: {$ref: "#/definitions/Example"}
`}, []string{"swagger.yaml:11:3 FP101", "swagger.yaml:14:3 FP101"}, "extra sibling fields"},
		{"unreferenced data definition", map[string]string{"swagger.yaml": cookbookMockDef + "  Stray:\n    foo: bar\n"}, []string{"swagger.yaml:14:3 FP101"}, `schema "Stray"`},
	})
}

// TestLoadCORSExtension: x-flat-cors loads (package cors enforces it) and
// reaches Doc.Extensions for Swagger 2.0 and OpenAPI 3.
func TestLoadCORSExtension(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"2.0": {"swagger.yaml": "swagger: \"2.0\"\nx-flat-cors:\n  allowed-origins: [\"https://a.example\"]\n  allow-credentials: true\npaths: {}\n"},
		"3.x": {"openapi.yaml": "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\nx-flat-cors:\n  allowed-origins: [\"https://a.example\"]\n  allow-credentials: true\npaths: {}\n"},
	} {
		t.Run(name, func(t *testing.T) {
			d := mustLoad(t, writeProject(t, files))
			want := map[string]any{"allowed-origins": []any{"https://a.example"}, "allow-credentials": true}
			if got := d.Doc.Extensions["x-flat-cors"]; !reflect.DeepEqual(got, want) {
				t.Fatalf("Doc.Extensions[x-flat-cors] = %#v, want %#v", got, want)
			}
		})
	}
}
