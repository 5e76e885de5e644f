package oasvalidate

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

// TestSchemaDialect checks which validator an OpenAPI 3.1 operation gets:
// the 3.0 one (compiled once) unless its schemas use 2020-12-only keywords.
func TestSchemaDialect(t *testing.T) {
	d, v := compileDir(t, "testdata/v31")
	for _, c := range []struct {
		method, path string
		want31       bool
	}{
		{"POST", "/items", false},
		{"POST", "/tuples", true},
	} {
		m := d.Match(c.method, c.path)
		op := v.Lookup(m.Path, m.Op)
		if got := op.route.Spec.IsOpenAPI31OrLater(); got != c.want31 {
			t.Errorf("%s %s: 2020-12 validator %v, want %v", c.method, c.path, got, c.want31)
		}
	}
	if d.Doc.OpenAPI != "3.1.0" {
		t.Errorf("the loaded document was changed: %s", d.Doc.OpenAPI)
	}
}

// TestConcurrent validates from several goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	d, v := compileDir(t, "testdata/v31")
	good := req(t, d, "POST /tuples", nil, "application/json", `{"kind":"tuple","pair":["a",2]}`)
	bad := req(t, d, "POST /items", nil, "application/json", `{"name":"a","price":0}`)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if r := v.ValidateRequest(bg, good); r.Error != nil {
					t.Error(describe(r))
				}
				if r := v.ValidateRequest(bg, bad); len(r.Error.Info) != 2 {
					t.Error(describe(r))
				}
			}
		}()
	}
	wg.Wait()
}

// TestCompileApidefFixtures compiles apidef's own fixture apps: every app
// that loads cleanly must compile cleanly, with one Op per route.
func TestCompileApidefFixtures(t *testing.T) {
	for _, dir := range []string{"v2", "v3", "json", "slimline"} {
		d, errs := apidef.Load(filepath.Join("..", "apidef", "testdata", dir))
		if len(errs) > 0 {
			t.Fatalf("%s: load: %v", dir, errs)
		}
		v, errs := Compile(d)
		if len(errs) > 0 {
			t.Errorf("%s: compile: %v", dir, errs)
			continue
		}
		n := 0
		for _, p := range d.Paths {
			n += max(len(p.Ops), 1)
		}
		if len(v.ops) != n {
			t.Errorf("%s: %d ops compiled, want %d", dir, len(v.ops), n)
		}
	}
}
