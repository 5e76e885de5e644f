package apidef

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// defFrom loads a Swagger 2.0 document given as its lines after the
// version line.
func defFrom(t testing.TB, lines ...string) *Definition {
	t.Helper()
	doc := "swagger: \"2.0\"\n" + strings.Join(lines, "\n") + "\n"
	return mustLoad(t, writeProject(t, map[string]string{"swagger.yaml": doc}))
}

// routeCase is one request and what Match must say about it.
type routeCase struct {
	method, path string
	kind         MatchKind
	pattern      string // matched path ("" for none)
	endpoint     string
	params       string // "name=value,…"
	op           string // matched operation method ("" for none)
	msg          string // NotFound message
}

func fmtParams(ps []Param) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name+"="+p.Value)
	}
	return strings.Join(s, ",")
}

func runRoutes(t *testing.T, d *Definition, cases []routeCase) {
	t.Helper()
	for _, c := range cases {
		method := c.method
		if method == "" {
			method = "GET"
		}
		m := d.Match(method, c.path)
		pattern, op := "", ""
		if m.Path != nil {
			pattern = m.Path.Pattern
		}
		if m.Op != nil {
			op = m.Op.Method
		}
		got := fmt.Sprintf("%v %q ep=%q params=%q op=%q msg=%q", m.Kind, pattern, m.Endpoint, fmtParams(m.Params), op, m.Message)
		want := fmt.Sprintf("%v %q ep=%q params=%q op=%q msg=%q", c.kind, c.pattern, c.endpoint, c.params, c.op, c.msg)
		if got != want {
			t.Errorf("%s %s\n got %s\nwant %s", method, c.path, got, want)
		}
		if m.Kind == Matched && !strings.HasPrefix(c.path, m.Endpoint) {
			t.Errorf("%s %s: endpoint %q is not a prefix", method, c.path, m.Endpoint)
		}
	}
}

// TestRouteEndpointTable is FLAT docs: $request's $request/endpoint table.
func TestRouteEndpointTable(t *testing.T) {
	d := defFrom(t, "basePath: /api", "paths:", "  /foo/qux:", "  /foo/{p1}:", "  /foo/**:", "  /**:")
	runRoutes(t, d, []routeCase{
		{path: "/api/foo/qux", kind: Matched, pattern: "/foo/qux", endpoint: "/api/foo/qux"},
		{path: "/api/foo/quuux", kind: Matched, pattern: "/foo/{p1}", endpoint: "/api/foo/quuux", params: "p1=quuux"},
		{path: "/api/foo/bar/qux", kind: Matched, pattern: "/foo/**", endpoint: "/api/foo"},
		{path: "/api/bar", kind: Matched, pattern: "/**", endpoint: "/api"},
	})
}

func TestRoutePrecedence(t *testing.T) {
	d := defFrom(t, "paths:",
		"  /foo:", "  /foo/bar/**:", "  /foo/**:", "  /**:", // OpenAPI/differences.md example
		"  /users/me:", "  /users/{id}:", "  /users/**:",
		"  /a/{x}/c:", "  /{y}/b/c:", "  /a/{z}/{w}:", "  /{u}/b/d:",
		"  /f/{name}.json:", "  /f/{id}:", "  /f/v{n}:", "  /f/{stem}.tar.gz:",
		"  /g/b/x:", "  /g/{y}/c:",
	)
	runRoutes(t, d, []routeCase{
		// exact > templated > wildcard; longest wildcard; order irrelevant
		{path: "/foo", kind: Matched, pattern: "/foo", endpoint: "/foo"},
		{path: "/foo/bar", kind: Matched, pattern: "/foo/bar/**", endpoint: "/foo/bar"},
		{path: "/foo/bar/", kind: Matched, pattern: "/foo/bar/**", endpoint: "/foo/bar"},
		{path: "/foo/bar/1", kind: Matched, pattern: "/foo/bar/**", endpoint: "/foo/bar"},
		{path: "/foo/bar/x/y", kind: Matched, pattern: "/foo/bar/**", endpoint: "/foo/bar"},
		{path: "/foo/bar1", kind: Matched, pattern: "/foo/**", endpoint: "/foo"},
		{path: "/foo/qux", kind: Matched, pattern: "/foo/**", endpoint: "/foo"},
		{path: "/foo/", kind: Matched, pattern: "/foo/**", endpoint: "/foo"},
		{path: "/foox", kind: Matched, pattern: "/**", endpoint: ""},
		{path: "/bar", kind: Matched, pattern: "/**", endpoint: ""},
		{path: "/", kind: Matched, pattern: "/**", endpoint: ""},
		{path: "/users/me", kind: Matched, pattern: "/users/me", endpoint: "/users/me"},
		{path: "/users/42", kind: Matched, pattern: "/users/{id}", endpoint: "/users/42", params: "id=42"},
		{path: "/users/42/x", kind: Matched, pattern: "/users/**", endpoint: "/users"},
		{path: "/users/", kind: Matched, pattern: "/users/**", endpoint: "/users"}, // a parameter is never empty
		{path: "/users", kind: Matched, pattern: "/users/**", endpoint: "/users"},
		// templated tie-breaks: more literal segments, then leftmost literal
		{path: "/a/b/c", kind: Matched, pattern: "/a/{x}/c", endpoint: "/a/b/c", params: "x=b"},
		{path: "/q/b/c", kind: Matched, pattern: "/{y}/b/c", endpoint: "/q/b/c", params: "y=q"},
		{path: "/a/b/d", kind: Matched, pattern: "/{u}/b/d", endpoint: "/a/b/d", params: "u=a"},
		{path: "/a/q/d", kind: Matched, pattern: "/a/{z}/{w}", endpoint: "/a/q/d", params: "z=q,w=d"},
		// parameters with literal prefix/suffix: more fixed text first
		{path: "/f/x.json", kind: Matched, pattern: "/f/{name}.json", endpoint: "/f/x.json", params: "name=x"},
		{path: "/f/x.tar.gz", kind: Matched, pattern: "/f/{stem}.tar.gz", endpoint: "/f/x.tar.gz", params: "stem=x"},
		{path: "/f/v2", kind: Matched, pattern: "/f/v{n}", endpoint: "/f/v2", params: "n=2"},
		{path: "/f/v", kind: Matched, pattern: "/f/{id}", endpoint: "/f/v", params: "id=v"},
		{path: "/f/.json", kind: Matched, pattern: "/f/{id}", endpoint: "/f/.json", params: "id=.json"},
		// backtracking out of a literal dead end
		{path: "/g/b/x", kind: Matched, pattern: "/g/b/x", endpoint: "/g/b/x"},
		{path: "/g/b/c", kind: Matched, pattern: "/g/{y}/c", endpoint: "/g/b/c", params: "y=b"},
	})
}

func TestRouteNoWildcardNotFound(t *testing.T) {
	d := defFrom(t, "basePath: /v1", "paths:", "  /users:", "  /users/{id}:", "  /dashboard:")
	runRoutes(t, d, []routeCase{
		{path: "/v1/users", kind: Matched, pattern: "/users", endpoint: "/v1/users"},
		{path: "/v1/dashboard", kind: Matched, pattern: "/dashboard", endpoint: "/v1/dashboard"},
		// OpenAPI/routing.md: undefined paths
		{path: "/v1", kind: NotFound, endpoint: "/v1", msg: "Path /v1 not found."},
		{path: "/v1/users/too/long", kind: NotFound, endpoint: "/v1/users/too/long", msg: "Path /v1/users/too/long not found."},
		{path: "/users", kind: Outside},
		// trailing slash is a different path
		{path: "/v1/users/", kind: NotFound, endpoint: "/v1/users/", msg: "Path /v1/users/ not found."},
		{path: "/v1/dashboard/", kind: NotFound, endpoint: "/v1/dashboard/", msg: "Path /v1/dashboard/ not found."},
		// case-sensitive, no normalization
		{path: "/v1/Users", kind: NotFound, endpoint: "/v1/Users", msg: "Path /v1/Users not found."},
		{path: "/v1//users", kind: NotFound, endpoint: "/v1//users", msg: "Path /v1//users not found."},
		{path: "/v1/./users", kind: NotFound, endpoint: "/v1/./users", msg: "Path /v1/./users not found."},
	})
}

func TestRouteBasePath(t *testing.T) {
	d := defFrom(t, "basePath: /api", "paths:", "  /:", "  /x:")
	runRoutes(t, d, []routeCase{
		{path: "/api", kind: Matched, pattern: "/", endpoint: "/api"}, // BasePath itself is routed as "/"
		{path: "/api/", kind: Matched, pattern: "/", endpoint: "/api/"},
		{path: "/api/x", kind: Matched, pattern: "/x", endpoint: "/api/x"},
		{path: "/apix", kind: Outside},
		{path: "/apix/x", kind: Outside},
		{path: "/ap", kind: Outside},
		{path: "/", kind: Outside},
		{path: "", kind: Outside},
		{path: "/API/x", kind: Outside},
		{path: "/x", kind: Outside},
	})
	deep := defFrom(t, "basePath: /my/api", "paths:", "  /**:")
	runRoutes(t, deep, []routeCase{
		{path: "/my/api", kind: Matched, pattern: "/**", endpoint: "/my/api"},
		{path: "/my/api/a/b", kind: Matched, pattern: "/**", endpoint: "/my/api"},
		{path: "/my/apis", kind: Outside},
		{path: "/my", kind: Outside},
	})
	if m := deep.Match("GET", "/other"); m.Flow != nil || m.Kind != Outside {
		t.Errorf("outside without conf/flow.xml: %+v", m)
	}
}

func TestRouteOutsideDefaultFlow(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\nx-flat-init: init.xml\n", "init.xml": "<flow/>", "conf/flow.xml": "<flow/>",
	})
	d := mustLoad(t, dir)
	m := d.Match("GET", "/index.html")
	if m.Kind != Outside || m.Flow != d.DefaultFlow || refPath(dir, m.Flow) != "conf/flow.xml" {
		t.Errorf("outside = %+v", m)
	}
	if m := d.Match("GET", "/api/x"); m.Kind != NotFound || m.Flow != nil {
		t.Errorf("inside = %+v", m)
	}
}

func TestRouteMethods(t *testing.T) {
	d := defFrom(t, "basePath: /api", "paths:",
		"  /r:", "    get:", "    post:",
		"  /h:", "    head:", "    put:",
		"  /any:",
		"  /t/{id}:", "    delete:",
		"  /w/**:", "    patch:",
	)
	runRoutes(t, d, []routeCase{
		{method: "GET", path: "/api/r", kind: Matched, pattern: "/r", endpoint: "/api/r", op: "GET"},
		{method: "POST", path: "/api/r", kind: Matched, pattern: "/r", endpoint: "/api/r", op: "POST"},
		{method: "PUT", path: "/api/r", kind: NotFound, pattern: "/r", endpoint: "/api/r", msg: "Operation PUT /api/r not found."},
		{method: "HEAD", path: "/api/r", kind: Matched, pattern: "/r", endpoint: "/api/r", op: "GET"}, // HEAD → GET
		{method: "OPTIONS", path: "/api/r", kind: NotFound, pattern: "/r", endpoint: "/api/r", msg: "Operation OPTIONS /api/r not found."},
		{method: "get", path: "/api/r", kind: NotFound, pattern: "/r", endpoint: "/api/r", msg: "Operation get /api/r not found."}, // case-sensitive
		{method: "HEAD", path: "/api/h", kind: Matched, pattern: "/h", endpoint: "/api/h", op: "HEAD"},
		{method: "GET", path: "/api/h", kind: NotFound, pattern: "/h", endpoint: "/api/h", msg: "Operation GET /api/h not found."},
		{method: "BREW", path: "/api/any", kind: Matched, pattern: "/any", endpoint: "/api/any"}, // slimline: any method
		{method: "DELETE", path: "/api/t/7", kind: Matched, pattern: "/t/{id}", endpoint: "/api/t/7", params: "id=7", op: "DELETE"},
		{method: "GET", path: "/api/t/7", kind: NotFound, pattern: "/t/{id}", endpoint: "/api/t/7", params: "id=7", msg: "Operation GET /api/t/7 not found."},
		{method: "PATCH", path: "/api/w/a/b", kind: Matched, pattern: "/w/**", endpoint: "/api/w", op: "PATCH"},
		{method: "GET", path: "/api/w/a/b", kind: NotFound, pattern: "/w/**", endpoint: "/api/w", msg: "Operation GET /api/w/a/b not found."},
	})
	// NotFound for an operation still names the path.
	if m := d.Match("PUT", "/api/r"); m.Path == nil || m.Path.Pattern != "/r" || m.Op != nil {
		t.Errorf("operation not found: %+v", m)
	}
}

func TestRoutePercentDecoding(t *testing.T) {
	d := defFrom(t, "basePath: /my api", "paths:",
		"  /users/{id}:", "  /café:", "  /a%2Fb:", "  /files/{name}.json:", "  /s p/**:", "  /x/{a}/{b}:")
	runRoutes(t, d, []routeCase{
		{path: "/my%20api/users/a%2Fb%20c", kind: Matched, pattern: "/users/{id}", endpoint: "/my%20api/users/a%2Fb%20c", params: "id=a/b c"},
		{path: "/my%20api/users/%E2%82%AC", kind: Matched, pattern: "/users/{id}", endpoint: "/my%20api/users/%E2%82%AC", params: "id=€"},
		{path: "/my%20api/users/100%25", kind: Matched, pattern: "/users/{id}", endpoint: "/my%20api/users/100%25", params: "id=100%"},
		{path: "/my%20api/users/%252F", kind: Matched, pattern: "/users/{id}", endpoint: "/my%20api/users/%252F", params: "id=%2F"},
		{path: "/my%20api/users/50%", kind: Matched, pattern: "/users/{id}", endpoint: "/my%20api/users/50%", params: "id=50%"},
		{path: "/my%20api/users/%zz", kind: Matched, pattern: "/users/{id}", endpoint: "/my%20api/users/%zz", params: "id=%zz"},
		{path: "/my%20api/users/a+b", kind: Matched, pattern: "/users/{id}", endpoint: "/my%20api/users/a+b", params: "id=a+b"},
		{path: "/my api/users/x", kind: Matched, pattern: "/users/{id}", endpoint: "/my api/users/x", params: "id=x"},
		{path: "/my%20api/caf%C3%A9", kind: Matched, pattern: "/café", endpoint: "/my%20api/caf%C3%A9"},
		{path: "/my%20api/caf%c3%a9", kind: Matched, pattern: "/café", endpoint: "/my%20api/caf%c3%a9"},
		{path: "/my%20api/a%2fb", kind: Matched, pattern: "/a%2Fb", endpoint: "/my%20api/a%2fb"},
		{path: "/my%20api/a/b", kind: NotFound, endpoint: "/my%20api/a/b", msg: "Path /my%20api/a/b not found."},
		{path: "/my%20api/files/r%C3%A9sum%C3%A9.json", kind: Matched, pattern: "/files/{name}.json", endpoint: "/my%20api/files/r%C3%A9sum%C3%A9.json", params: "name=résumé"},
		{path: "/my%20api/files/x%2Ejson", kind: Matched, pattern: "/files/{name}.json", endpoint: "/my%20api/files/x%2Ejson", params: "name=x"},
		{path: "/my%20api/s%20p/x%2Fy/z", kind: Matched, pattern: "/s p/**", endpoint: "/my%20api/s%20p"},
		{path: "/my%20api/x/%41/%2F", kind: Matched, pattern: "/x/{a}/{b}", endpoint: "/my%20api/x/%41/%2F", params: "a=A,b=/"},
		{path: "/my%2Fapi/users/x", kind: Outside},
	})
}

func TestRouteEffectiveFlowAndProxy(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml": `swagger: "2.0"
paths:
  x-flat-flow: fb.xml
  /p:
    x-flat-flow: p.xml
    get:
      x-flat-flow: get.xml
    post:
      x-flat-proxy: {origin: "http://post"}
    put:
  /q:
    x-flat-proxy: {origin: "http://q"}
    get:
  /r:
`,
		"fb.xml": "<flow/>", "p.xml": "<flow/>", "get.xml": "<flow/>",
	})
	d := mustLoad(t, dir)
	for _, c := range []struct{ method, path, flow, proxy string }{
		{"GET", "/p", "get.xml", ""},
		{"POST", "/p", "", `{"origin":"http://post"}`},
		{"PUT", "/p", "p.xml", ""},
		{"GET", "/q", "", `{"origin":"http://q"}`},
		{"GET", "/r", "fb.xml", ""},
	} {
		m := d.Match(c.method, c.path)
		proxy := ""
		if m.Proxy != nil {
			proxy = string(m.Proxy.JSON)
		}
		if refPath(dir, m.Flow) != c.flow || proxy != c.proxy {
			t.Errorf("%s %s: flow %q proxy %q, want %q %q", c.method, c.path, refPath(dir, m.Flow), proxy, c.flow, c.proxy)
		}
	}
}

// TestRouteOrderIrrelevant loads the same paths in two orders.
func TestRouteOrderIrrelevant(t *testing.T) {
	paths := []string{"  /a/**:", "  /a/b/**:", "  /a/{x}:", "  /a/b:", "  /{y}/b:", "  /**:", "  /a/{x}/c:", "  /{z}/{w}/c:"}
	rev := slices.Clone(paths)
	slices.Reverse(rev)
	d1 := defFrom(t, append([]string{"paths:"}, paths...)...)
	d2 := defFrom(t, append([]string{"paths:"}, rev...)...)
	for _, p := range []string{"/a", "/a/b", "/a/c", "/q/b", "/a/b/c", "/a/x/c", "/q/x/c", "/a/b/c/d", "/z", "/"} {
		m1, m2 := d1.Match("GET", p), d2.Match("GET", p)
		if m1.Path.Pattern != m2.Path.Pattern || m1.Endpoint != m2.Endpoint || fmtParams(m1.Params) != fmtParams(m2.Params) {
			t.Errorf("%s: %s vs %s", p, m1.Path.Pattern, m2.Path.Pattern)
		}
	}
}

func TestMatchKindString(t *testing.T) {
	for k, want := range map[MatchKind]string{Matched: "Matched", Outside: "Outside", NotFound: "NotFound", 7: "MatchKind(?)"} {
		if k.String() != want {
			t.Errorf("%d: %q", k, k.String())
		}
	}
}

func TestMatchAllocations(t *testing.T) {
	d := benchDef(t)
	for _, c := range []struct {
		path string
		want float64
	}{
		{"/api/v1/users", 0},
		{"/api/v1/static/css/site.css", 0},
		{"/outside", 0},
		{"/api/v1/users/42/orders/7", 1}, // the Params slice
	} {
		if n := testing.AllocsPerRun(100, func() { d.Match("GET", c.path) }); n != c.want {
			t.Errorf("%s: %v allocs, want %v", c.path, n, c.want)
		}
	}
}
