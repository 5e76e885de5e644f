package apidef

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// writeProject creates a project from name → content (directories are
// created; content "<flow/>" is a fine flow) and returns its directory.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustLoad loads dir and fails the test on any diagnostic.
func mustLoad(t testing.TB, dir string) *Definition {
	t.Helper()
	d, errs := Load(dir)
	if len(errs) > 0 || d == nil {
		t.Fatalf("Load(%s): %v", dir, errs)
	}
	return d
}

// rel returns p relative to dir with forward slashes.
func rel(dir, p string) string {
	r, err := filepath.Rel(dir, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

func refPath(dir string, r *Ref) string {
	if r == nil {
		return ""
	}
	return rel(dir, r.Path)
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLoadV2Fixture(t *testing.T) {
	dir := abs(t, "testdata/v2")
	d := mustLoad(t, dir)
	if d.Dir != dir || d.File != filepath.Join(dir, "swagger.yaml") {
		t.Errorf("Dir, File = %q, %q", d.Dir, d.File)
	}
	if d.Version != "2.0" || d.BasePath != "/api" {
		t.Errorf("Version, BasePath = %q, %q", d.Version, d.BasePath)
	}
	for _, c := range []struct {
		name string
		ref  *Ref
		want string
		line int
		col  int
	}{
		{"init", d.Init, "init.xml", 6, 14},
		{"error", d.ErrorFlow, "error.xml", 8, 9},
		{"default", d.DefaultFlow, "conf/flow.xml", 0, 0},
		{"fallback", d.Fallback, "fallback.xml", 22, 16},
	} {
		if got := refPath(dir, c.ref); got != c.want {
			t.Errorf("%s = %q, want %q", c.name, got, c.want)
			continue
		}
		if c.ref.At.Line != c.line || c.ref.At.Col != c.col {
			t.Errorf("%s at %d:%d, want %d:%d", c.name, c.ref.At.Line, c.ref.At.Col, c.line, c.col)
		}
	}
	if d.FallbackProxy != nil {
		t.Errorf("FallbackProxy = %s", d.FallbackProxy.JSON)
	}
	var pats []string
	for _, p := range d.Paths {
		pats = append(pats, p.Pattern)
	}
	want := []string{"/users", "/users/{id}", "/foo/qux", "/foo/{p1}", "/foo/**", "/**", "/ops"}
	if !slices.Equal(pats, want) {
		t.Errorf("paths = %q, want %q", pats, want)
	}
	users := d.Paths[0]
	if users.Flow != nil || len(users.Ops) != 2 || users.Ops[0].Method != "GET" || users.Ops[1].Method != "POST" ||
		refPath(dir, users.Ops[0].Flow) != "api/users.xml" || refPath(dir, users.Ops[1].Flow) != "api/create-user.xml" {
		t.Errorf("/users = %+v", users)
	}
	if users.At.Line != 23 || users.At.Col != 3 || users.Ops[1].At.Line != 29 {
		t.Errorf("/users at %+v, post at %+v", users.At, users.Ops[1].At)
	}
	byID := d.Paths[1]
	if refPath(dir, byID.Flow) != "api/user.xml" || len(byID.Ops) != 2 || byID.Ops[1].Method != "DELETE" || byID.Ops[1].Flow != nil {
		t.Errorf("/users/{id} = %+v", byID)
	}
	proxy := d.Paths[4].Proxy
	if proxy == nil {
		t.Fatal("/foo/** has no proxy")
	}
	wantJSON := `{"origin":"https://foo.example.com","stripEndpoint":true,"addPrefix":"/v4","headers":{"Correlation-ID":42},"options":{"timeout":2,"validate-response":"report-only"}}`
	if string(proxy.JSON) != wantJSON {
		t.Errorf("proxy JSON\n got %s\nwant %s", proxy.JSON, wantJSON)
	}
	if proxy.At.Line != 53 || proxy.At.Col != 5 {
		t.Errorf("proxy at %+v", proxy.At)
	}
	if op := d.Paths[6].Ops[0]; op.Proxy == nil || string(op.Proxy.JSON) != `{"url":"https://ops.example.com/x?a=b&c=d"}` {
		t.Errorf("/ops get proxy = %+v", op.Proxy)
	}
	var flows []string
	for _, r := range d.Flows() {
		flows = append(flows, refPath(dir, r))
	}
	wantFlows := []string{"init.xml", "error.xml", "conf/flow.xml", "fallback.xml", "api/users.xml",
		"api/create-user.xml", "api/user.xml", "api/qux.xml", "api/p1.xml"}
	if !slices.Equal(flows, wantFlows) {
		t.Errorf("Flows() = %q\nwant %q", flows, wantFlows)
	}
}

func TestLoadV3Fixture(t *testing.T) {
	dir := abs(t, "testdata/v3")
	d := mustLoad(t, dir)
	if d.Version != "3.0.3" || d.BasePath != "/v1/api" || d.File != filepath.Join(dir, "openapi.yaml") {
		t.Errorf("Version, BasePath, File = %q, %q, %q", d.Version, d.BasePath, d.File)
	}
	if refPath(dir, d.Init) != "init.xml" || d.ErrorFlow != nil || d.DefaultFlow != nil || d.Fallback != nil {
		t.Errorf("init %v error %v default %v fallback %v", d.Init, d.ErrorFlow, d.DefaultFlow, d.Fallback)
	}
	if d.FallbackProxy == nil || string(d.FallbackProxy.JSON) != `{"origin":"https://fallback.example.com"}` {
		t.Errorf("FallbackProxy = %+v", d.FallbackProxy)
	}
	a := d.Paths[0]
	if len(a.Ops) != 2 || a.Ops[1].Method != "TRACE" || refPath(dir, a.Ops[1].Flow) != "flows/b.xml" {
		t.Errorf("/a = %+v", a)
	}
	m := d.Match("GET", "/v1/api/c/x")
	if m.Kind != Matched || m.Path.Pattern != "/c/**" || m.Proxy != d.FallbackProxy || m.Endpoint != "/v1/api/c" {
		t.Errorf("match /c/x = %+v", m)
	}
	if m := d.Match("GET", "/v1/b"); m.Kind != Outside {
		t.Errorf("match outside = %+v", m)
	}
}

func TestLoadSlimline(t *testing.T) {
	dir := abs(t, "testdata/slimline")
	d := mustLoad(t, dir)
	if d.BasePath != "" || d.Version != "2.0" || len(d.Paths) != 3 {
		t.Fatalf("definition = %+v", d)
	}
	login := d.Paths[0]
	if len(login.Ops) != 2 || login.Ops[0].Method != "GET" || login.Ops[1].Method != "POST" {
		t.Errorf("/login ops = %+v", login.Ops)
	}
	for _, c := range []struct {
		method, path string
		kind         MatchKind
		flow         string
	}{
		{"GET", "/login", Matched, "login.xml"},
		{"POST", "/login", Matched, "login.xml"},
		{"PUT", "/login", NotFound, ""},
		{"PATCH", "/any", Matched, "login.xml"},
		{"GET", "/bare", Matched, ""},
		{"GET", "/nope", NotFound, ""},
	} {
		m := d.Match(c.method, c.path)
		if m.Kind != c.kind || refPath(dir, m.Flow) != c.flow {
			t.Errorf("%s %s = %v %q, want %v %q", c.method, c.path, m.Kind, refPath(dir, m.Flow), c.kind, c.flow)
		}
	}
}

func TestLoadSlimline3(t *testing.T) {
	d := mustLoad(t, writeProject(t, map[string]string{"openapi.yaml": `openapi: 3.1.0
paths:
  /login:
    get:
    post:
  /users/{id}:
    get:
      summary: undeclared path parameter, no responses
  /x/**:
  /bare:
  /p:
    get:
      responses: {}
`}))
	if d.Version != "3.1.0" || len(d.Paths) != 5 {
		t.Fatalf("definition = %+v", d)
	}
	runRoutes(t, d, []routeCase{
		{method: "POST", path: "/login", kind: Matched, pattern: "/login", endpoint: "/login", op: "POST"},
		{method: "GET", path: "/users/1", kind: Matched, pattern: "/users/{id}", endpoint: "/users/1", params: "id=1", op: "GET"},
		{method: "PUT", path: "/x/y", kind: Matched, pattern: "/x/**", endpoint: "/x"},
	})
}

func TestLoadExternalRefs(t *testing.T) {
	mustLoad(t, writeProject(t, map[string]string{
		"openapi.yaml":      "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /u:\n    get:\n      responses:\n        \"200\":\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: schemas/user.yaml}\n",
		"schemas/user.yaml": "type: object\n",
	}))
	mustLoad(t, writeProject(t, map[string]string{
		"swagger.yaml":   "swagger: \"2.0\"\npaths:\n  /u:\n    get:\n      responses:\n        200:\n          description: ok\n          schema: {$ref: defs/user.json}\n",
		"defs/user.json": `{"type": "object"}`,
	}))
}

func TestLoadConfigDefinitionSrc(t *testing.T) {
	dir := abs(t, "testdata/config")
	d := mustLoad(t, dir)
	if d.File != filepath.Join(dir, "defs", "api.yaml") || d.BasePath != "" {
		t.Errorf("File, BasePath = %q, %q", d.File, d.BasePath)
	}
	if m := d.Match("GET", "/hello"); m.Kind != Matched || refPath(dir, m.Flow) != "defs/flows/hello.xml" {
		t.Errorf("match = %+v", m)
	}
}

func TestLoadJSON(t *testing.T) {
	dir := abs(t, "testdata/json")
	d := mustLoad(t, dir)
	if d.File != filepath.Join(dir, "swagger.json") || d.BasePath != "/j" || refPath(dir, d.Fallback) != "a.xml" {
		t.Errorf("definition = %+v", d)
	}
	if d.Fallback.At.Line != 5 || d.Fallback.At.Col != 18 {
		t.Errorf("fallback at %+v", d.Fallback.At)
	}
}

func TestLoadDefinitionNames(t *testing.T) {
	doc := "swagger: \"2.0\"\npaths: {}\n"
	doc3 := "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths: {}\n"
	for _, c := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"swagger.yaml": doc, "openapi.yaml": doc3}, "swagger.yaml"},
		{map[string]string{"swagger.json": `{"swagger":"2.0"}`, "openapi.yaml": doc3}, "swagger.json"},
		{map[string]string{"openapi.yaml": doc3, "openapi.yml": doc3}, "openapi.yaml"},
		{map[string]string{"openapi.yml": doc3}, "openapi.yml"},
		{map[string]string{"openapi.json": `{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{}}`}, "openapi.json"},
		{map[string]string{"conf/config.xml": `<config><flat><definition src="../x/def.yaml"/></flat></config>`, "x/def.yaml": doc, "swagger.yaml": "broken: ["}, "x/def.yaml"},
		{map[string]string{"conf/config.xml": `<config><flat><validation request="false"/></flat></config>`, "swagger.yaml": doc}, "swagger.yaml"},
	} {
		dir := writeProject(t, c.files)
		d := mustLoad(t, dir)
		if got := rel(dir, d.File); got != c.want {
			t.Errorf("%v: definition %q, want %q", slices.Sorted(mapKeys(c.files)), got, c.want)
		}
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestLoadBasePathForms(t *testing.T) {
	v3 := func(servers string) string {
		return "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\n" + servers + "paths: {}\n"
	}
	for _, c := range []struct {
		name, doc, want string
	}{
		{"2.0 none", "swagger: \"2.0\"\n", ""},
		{"2.0 empty", "swagger: \"2.0\"\nbasePath: \"\"\n", ""},
		{"2.0 slash", "swagger: \"2.0\"\nbasePath: /\n", ""},
		{"2.0 plain", "swagger: \"2.0\"\nbasePath: /api\n", "/api"},
		{"2.0 trailing slash", "swagger: \"2.0\"\nbasePath: /api/\n", "/api"},
		{"2.0 deep", "swagger: \"2.0\"\nbasePath: /my/api/v2\n", "/my/api/v2"},
		{"2.0 escaped", "swagger: \"2.0\"\nbasePath: /my%20api\n", "/my api"},
		{"3.x none", v3(""), ""},
		{"3.x absolute", v3("servers: [{url: \"https://h.example.com/api/v1\"}]\n"), "/api/v1"},
		{"3.x host only", v3("servers: [{url: \"https://h.example.com\"}]\n"), ""},
		{"3.x host slash", v3("servers: [{url: \"https://h.example.com/\"}]\n"), ""},
		{"3.x relative", v3("servers: [{url: /api}]\n"), "/api"},
		{"3.x relative no slash", v3("servers: [{url: api/v2/}]\n"), "/api/v2"},
		{"3.x query", v3("servers: [{url: \"https://h/api?x=1\"}]\n"), "/api"},
		{"3.x first wins", v3("servers: [{url: /one}, {url: /two}]\n"), "/one"},
		{"3.x variables", v3("servers:\n- url: \"{scheme}://{host}/{v}/x\"\n  variables:\n    scheme: {default: https}\n    host: {default: h.example.com}\n    v: {default: v3, enum: [v2, v3]}\n"), "/v3/x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "swagger.yaml"
			if strings.HasPrefix(c.doc, "openapi") {
				name = "openapi.yaml"
			}
			d := mustLoad(t, writeProject(t, map[string]string{name: c.doc}))
			if d.BasePath != c.want {
				t.Errorf("BasePath = %q, want %q", d.BasePath, c.want)
			}
		})
	}
}

// TestLoadPlacements checks every x-flat-* placement through the effective
// flow that Match reports.
func TestLoadPlacements(t *testing.T) {
	flows := map[string]string{"op.xml": "<flow/>", "path.xml": "<flow/>", "paths.xml": "<flow/>", "top.xml": "<flow/>"}
	proj := func(doc string) map[string]string {
		m := map[string]string{"swagger.yaml": "swagger: \"2.0\"\n" + doc}
		for k, v := range flows {
			m[k] = v
		}
		return m
	}
	for _, c := range []struct {
		name, doc string
		flow      string // effective flow of GET /p
		proxy     string // effective proxy JSON of GET /p
	}{
		{"operation flow", "paths:\n  /p:\n    get:\n      x-flat-flow: op.xml\n", "op.xml", ""},
		{"path flow", "paths:\n  /p:\n    x-flat-flow: path.xml\n", "path.xml", ""},
		{"paths fallback", "paths:\n  x-flat-flow: paths.xml\n  /p:\n", "paths.xml", ""},
		{"top-level flow as fallback", "x-flat-flow: top.xml\npaths:\n  /p:\n", "top.xml", ""},
		{"paths fallback beats top-level", "x-flat-flow: top.xml\npaths:\n  x-flat-flow: paths.xml\n  /p:\n", "paths.xml", ""},
		{"operation beats path", "paths:\n  /p:\n    x-flat-flow: path.xml\n    get:\n      x-flat-flow: op.xml\n", "op.xml", ""},
		{"path beats fallback", "paths:\n  x-flat-flow: paths.xml\n  /p:\n    x-flat-flow: path.xml\n    get:\n", "path.xml", ""},
		{"operation proxy", "paths:\n  /p:\n    get:\n      x-flat-proxy: {origin: \"http://o\"}\n", "", `{"origin":"http://o"}`},
		{"path proxy", "paths:\n  /p:\n    x-flat-proxy: {url: \"http://u\"}\n", "", `{"url":"http://u"}`},
		{"paths proxy", "paths:\n  x-flat-proxy: {origin: \"http://f\"}\n  /p:\n", "", `{"origin":"http://f"}`},
		{"operation proxy beats path flow", "paths:\n  /p:\n    x-flat-flow: path.xml\n    get:\n      x-flat-proxy: {origin: \"http://o\"}\n", "", `{"origin":"http://o"}`},
		{"path flow beats paths proxy", "paths:\n  x-flat-proxy: {origin: \"http://f\"}\n  /p:\n    x-flat-flow: path.xml\n", "path.xml", ""},
		{"no flow at all", "paths:\n  /p:\n", "", ""},
		// x-flat-validate is enforced (and checked) by oasvalidate.
		{"validation on", "x-flat-validate: {request: true}\npaths:\n  /p:\n    get:\n      x-flat-validate: {response: report-only}\n", "", ""},
		{"disabled validation and CORS", "x-flat-validate: {request: false, response: false}\nx-flat-cors: false\npaths:\n  x-flat-validate: false\n  /p:\n    x-flat-validate: {response: false}\n    get:\n      x-flat-validate: {request: false}\n", "", ""},
		{"other x- keys ignored", "x-foo: 1\npaths:\n  x-bar: 2\n  /p:\n    x-baz: 3\n    get:\n      x-qux: 4\n", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeProject(t, proj(c.doc))
			d := mustLoad(t, dir)
			m := d.Match("GET", "/p")
			if m.Kind != Matched {
				t.Fatalf("GET /p: %+v", m)
			}
			proxy := ""
			if m.Proxy != nil {
				proxy = string(m.Proxy.JSON)
			}
			if got := refPath(dir, m.Flow); got != c.flow || proxy != c.proxy {
				t.Errorf("flow, proxy = %q, %q; want %q, %q", got, proxy, c.flow, c.proxy)
			}
		})
	}
}

// TestLoadInitErrorPlacement checks x-flat-init and x-flat-error.
func TestLoadInitErrorPlacement(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml":   "swagger: \"2.0\"\nx-flat-init: flows/init.xml\nx-flat-error:\n  flow: flows/err.xml\n",
		"flows/init.xml": "<flow/>", "flows/err.xml": "<flow/>",
	})
	d := mustLoad(t, dir)
	if refPath(dir, d.Init) != "flows/init.xml" || refPath(dir, d.ErrorFlow) != "flows/err.xml" {
		t.Errorf("init, error = %v, %v", d.Init, d.ErrorFlow)
	}
	if d.ErrorFlow.At != (Pos{File: d.File, Line: 4, Col: 9}) {
		t.Errorf("error flow at %+v", d.ErrorFlow.At)
	}
}

func TestFlowsDeduplicated(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nx-flat-init: a.xml\npaths:\n  x-flat-flow: ./a.xml\n  /p:\n    x-flat-flow: b.xml\n    get:\n      x-flat-flow: a.xml\n  /q:\n    x-flat-flow: sub/../b.xml\n",
		"a.xml":        "<flow/>", "b.xml": "<flow/>",
	})
	d := mustLoad(t, dir)
	var got []string
	for _, r := range d.Flows() {
		got = append(got, refPath(dir, r))
	}
	if !slices.Equal(got, []string{"a.xml", "b.xml"}) {
		t.Errorf("Flows() = %q", got)
	}
}

// errorCase is a project that must load with exactly the listed
// diagnostics, each "file:line:col CODE" (file relative to the project).
type errorCase struct {
	name  string
	files map[string]string
	want  []string
	msg   string // substring of the first diagnostic's message
}

func TestLoadErrors(t *testing.T) {
	const v2 = "swagger: \"2.0\"\n"
	flow := "<flow/>"
	cases := []errorCase{
		{"no definition", map[string]string{"README": "x"}, []string{".:0:0 FP100"}, "No FLAT app found in "},
		// Fail closed: features flowproc does not enforce yet are load errors (notenforced.go).
		{"config validation with if", map[string]string{"swagger.yaml": v2, "conf/config.xml": "<config><flat>\n  <validation request=\"true\" if=\"$server/role = 'dev'\"/></flat></config>"}, []string{"conf/config.xml:2:3 FP108"}, `conditional or dynamic config.xml settings are not supported`},
		{"config cors with an unknown attribute", map[string]string{"swagger.yaml": v2, "conf/config.xml": "<config><flat><cors origins=\"*\"/></flat></config>"}, []string{"conf/config.xml:1:15 FP107"}, `<cors> has no attribute "origins"`},
		{"config unknown setting", map[string]string{"swagger.yaml": v2, "conf/config.xml": "<config><flat><collect-request-info/></flat></config>"}, []string{"conf/config.xml:1:15 FP107"}, "unknown setting <collect-request-info>"},
		{"CORS on a path", map[string]string{"swagger.yaml": v2 + "paths:\n  /p:\n    x-flat-cors: {allowed-origins: \"*\"}\n"}, []string{"swagger.yaml:4:5 FP102"}, "x-flat-cors is not allowed on a path"},
		// x-flat-jwt is enforced by jwtauth; apidef only rejects it outside a security scheme.
		{"JWT at the top level", map[string]string{"swagger.yaml": v2 + "x-flat-jwt: {key: secret}\n"}, []string{"swagger.yaml:2:1 FP102"}, "x-flat-jwt belongs in a security scheme"},
		{"cookie name on an operation", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    get:\n      x-flat-cookiename: t\n"}, []string{"swagger.yaml:5:7 FP102"}, "x-flat-cookiename belongs in a security scheme"},
		{"no definition, config without src", map[string]string{"conf/config.xml": "<config/>"}, []string{".:0:0 FP100"}, "create swagger.yaml to start"},
		{"broken YAML", map[string]string{"swagger.yaml": v2 + "paths:\n  /a: [1\n  /b: 2\n"}, []string{"swagger.yaml:4:5 FP101"}, "invalid YAML"},
		{"YAML tab", map[string]string{"swagger.yaml": v2 + "paths:\n\t/a:\n"}, []string{"swagger.yaml:3:1 FP101"}, "invalid YAML"},
		{"empty file", map[string]string{"swagger.yaml": ""}, []string{"swagger.yaml:1:1 FP101"}, "Object required"},
		{"not an object", map[string]string{"swagger.yaml": "- a\n- b\n"}, []string{"swagger.yaml:1:1 FP101"}, "Object required"},
		{"no version", map[string]string{"swagger.yaml": "paths: {}\n"}, []string{"swagger.yaml:1:1 FP101"}, "missing version"},
		{"unquoted 2.0", map[string]string{"swagger.yaml": "swagger: 2.0\n"}, []string{"swagger.yaml:1:10 FP101"}, `quote it`},
		{"swagger 1.2", map[string]string{"swagger.yaml": "swagger: \"1.2\"\n"}, []string{"swagger.yaml:1:10 FP101"}, "unsupported swagger version"},
		{"openapi 2", map[string]string{"openapi.yaml": "openapi: \"2.0.0\"\n"}, []string{"openapi.yaml:1:10 FP101"}, "3.x version"},
		{"paths not a map", map[string]string{"swagger.yaml": v2 + "paths:\n  - /a\n"}, []string{"swagger.yaml:3:3 FP101"}, "paths must be an object"},
		{"path not a map", map[string]string{"swagger.yaml": v2 + "paths:\n  /a: flow.xml\n"}, []string{"swagger.yaml:3:7 FP101"}, `path "/a" must be an object`},
		{"operation not an object", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    get: x\n"}, []string{"swagger.yaml:4:10 FP101"}, "operation get of path \"/a\" must be an object"},
		{"duplicate key", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n  /a:\n"}, []string{"swagger.yaml:4:3 FP101"}, `duplicate key "/a" (first at line 3)`},
		{"missing flow file", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    x-flat-flow: nope.xml\n"}, []string{"swagger.yaml:4:18 FP103"}, `flow file "nope.xml" not found`},
		{"missing op flow", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    get:\n      x-flat-flow: api/nope.xml\n"}, []string{"swagger.yaml:5:20 FP103"}, "not found"},
		{"missing init", map[string]string{"swagger.yaml": v2 + "x-flat-init: init.xml\n"}, []string{"swagger.yaml:2:14 FP103"}, "not found"},
		{"flow is a directory", map[string]string{"swagger.yaml": v2 + "x-flat-init: dir\n", "dir/": ""}, []string{"swagger.yaml:2:14 FP103"}, "is a directory"},
		{"flow not a string", map[string]string{"swagger.yaml": v2 + "paths:\n  x-flat-flow: [a.xml]\n"}, []string{"swagger.yaml:3:16 FP102"}, "must be a flow file name, not a list"},
		{"flow empty", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    x-flat-flow:\n"}, []string{"swagger.yaml:4:17 FP102"}, "not null"},
		{"proxy and flow on path", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    x-flat-flow: f.xml\n    x-flat-proxy: {origin: \"http://o\"}\n", "f.xml": flow}, []string{"swagger.yaml:5:5 FP104"}, "cannot be combined with x-flat-flow (line 4)"},
		{"proxy and flow on operation", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    get:\n      x-flat-proxy: {origin: \"http://o\"}\n      x-flat-flow: f.xml\n", "f.xml": flow}, []string{"swagger.yaml:5:7 FP104"}, ""},
		{"proxy and flow under paths", map[string]string{"swagger.yaml": v2 + "paths:\n  x-flat-flow: f.xml\n  x-flat-proxy: {url: \"http://o\"}\n", "f.xml": flow}, []string{"swagger.yaml:4:3 FP104"}, ""},
		{"proxy without origin", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    x-flat-proxy: {stripEndpoint: true}\n"}, []string{"swagger.yaml:4:5 FP102"}, "needs origin or url"},
		{"proxy not an object", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    x-flat-proxy: http://o\n"}, []string{"swagger.yaml:4:19 FP102"}, "must be an object"},
		{"proxy origin not a string", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    x-flat-proxy:\n      origin: {a: 1}\n"}, []string{"swagger.yaml:5:7 FP102"}, "origin must be a non-empty string"},
		{"proxy at top level", map[string]string{"swagger.yaml": v2 + "x-flat-proxy: {origin: \"http://o\"}\n"}, []string{"swagger.yaml:2:1 FP102"}, "x-flat-proxy is not allowed at the top level"},
		{"x-flat-error is a string", map[string]string{"swagger.yaml": v2 + "x-flat-error: error.xml\n", "error.xml": flow}, []string{"swagger.yaml:2:15 FP102"}, "x-flat-error must be an object like {flow: error.xml}, not a string"},
		{"x-flat-error without flow", map[string]string{"swagger.yaml": v2 + "x-flat-error:\n  flwo: error.xml\n"}, []string{"swagger.yaml:2:1 FP102", "swagger.yaml:3:3 FP102"}, "needs a flow"},
		{"x-flat-error flow missing", map[string]string{"swagger.yaml": v2 + "x-flat-error:\n  flow: error.xml\n"}, []string{"swagger.yaml:3:9 FP103"}, ""},
		{"x-flat-init on a path", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    x-flat-init: i.xml\n", "i.xml": flow}, []string{"swagger.yaml:4:5 FP102"}, "x-flat-init is not allowed on a path (allowed at the top level)"},
		{"x-flat-error on an operation", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    get:\n      x-flat-error: {flow: e.xml}\n"}, []string{"swagger.yaml:5:7 FP102"}, "not allowed on an operation"},
		{"unknown extension", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    x-flat-flwo: a.xml\n"}, []string{"swagger.yaml:4:5 FP102"}, "unknown extension x-flat-flwo (known: x-flat-flow, "},
		{"unknown top-level extension", map[string]string{"swagger.yaml": v2 + "x-flat-foo: 1\n"}, []string{"swagger.yaml:2:1 FP102"}, "unknown extension x-flat-foo"},
		{"wildcard with param", map[string]string{"swagger.yaml": v2 + "paths:\n  /a/{id}/**:\n"}, []string{"swagger.yaml:3:3 FP105"}, "cannot be combined with the wildcard"},
		{"wildcard in the middle", map[string]string{"swagger.yaml": v2 + "paths:\n  /a/**/b:\n"}, []string{"swagger.yaml:3:3 FP105"}, "only allowed as the whole last segment"},
		{"wildcard in a segment", map[string]string{"swagger.yaml": v2 + "paths:\n  /a**:\n"}, []string{"swagger.yaml:3:3 FP105"}, "only allowed as the whole last segment"},
		{"unbalanced brace", map[string]string{"swagger.yaml": v2 + "paths:\n  /a/{id:\n"}, []string{"swagger.yaml:3:3 FP105"}, "unbalanced braces"},
		{"two params in a segment", map[string]string{"swagger.yaml": v2 + "paths:\n  /a/{x}-{y}:\n"}, []string{"swagger.yaml:3:3 FP105"}, "only one parameter per segment"},
		{"empty param", map[string]string{"swagger.yaml": v2 + "paths:\n  /a/{}:\n"}, []string{"swagger.yaml:3:3 FP105"}, "empty parameter name"},
		{"repeated param", map[string]string{"swagger.yaml": v2 + "paths:\n  /a/{x}/{x}:\n"}, []string{"swagger.yaml:3:3 FP105"}, "appears twice"},
		{"no leading slash", map[string]string{"swagger.yaml": v2 + "paths:\n  users:\n"}, []string{"swagger.yaml:3:3 FP105"}, "must start with /"},
		{"conflicting templates", map[string]string{"swagger.yaml": v2 + "paths:\n  /u/{a}:\n  /u/{b}:\n"}, []string{"swagger.yaml:4:3 FP105"}, `"/u/{b}" matches the same requests as "/u/{a}" (line 3)`},
		{"config src missing", map[string]string{"conf/config.xml": "<config>\n  <flat>\n    <definition src=\"api.yaml\"/>\n  </flat>\n</config>\n"}, []string{"conf/config.xml:3:22 FP103"}, `definition "api.yaml" not found`},
		{"config malformed", map[string]string{"conf/config.xml": "<config>\n<flat>\n</config>\n", "swagger.yaml": v2}, []string{"conf/config.xml:3:0 FP107"}, "not well-formed"},
		{"config empty src", map[string]string{"conf/config.xml": "<config><flat><definition src=\" \"/></flat></config>", "swagger.yaml": v2}, []string{"conf/config.xml:1:32 FP107"}, "empty"},
		{"2.0 invalid parameter", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    get:\n      parameters:\n        - {name: q, in: querx, type: string}\n"}, []string{"swagger.yaml:4:5 FP101"}, `parameter can't have 'in' value "querx"`},
		{"2.0 declared path param not in template", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, type: string}\n"}, []string{"swagger.yaml:4:5 FP101"}, "id"},
		{"2.0 unresolved $ref", map[string]string{"swagger.yaml": v2 + "paths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n          schema: {$ref: \"#/definitions/Nope\"}\n"}, []string{"swagger.yaml:8:26 FP101"}, "Nope"},
		{"2.0 bad schema type", map[string]string{"swagger.yaml": v2 + "definitions:\n  Foo:\n    type: objectx\n"}, []string{"swagger.yaml:3:3 FP101"}, `schema "Foo"`},
		{"3.x bad schema type", map[string]string{"openapi.yaml": "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        \"200\":\n          description: ok\n          content:\n            application/json:\n              schema:\n                type: objectx\n"}, []string{"openapi.yaml:11:17 FP101"}, `unsupported 'type' value "objectx"`},
		{"3.x missing external $ref", map[string]string{"openapi.yaml": "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /u:\n    get:\n      responses:\n        \"200\":\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: schemas/missing.yaml\n"}, []string{"openapi.yaml:12:23 FP103"}, "missing.yaml"},
		{"2.0 missing external $ref", map[string]string{"swagger.yaml": v2 + "paths:\n  /u:\n    get:\n      responses:\n        200:\n          description: ok\n          schema:\n            $ref: defs/missing.json\n"}, []string{"swagger.yaml:9:19 FP103"}, "missing.json"},
		{"3.x bad parameter", map[string]string{"openapi.yaml": "openapi: 3.1.0\npaths:\n  /a:\n    get:\n      parameters:\n        - name: q\n          in: querx\n"}, []string{"openapi.yaml:6:11 FP101"}, "querx"},
	}
	runErrorCases(t, cases)
}

// TestLoadSeveralErrors checks that one project reports all its errors.
func TestLoadSeveralErrors(t *testing.T) {
	runErrorCases(t, []errorCase{{
		name: "several",
		files: map[string]string{
			"swagger.yaml": `swagger: "2.0"
x-flat-init: missing-init.xml
x-flat-error: err.xml
x-flat-typo: 1
paths:
  /a/{id}/**:
  /b:
    x-flat-flow: b.xml
    x-flat-proxy: {origin: "http://o"}
  /c:
    get:
      x-flat-flow: missing-c.xml
`,
			"b.xml": "<flow/>",
		},
		want: []string{
			"swagger.yaml:2:14 FP103",
			"swagger.yaml:3:15 FP102",
			"swagger.yaml:4:1 FP102",
			"swagger.yaml:6:3 FP105",
			"swagger.yaml:9:5 FP104",
			"swagger.yaml:12:20 FP103",
		},
	}})
}

func runErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeProject(t, c.files)
			_, errs := Load(dir)
			var got []string
			for _, e := range errs {
				got = append(got, fmt.Sprintf("%s:%d:%d %s", rel(dir, e.File), e.Line, e.Col, e.Code))
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("diagnostics\n got %q\nwant %q\n%v", got, c.want, errs)
			}
			if c.msg != "" && !strings.Contains(errs[0].Msg, c.msg) {
				t.Errorf("message %q does not contain %q", errs[0].Msg, c.msg)
			}
			if s := errs.Error(); !strings.Contains(s, string(errs[0].Code)) {
				t.Errorf("List.Error() = %q", s)
			}
		})
	}
}

// TestDiagCodes pins the codes this package reports.
func TestDiagCodes(t *testing.T) {
	for code, want := range map[diag.Code]string{
		diag.NoDefinition: "FP100", diag.BadDefinition: "FP101", diag.BadExtension: "FP102",
		diag.MissingFile: "FP103", diag.ProxyAndFlow: "FP104", diag.BadPath: "FP105", diag.BadConfig: "FP107",
	} {
		if string(code) != want {
			t.Errorf("code %s, want %s", code, want)
		}
	}
}

// TestLoadAliasBomb checks that alias expansion cannot make Load explode,
// for both the 2.0 and the 3.x validation paths.
func TestLoadAliasBomb(t *testing.T) {
	bomb := "x-bomb:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += "  " + name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	for _, head := range []string{"swagger: \"2.0\"\n", "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\n"} {
		doc := head + bomb + "paths:\n  /p:\n    x-flat-proxy: {origin: \"http://o\", headers: *i}\n"
		dir := writeProject(t, map[string]string{"swagger.yaml": doc})
		_, errs := Load(dir) // must return, quickly
		found := false
		for _, e := range errs {
			found = found || e.Code == diag.BadExtension && strings.Contains(e.Msg, "too large")
		}
		if !found {
			t.Errorf("no BadExtension for the expanded x-flat-proxy: %v", errs)
		}
	}
}
