package mock

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

// load writes files into a temporary project and loads it.
func load(t *testing.T, files map[string]string) *apidef.Definition {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, errs := apidef.Load(dir)
	if len(errs) > 0 {
		t.Fatalf("Load: %v", errs)
	}
	return d
}

const swagger2 = `swagger: "2.0"
basePath: /api
paths:
  /cookbook:
    get:
      responses:
        200:
          examples:
            application/json:
              foo: bar
              baz: qux
  /ref:
    get:
      responses:
        200:
          examples:
            application/json:
              $ref: "#/definitions/Example"
  /file:
    get:
      responses:
        200:
          examples:
            application/json:
              $ref: example.json
  /multi:
    get:
      produces: [application/json, application/xml, text/plain]
      responses:
        200:
          description: ok
          examples:
            application/json: {format: json}
            application/xml: "<format>xml</format>"
            text/plain: plain
  /created:
    post:
      responses:
        400: {description: bad, examples: {application/json: {error: true}}}
        202: {description: later, examples: {application/json: {state: queued}}}
        201: {description: made, examples: {application/json: {id: 1}}}
  /schema:
    get:
      responses:
        200:
          description: ok
          schema: {$ref: "#/definitions/User"}
  /schema-example:
    get:
      responses:
        200:
          description: ok
          schema: {type: object, example: {from: schema}}
  /html:
    get:
      responses:
        200:
          examples: {application/json: {link: "<a href='x'>&</a>"}}
  /no-success:
    get:
      responses:
        404: {description: not found, examples: {application/json: {}}}
  /no-content:
    delete:
      responses:
        200: {description: done}
  /xml-object:
    get:
      produces: [application/xml]
      responses:
        200: {description: ok, examples: {application/xml: {not: a string}}}
  /slimline:
definitions:
  Example:
    foo: bar
    baz: qux
  User:
    type: object
    required: [id]
    properties:
      id: {type: integer, minimum: 1}
      name: {type: string, minLength: 8}
      email: {type: string, format: email}
      role: {type: string, enum: [admin, user]}
      tags: {type: array, items: {type: string}, minItems: 2}
      score: {type: number, minimum: 0, exclusiveMinimum: true, maximum: 10}
      active: {type: boolean}
      created: {type: string, format: date-time}
      nick: {type: string, default: bob}
`

func TestResponseSwagger2(t *testing.T) {
	d := load(t, map[string]string{"swagger.yaml": swagger2, "example.json": `{"from": "file"}`})
	cases := []struct {
		name, method, path, accept string
		status                     int
		ctype, body                string
		ok                         bool
	}{
		{"cookbook inline example", "GET", "/cookbook", "", 200, "application/json", `{"baz":"qux","foo":"bar"}`, true},
		{"cookbook $ref to definitions data", "GET", "/ref", "", 200, "application/json", `{"baz":"qux","foo":"bar"}`, true},
		{"cookbook $ref to a JSON file", "GET", "/file", "", 200, "application/json", `{"from":"file"}`, true},
		{"HEAD uses GET", "HEAD", "/cookbook", "", 200, "application/json", `{"baz":"qux","foo":"bar"}`, true},
		{"no Accept: application/json", "GET", "/multi", "", 200, "application/json", `{"format":"json"}`, true},
		{"*/*: application/json", "GET", "/multi", "*/*", 200, "application/json", `{"format":"json"}`, true},
		{"Accept xml: string example verbatim", "GET", "/multi", "application/xml", 200, "application/xml", `<format>xml</format>`, true},
		{"type wildcard", "GET", "/multi", "text/*", 200, "text/plain", `plain`, true},
		{"q values", "GET", "/multi", "application/json;q=0.2, text/plain;q=0.9", 200, "text/plain", `plain`, true},
		{"unknown first, acceptable second", "GET", "/multi", "text/html, application/xml;q=0.5", 200, "application/xml", `<format>xml</format>`, true},
		{"q=0 excludes json; rest by name", "GET", "/multi", "application/json;q=0, */*", 200, "application/xml", `<format>xml</format>`, true},
		{"nothing acceptable", "GET", "/multi", "image/png", 0, "", "", false},
		{"lowest 2xx when no 200", "POST", "/created", "", 201, "application/json", `{"id":1}`, true},
		{"generated from schema", "GET", "/schema", "", 200, "application/json",
			`{"active":true,"created":"1970-01-01T00:00:00Z","email":"user@example.com","id":1,"name":"stringxx","nick":"bob","role":"admin","score":0.5,"tags":["string","string"]}`, true},
		{"schema example", "GET", "/schema-example", "", 200, "application/json", `{"from":"schema"}`, true},
		{"no HTML escaping", "GET", "/html", "", 200, "application/json", `{"link":"<a href='x'>&</a>"}`, true},
		{"no 2xx response", "GET", "/no-success", "", 0, "", "", false},
		{"response without content: empty body", "DELETE", "/no-content", "", 200, "", "", true},
		{"non-string example for XML is not usable", "GET", "/xml-object", "", 0, "", "", false},
		{"slimline path has no operation", "GET", "/slimline", "", 0, "", "", false},
		{"undefined method", "PUT", "/cookbook", "", 0, "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := Operation(d.Doc, c.path, c.method)
			status, ctype, body, ok := Response(d.Doc, op, c.accept)
			if status != c.status || ctype != c.ctype || string(body) != c.body || ok != c.ok {
				t.Errorf("Response(%s %s, Accept %q)\n got %d %q %s %v\nwant %d %q %s %v", c.method, c.path, c.accept, status, ctype, body, ok, c.status, c.ctype, c.body, c.ok)
			}
			// Deterministic: the same answer every time.
			for range 5 {
				s2, c2, b2, ok2 := Response(d.Doc, op, c.accept)
				if s2 != status || c2 != ctype || string(b2) != string(body) || ok2 != ok {
					t.Fatalf("second answer differs: %d %q %s %v", s2, c2, b2, ok2)
				}
			}
		})
	}
}

const openapi3Doc = `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /named:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              examples:
                zeta: {value: {pick: zeta}}
                alpha: {value: {pick: alpha}}
  /component:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              examples:
                one: {$ref: "#/components/examples/One"}
  /literal-ref:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              example: {$ref: "#/components/examples/One"}
  /range:
    get:
      responses:
        2XX:
          description: ok
          content:
            application/problem+json:
              example: {title: range}
  /charset:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json; charset=utf-8:
              example: [1, 2]
  /wildcard:
    get:
      responses:
        "200":
          description: ok
          content:
            "*/*":
              example: {any: true}
  /tree:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Node"}
  /composed:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: "#/components/schemas/Base"}
                  - type: object
                    properties:
                      kind: {oneOf: [{type: integer, maximum: -3}, {type: string}]}
                      secret: {type: string, writeOnly: true}
                      maybe: {type: string, nullable: true, maxLength: 3}
components:
  examples:
    One: {value: {from: components}}
  schemas:
    Base:
      type: object
      properties:
        id: {type: string, format: uuid}
    Node:
      type: object
      properties:
        name: {type: string}
        children:
          type: array
          items: {$ref: "#/components/schemas/Node"}
`

func TestResponseOpenAPI3(t *testing.T) {
	d := load(t, map[string]string{"openapi.yaml": openapi3Doc})
	cases := []struct {
		name, path, accept string
		status             int
		ctype, body        string
	}{
		{"examples: first by name", "/named", "", 200, "application/json", `{"pick":"alpha"}`},
		{"examples $ref to components", "/component", "", 200, "application/json", `{"from":"components"}`},
		{"example {$ref} resolved against doc", "/literal-ref", "", 200, "application/json", `{"from":"components"}`},
		{"2XX range and +json", "/range", "application/*", 200, "application/problem+json", `{"title":"range"}`},
		{"content type with parameters", "/charset", "application/json", 200, "application/json; charset=utf-8", `[1,2]`},
		{"wildcard content key answers JSON", "/wildcard", "", 200, "application/json", `{"any":true}`},
		{"wildcard content key takes the accepted type", "/wildcard", "application/vnd.x+json", 200, "application/vnd.x+json", `{"any":true}`},
		{"allOf, oneOf, writeOnly, maxLength", "/composed", "", 200, "application/json", `{"id":"00000000-0000-0000-0000-000000000000","kind":-3,"maybe":"str"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, ctype, body, ok := Response(d.Doc, Operation(d.Doc, c.path, "GET"), c.accept)
			if !ok || status != c.status || ctype != c.ctype || string(body) != c.body {
				t.Errorf("got %d %q %s %v, want %d %q %s", status, ctype, body, ok, c.status, c.ctype, c.body)
			}
		})
	}
}

// TestRecursiveSchema: a recursive schema gives a finite value nested at
// most MaxDepth objects deep, the same every time.
func TestRecursiveSchema(t *testing.T) {
	d := load(t, map[string]string{"openapi.yaml": openapi3Doc})
	op := Operation(d.Doc, "/tree", "GET")
	_, _, body, ok := Response(d.Doc, op, "")
	if !ok {
		t.Fatal("no answer")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	depth := 0
	for n, ok := v.(map[string]any); ok; depth++ {
		if n["name"] != "string" && len(n) > 0 {
			t.Fatalf("node %v", n)
		}
		kids, _ := n["children"].([]any)
		if len(kids) == 0 {
			break
		}
		n, ok = kids[0].(map[string]any)
	}
	if depth < 2 || depth > MaxDepth {
		t.Errorf("nesting depth %d, want 2..%d", depth, MaxDepth)
	}
	_, _, again, _ := Response(d.Doc, op, "")
	if string(again) != string(body) {
		t.Error("not deterministic")
	}
}

func TestResponseNil(t *testing.T) {
	if _, _, _, ok := Response(nil, nil, ""); ok {
		t.Error("nil operation answered")
	}
	if Operation(nil, "/", "GET") != nil || Operation(&openapi3.T{}, "/", "GET") != nil {
		t.Error("Operation on an empty document")
	}
}
