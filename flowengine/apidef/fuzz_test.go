package apidef

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzSegments is the pattern alphabet of FuzzMatch.
var fuzzSegments = []string{"a", "b", "ab", "", "{x}", "{y}", "v{n}", "{f}.json", "**", "%61", "c d", "{z}"}

var fuzzMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "get", "OPTIONS", "BREW"}

// fuzzDef builds a definition from spec: spec[0] picks the base path, then
// each pattern is one byte (segment count, operations) followed by one byte
// per segment.
func fuzzDef(spec []byte) *Definition {
	d := &Definition{}
	if len(spec) == 0 {
		return d
	}
	d.BasePath = []string{"", "/api", "/a", "/x%20y"}[spec[0]%4]
	d.BasePath = normalizeBase(d.BasePath)
	spec = spec[1:]
	for len(spec) > 0 && len(d.Paths) < 12 {
		head := spec[0]
		spec = spec[1:]
		n := int(head % 4)
		var b strings.Builder
		for i := 0; i < n && len(spec) > 0; i++ {
			b.WriteByte('/')
			b.WriteString(fuzzSegments[int(spec[0])%len(fuzzSegments)])
			spec = spec[1:]
		}
		pat := b.String()
		if pat == "" {
			pat = "/"
		}
		p := &Path{Pattern: pat, At: Pos{Line: len(d.Paths) + 1}}
		for i, m := range []string{"GET", "POST", "HEAD"} {
			if head>>(2+i)&1 == 1 {
				p.Ops = append(p.Ops, &Operation{Method: m})
			}
		}
		d.Paths = append(d.Paths, p)
	}
	d.r, _ = buildRouter(d.BasePath, d.Paths)
	return d
}

// refRoute is a straightforward reimplementation of the routing rules
// (router.go), used as the oracle of FuzzMatch.
func refRoute(d *Definition, method, path string) (kind MatchKind, pattern, endpoint, params string) {
	canon := canonicalPath(path)
	base := d.BasePath
	if base != "" && canon != base && !strings.HasPrefix(canon, base+"/") {
		return Outside, "", "", ""
	}
	rel := canon[len(base):]
	if rel == "" {
		rel = "/"
	}
	if rel[0] != '/' {
		return NotFound, "", path, ""
	}
	rs := strings.Split(rel[1:], "/")

	type cand struct {
		p    *Path
		segs []seg
		wild bool
	}
	var cands []cand
	shapes := map[string]bool{}
	for _, p := range d.Paths {
		segs, wild, err := parsePattern(p.Pattern)
		if err != nil {
			continue
		}
		for i := range segs {
			segs[i].lit, segs[i].prefix, segs[i].suffix = canonicalText(segs[i].lit), canonicalText(segs[i].prefix), canonicalText(segs[i].suffix)
		}
		if k := shape(segs, wild); shapes[k] {
			continue
		} else {
			shapes[k] = true
		}
		cands = append(cands, cand{p, segs, wild})
	}
	segOK := func(s seg, v string) bool {
		if s.kind == segLit {
			return s.lit == v
		}
		return len(v) > len(s.prefix)+len(s.suffix) && strings.HasPrefix(v, s.prefix) && strings.HasSuffix(v, s.suffix)
	}
	// less reports whether templated candidate a is preferred over b.
	less := func(a, b []seg) bool {
		la, lb := 0, 0
		for i := range a {
			if a[i].kind == segLit {
				la++
			}
			if b[i].kind == segLit {
				lb++
			}
		}
		if la != lb {
			return la > lb
		}
		for i := range a {
			x, y := a[i], b[i]
			if x.kind != y.kind {
				return x.kind == segLit
			}
			if x.kind == segLit {
				continue
			}
			if fx, fy := len(x.prefix)+len(x.suffix), len(y.prefix)+len(y.suffix); fx != fy {
				return fx > fy
			}
			if x.prefix != y.prefix {
				return x.prefix < y.prefix
			}
			if x.suffix != y.suffix {
				return x.suffix < y.suffix
			}
		}
		return false
	}
	var exact, tmpl, wild *cand
	for i := range cands {
		c := &cands[i]
		if c.wild {
			if len(rs) < len(c.segs) {
				continue
			}
			ok := true
			for j, s := range c.segs {
				ok = ok && s.lit == rs[j]
			}
			if ok && (wild == nil || len(c.segs) > len(wild.segs)) {
				wild = c
			}
			continue
		}
		if len(c.segs) != len(rs) {
			continue
		}
		ok, lit := true, true
		for j, s := range c.segs {
			ok = ok && segOK(s, rs[j])
			lit = lit && s.kind == segLit
		}
		switch {
		case !ok:
		case lit:
			exact = c
		case tmpl == nil || less(c.segs, tmpl.segs):
			tmpl = c
		}
	}
	best := exact
	if best == nil {
		best = tmpl
	}
	if best == nil {
		best = wild
	}
	if best == nil {
		return NotFound, "", path, ""
	}
	endpoint = path
	if best == wild {
		parts := strings.Split(path, "/")
		endpoint = strings.Join(parts[:min(len(parts), strings.Count(base, "/")+len(best.segs)+1)], "/")
	}
	if best == tmpl {
		var ps []string
		for j, s := range best.segs {
			if s.kind == segParam {
				v := rs[j][len(s.prefix) : len(rs[j])-len(s.suffix)]
				ps = append(ps, s.name+"="+unescape(v, false))
			}
		}
		params = strings.Join(ps, ",")
	}
	kind = Matched
	if len(best.p.Ops) > 0 {
		found := false
		for _, o := range best.p.Ops {
			found = found || o.Method == method
		}
		if !found && method == "HEAD" {
			for _, o := range best.p.Ops {
				found = found || o.Method == "GET"
			}
		}
		if !found {
			kind = NotFound
		}
	}
	return kind, best.p.Pattern, endpoint, params
}

func FuzzMatch(f *testing.F) {
	f.Add([]byte{1, 2, 0, 4, 3, 0, 8, 0, 1, 8, 1, 0}, "/api/a/b/c", uint8(0))
	f.Add([]byte{0, 3, 4, 1, 0, 3, 0, 5, 1, 2, 7, 0}, "/v1/x/y", uint8(1))
	f.Add([]byte{3, 2, 10, 8, 2, 9, 6}, "/x%20y/c%20d/z", uint8(2))
	f.Add([]byte{0, 1, 4, 1, 5, 2, 4, 4}, "/a%2Fb/b", uint8(3))
	f.Add([]byte{2, 0, 1, 11}, "/a", uint8(4))
	f.Fuzz(func(t *testing.T, spec []byte, path string, mi uint8) {
		d := fuzzDef(spec)
		method := fuzzMethods[int(mi)%len(fuzzMethods)]
		checkMatch(t, d, method, path)
		// The same bytes as a path made of likely segments.
		var b strings.Builder
		b.WriteString([]string{"", "/api", "/a", "/x%20y"}[int(mi)%4])
		for i := 0; i < len(path) && i < 6; i++ {
			b.WriteByte('/')
			b.WriteString(fuzzPathSegments[int(path[i])%len(fuzzPathSegments)])
		}
		checkMatch(t, d, method, b.String())
	})
}

var fuzzPathSegments = []string{"a", "b", "ab", "", "x.json", "v2", "c%20d", "%61", "a%2Fb", "v", ".json", "%zz", "c d"}

// checkMatch compares Match with the oracle refRoute.
func checkMatch(t *testing.T, d *Definition, method, path string) {
	t.Helper()
	m := d.Match(method, path)
	pattern := ""
	if m.Path != nil {
		pattern = m.Path.Pattern
	}
	kind, wantPattern, wantEndpoint, wantParams := refRoute(d, method, path)
	if m.Kind != kind || pattern != wantPattern || (kind != Outside && m.Endpoint != wantEndpoint) || fmtParams(m.Params) != wantParams {
		var pats []string
		for _, p := range d.Paths {
			pats = append(pats, p.Pattern)
		}
		t.Fatalf("base %q paths %q: %s %q\n got %v %q ep=%q params=%q\nwant %v %q ep=%q params=%q",
			d.BasePath, pats, method, path, m.Kind, pattern, m.Endpoint, fmtParams(m.Params), kind, wantPattern, wantEndpoint, wantParams)
	}
	if m.Kind != Outside && !strings.HasPrefix(path, m.Endpoint) {
		t.Fatalf("endpoint %q is not a prefix of %q", m.Endpoint, path)
	}
	if m.Kind == NotFound && m.Message == "" {
		t.Fatal("NotFound without message")
	}
}

func FuzzLoadYAML(f *testing.F) {
	for _, p := range []string{"testdata/v2/swagger.yaml", "testdata/v3/openapi.yaml", "testdata/slimline/swagger.yaml", "testdata/json/swagger.json", "testdata/config/defs/api.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "swagger: \"2.0\"\npaths:\n  /a/{id}/**:\n", "a: &a [*a]\n", "openapi: 3.1.0\npaths:\n  /a:\n    get:\n      parameters:\n        - {$ref: '#/x'}\n",
		"swagger: \"2.0\"\nx-flat-error: {flow: a.xml}\nx-flat-init: a.xml\npaths:\n  x-flat-proxy: {origin: o}\n  /a:\n    x-flat-flow: a.xml\n",
		"{\"swagger\":\"2.0\",\"paths\":{\"/x\":{\"get\":{\"responses\":{\"200\":{\"$ref\":\"#/responses/r\"}}}}}}",
		cookbookMockDef, cookbookMockFile, // example data references (slimdefs_test.go)
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.xml"), []byte("<flow/>"), 0o644); err != nil {
		f.Fatal(err)
	}
	def := filepath.Join(dir, "swagger.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(def, data, 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		d, errs := Load(dir)
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("Load took %v", el)
		}
		for _, e := range errs {
			if e.Code == "" || e.File == "" || e.Msg == "" {
				t.Fatalf("incomplete diagnostic %+v", e)
			}
		}
		if d == nil {
			return
		}
		d.Flows()
		for _, p := range []string{"/", "/a", "/api/a/b", "/x%2F/y"} {
			m := d.Match("GET", p)
			if m.Kind != Outside && !strings.HasPrefix(p, m.Endpoint) {
				t.Fatalf("endpoint %q of %q", m.Endpoint, p)
			}
		}
	})
}
