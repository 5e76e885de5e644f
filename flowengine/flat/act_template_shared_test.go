package flat

import (
	"context"
	"sync"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// TestEnvTemplateShared: an <template out> that reads only $env is built
// by the first run that sees the project's environment and shared by the
// later ones, with the same answers; a flow variable named env, or a
// template that reads anything else, is rendered by every run.
func TestEnvTemplateShared(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /cfg:\n    x-flat-flow: cfg.xml\n  /shadow:\n    x-flat-flow: shadow.xml\n  /other/**:\n    x-flat-flow: other.xml\n",
		"cfg.xml": `<flow>
  <template out="$cfg">{"service": "hello", "stage": {{ $env/STAGE ?? "dev" }}, "n": {{ count($env/*) }}, "big": {{ $env/N > 3 }}{{if $env/STAGE = 'prod'}}, "prod": true{{end}}}</template>
  <template>{"cfg": {{ $cfg }}, "stage": {{ $cfg/stage }}}</template>
</flow>`,
		"shadow.xml": `<flow>
  <template out="$env">{"STAGE": "shadow"}</template>
  <template out="$cfg">{"stage": {{ $env/STAGE ?? "dev" }}}</template>
  <template>{{ $cfg }}</template>
</flow>`,
		"other.xml": `<flow>
  <template out="$cfg">{"stage": {{ $env/STAGE ?? "dev" }}, "path": {{ $request/path }}}</template>
  <template>{{ $cfg }}</template>
</flow>`,
	})
	p, errs := Load(dir, Options{Env: []string{"STAGE=prod", "N=5"}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	// run answers path and returns the body (keys sorted), the tree $cfg
	// holds and the run's recycling. A run is recycled only after the
	// comparison: a recycled run's arena would give the next run's own
	// tree the same address, as if it were shared.
	run := func(path string) (string, *oxn.Tree, func()) {
		t.Helper()
		req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: path, ID: "id", BodyKnownEmpty: true}
		o := p.Run(context.Background(), req, &fakeHost{})
		if o.Status != 200 || o.Recycle == nil {
			t.Fatalf("%s: %d %s", path, o.Status, o.Body)
		}
		r := o.Recycle.(*run)
		i := r.varIndex("cfg")
		if i < 0 || r.vars[i].doc == nil {
			t.Fatalf("%s: $cfg not a tree", path)
		}
		tree := r.vars[i].doc.Tree()
		body, err := compactJSON(string(o.Body))
		if err != nil {
			t.Fatalf("%s: %s: %v", path, o.Body, err)
		}
		return body, tree, o.Recycle.Recycle
	}
	for _, tc := range []struct {
		paths  []string
		want   []string
		shared bool
	}{
		{[]string{"/api/cfg", "/api/cfg"}, []string{
			`{"cfg":{"big":true,"n":2,"prod":true,"service":"hello","stage":"prod"},"stage":"prod"}`,
			`{"cfg":{"big":true,"n":2,"prod":true,"service":"hello","stage":"prod"},"stage":"prod"}`}, true},
		{[]string{"/api/shadow", "/api/shadow"}, []string{`{"stage":"shadow"}`, `{"stage":"shadow"}`}, false},
		{[]string{"/api/other/a", "/api/other/b"}, []string{`{"path":"/api/other/a","stage":"prod"}`, `{"path":"/api/other/b","stage":"prod"}`}, false},
	} {
		b1, t1, recycle1 := run(tc.paths[0])
		b2, t2, recycle2 := run(tc.paths[1])
		if b1 != tc.want[0] || b2 != tc.want[1] {
			t.Errorf("%s: bodies\n%s\n%s\nwant\n%s\n%s", tc.paths[0], b1, b2, tc.want[0], tc.want[1])
		}
		if (t1 == t2) != tc.shared {
			t.Errorf("%s: $cfg tree shared between runs %v, want %v", tc.paths[0], t1 == t2, tc.shared)
		}
		recycle1()
		recycle2()
		// The shared tree outlives the runs that read it: a later run
		// gets the same one.
		if tc.shared {
			if _, t3, recycle3 := run(tc.paths[0]); t3 != t1 {
				t.Errorf("%s: a run after recycling got another tree", tc.paths[0])
			} else {
				recycle3()
			}
		}
	}
	// Runs on every core read the shared tree at once (go test -race).
	want := `{"cfg":{"big":true,"n":2,"prod":true,"service":"hello","stage":"prod"},"stage":"prod"}`
	var wg sync.WaitGroup
	bad := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: "/api/cfg", ID: "id", BodyKnownEmpty: true}
				o := p.Run(context.Background(), req, &fakeHost{})
				body, err := compactJSON(string(o.Body))
				if err != nil || body != want {
					bad <- string(o.Body)
					return
				}
				if o.Recycle != nil {
					o.Recycle.Recycle()
				}
			}
		}()
	}
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Errorf("concurrent run answered %s", b)
	}
}
