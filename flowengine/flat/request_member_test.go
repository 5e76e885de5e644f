package flat

import (
	"bytes"
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/template"
)

// treeOnlyScope is a run's scope without expr.MemberScope: templates
// evaluate $request/... over the tree.
type treeOnlyScope struct{ r *run }

func (s treeOnlyScope) Var(name string) (expr.Value, bool)        { return s.r.Var(name) }
func (s treeOnlyScope) TreeVar(name string) (expr.TreeNode, bool) { return s.r.TreeVar(name) }

// TestStringMemberMatchesTree checks that {{ $request/m }} answered by
// run.StringMember writes exactly what the tree gives, for every member
// (served or not) of several requests, and that the served ones do not
// build the tree.
func TestStringMemberMatchesTree(t *testing.T) {
	members := []string{"method", "purpose", "debug", "host", "port", "id", "url", "path", "query",
		"endpoint", "headers", "get", "post", "cookies", "params", "nope"}
	reqs := []struct {
		req                   *flowengine.Request
		path, query, endpoint string
	}{
		{&flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com:8443", Path: "/a/b?x=1&y=\"2\"", ID: "id-1"},
			"/a/b", "x=1&y=\"2\"", "/a/**"},
		{&flowengine.Request{Method: "POST", Authority: "localhost", Path: "/p", ID: "ü\\\"</"}, "/p", "", "/p"},
		{&flowengine.Request{Method: "DELETE", Scheme: "http", Authority: "[::1]:80", Path: "/", ID: ""}, "/", "", ""},
	}
	for _, rc := range reqs {
		for _, m := range members {
			tp, err := template.Parse(`[{{ $request/` + m + ` }}]`)
			if err != nil {
				t.Fatal(err)
			}
			run := func(member bool) (string, *run) {
				r := (&Project{}).newRun(context.Background(), rc.req, nil)
				r.x.ID = rc.req.ID
				r.reqPath, r.reqQuery, r.endpoint = rc.path, rc.query, rc.endpoint
				c := r.exprCtx(nil)
				if !member {
					c.Scope = treeOnlyScope{r}
				}
				var b bytes.Buffer
				if err := tp.Execute(c, &b); err != nil {
					t.Fatalf("%s: %v", m, err)
				}
				return b.String(), r
			}
			got, r := run(true)
			want, _ := run(false)
			if got != want {
				t.Errorf("%s %s: $request/%s via StringMember %s, via the tree %s", rc.req.Method, rc.req.Path, m, got, want)
			}
			if _, served := r.StringMember("request", m); served && r.reqDoc != nil {
				t.Errorf("$request/%s built the tree", m)
			}
		}
	}
}

// TestStringMemberHidden checks that a flow variable or a template local
// named request hides $request's members.
func TestStringMemberHidden(t *testing.T) {
	r := (&Project{}).newRun(context.Background(), &flowengine.Request{Method: "GET", Path: "/", ID: "rid"}, nil)
	if v, ok := r.StringMember("request", "id"); !ok || v != "rid" {
		t.Fatalf("StringMember = %q, %v", v, ok)
	}
	setJSONVar(t, r, "request", `{"id":"mine"}`)
	if _, ok := r.StringMember("request", "id"); ok {
		t.Error("a flow variable named request did not hide $request")
	}
	tp, err := template.Parse(`{{ $request/id }}`)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tp.Execute(r.exprCtx(nil), &b); err != nil || b.String() != `"mine"` {
		t.Errorf("template over the flow variable: %s, %v", b.String(), err)
	}

	r = (&Project{}).newRun(context.Background(), &flowengine.Request{Method: "GET", Path: "/", ID: "rid"}, nil)
	tp, err = template.Parse(`{{$request := "local"}}[{{ $request/id }}]`)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := tp.Execute(r.exprCtx(nil), &b); err != nil || b.String() != `[null]` {
		t.Errorf("template local named request: %s, %v", b.String(), err)
	}
}
