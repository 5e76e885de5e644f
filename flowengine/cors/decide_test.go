package cors

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

const testDef = `swagger: "2.0"
basePath: /v1
x-flat-cors:
  allowed-origins:
    - "https://example.com"
    - "http://localhost:3000"
  allow-credentials: true
paths:
  /users:
    get: {}
  /items:
    get: {}
    post: {}
    delete: {}
  /opt:
    options: {}
    get: {}
  /any:
`

// load writes swagger.yaml into a temporary project, loads it and returns
// it with its x-flat-cors value decoded as kin-openapi decodes extensions
// (objects, lists, strings, booleans). x-flat-cors is taken out before
// apidef.Load: apidef rejects it (FP108) until the engine applies cors
// decisions; once it does, Doc.Extensions["x-flat-cors"] is this value.
func load(t testing.TB, def string) (*apidef.Definition, any) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(def), &doc); err != nil || len(doc.Content) == 0 {
		t.Fatalf("definition: %v", err)
	}
	var ext any
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "x-flat-cors" {
			if err := root.Content[i+1].Decode(&ext); err != nil {
				t.Fatal(err)
			}
			root.Content = append(root.Content[:i], root.Content[i+2:]...)
			break
		}
	}
	data, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "swagger.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	d, errs := apidef.Load(dir)
	if len(errs) > 0 {
		t.Fatalf("Load: %v", errs)
	}
	return d, ext
}

func TestDecide(t *testing.T) {
	d, ext := load(t, testDef)
	p, err := Compile(ext, nil)
	if err != nil {
		t.Fatal(err)
	}
	star, err := Compile(map[string]any{"allowed-origins": "*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const local = "http://localhost:3000"
	var (
		vary    = Header{Vary, "Origin"}
		creds   = Header{AllowCredentials, "true"}
		allowLo = Header{AllowOrigin, local}
	)
	cases := []struct {
		name   string
		p      *Policy
		method string
		path   string
		req    Request
		want   Decision
	}{
		{"preflight, allowed origin (FLAT docs)", p, "OPTIONS", "/v1/users", Request{Origin: local},
			Decision{true, 200, []Header{allowLo, creds, {AllowMethods, "GET"}}}},
		{"preflight, foreign origin: no Allow-Origin (FLAT docs)", p, "OPTIONS", "/v1/users", Request{Origin: "http://example.com:80"},
			Decision{true, 200, []Header{creds, {AllowMethods, "GET"}}}},
		{"preflight echoes requested headers", p, "OPTIONS", "/v1/users", Request{Origin: local, RequestMethod: "GET", RequestHeaders: "authorization, x-trace"},
			Decision{true, 200, []Header{allowLo, creds, {AllowMethods, "GET"}, {AllowHeaders, "authorization, x-trace"}}}},
		{"preflight lists the path's operations in file order", p, "OPTIONS", "/v1/items", Request{Origin: local, RequestMethod: "DELETE"},
			Decision{true, 200, []Header{allowLo, creds, {AllowMethods, "GET, POST, DELETE"}}}},
		{"preflight, slimline path: all methods", p, "OPTIONS", "/v1/any", Request{Origin: local, RequestMethod: "PUT"},
			Decision{true, 200, []Header{allowLo, creds, {AllowMethods, AllMethods}}}},
		{"origin compares case-insensitively and is reflected as sent", p, "OPTIONS", "/v1/users", Request{Origin: "HTTP://LOCALHOST:3000"},
			Decision{true, 200, []Header{{AllowOrigin, "HTTP://LOCALHOST:3000"}, creds, {AllowMethods, "GET"}}}},
		{"path with an OPTIONS operation: OPTIONS without request method is routed", p, "OPTIONS", "/v1/opt", Request{Origin: local},
			Decision{Headers: []Header{allowLo, creds, vary}}},
		{"path with an OPTIONS operation: real preflight answered", p, "OPTIONS", "/v1/opt", Request{Origin: local, RequestMethod: "GET"},
			Decision{true, 200, []Header{allowLo, creds, {AllowMethods, "OPTIONS, GET"}}}},
		{"OPTIONS without Origin is not a preflight", p, "OPTIONS", "/v1/users", Request{},
			Decision{Headers: []Header{vary}}},
		{"OPTIONS outside basePath: 405", p, "OPTIONS", "/other", Request{Origin: local, RequestMethod: "GET"},
			Decision{true, 405, []Header{allowLo, creds, vary}}},
		{"OPTIONS outside basePath without Origin: 405", p, "OPTIONS", "/", Request{},
			Decision{true, 405, []Header{vary}}},
		{"GET outside basePath goes to the default flow", p, "GET", "/other", Request{Origin: local},
			Decision{Headers: []Header{allowLo, creds, vary}}},
		{"preflight for an unknown path is left to routing (3204)", p, "OPTIONS", "/v1/nope", Request{Origin: local, RequestMethod: "GET"},
			Decision{Headers: []Header{allowLo, creds, vary}}},
		{"GET, allowed origin", p, "GET", "/v1/users", Request{Origin: "https://example.com"},
			Decision{Headers: []Header{{AllowOrigin, "https://example.com"}, creds, vary}}},
		{"GET, foreign origin: only Vary", p, "GET", "/v1/users", Request{Origin: "https://evil.example"},
			Decision{Headers: []Header{vary}}},
		{"GET without Origin: Vary (changelog 20210623)", p, "GET", "/v1/users", Request{},
			Decision{Headers: []Header{vary}}},
		{"undefined method: headers for the 3204 error", p, "PUT", "/v1/users", Request{Origin: local},
			Decision{Headers: []Header{allowLo, creds, vary}}},
		{"star reflects the origin", star, "GET", "/v1/users", Request{Origin: "https://any.example"},
			Decision{Headers: []Header{{AllowOrigin, "https://any.example"}, vary}}},
		{"star preflight without credentials", star, "OPTIONS", "/v1/users", Request{Origin: "https://any.example", RequestMethod: "GET"},
			Decision{true, 200, []Header{{AllowOrigin, "https://any.example"}, {AllowMethods, "GET"}}}},
		{"star does not match the null origin", star, "GET", "/v1/users", Request{Origin: "null"},
			Decision{Headers: []Header{vary}}},
		{"CORS disabled: nothing", nil, "OPTIONS", "/other", Request{Origin: local, RequestMethod: "GET"},
			Decision{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.Method = c.method
			got := c.p.Decide(c.req, d.Match(c.method, c.path))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Decide(%s %s %+v)\n got %+v\nwant %+v", c.method, c.path, c.req, got, c.want)
			}
		})
	}
}

func TestNullOriginListed(t *testing.T) {
	p, err := Compile(map[string]any{"allowed-origins": []any{"null"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Header{{AllowOrigin, "null"}, {Vary, "Origin"}}
	if got := p.Headers("null"); !reflect.DeepEqual(got, want) {
		t.Errorf("Headers(null) = %v, want %v", got, want)
	}
}
