package flat

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/dom"
)

// podEnv is an environment like a Kubernetes pod's: a *_SERVICE_HOST and
// *_SERVICE_PORT pair per service in the namespace, and the app's own.
func podEnv(services int) []string {
	env := []string{"APP_NAME=demo"}
	for i := range services {
		env = append(env, fmt.Sprintf("SVC%d_SERVICE_HOST=10.0.%d.%d", i, i/256, i%256), fmt.Sprintf("SVC%d_SERVICE_PORT=80", i))
	}
	return append(env, "LAST=z", "APP_NAME=ignored") // a repeated name: the first wins
}

// envProject answers /api/env with what $env/NAME gives in a template
// (alone, in "??" chains, in a comparison) and /api/shadow with a flow
// variable named env hiding $env.
func envProject(t testing.TB, env []string) *Project {
	t.Helper()
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /env:\n    x-flat-flow: env.xml\n  /shadow:\n    x-flat-flow: shadow.xml\n",
		"env.xml": `<flow>
  <template>{
    "present": {{ $env/APP_NAME }},
    "last": {{ $env/LAST }},
    "absent": {{ $env/NOPE ?? "default" }},
    "chain": {{ $env/NOPE ?? $env/APP_NAME }},
    "service": {{ $env/SVC41_SERVICE_HOST }},
    "is-demo": {{ $env/APP_NAME = "demo" }},
    "exists": {{ boolean($env/NOPE) }}
  }</template>
</flow>`,
		"shadow.xml": `<flow>
  <template out="$env">{"APP_NAME": "shadow"}</template>
  <template>{ "present": {{ $env/APP_NAME }}, "absent": {{ $env/LAST ?? "hidden" }} }</template>
</flow>`,
	})
	p, errs := Load(dir, Options{Env: env, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	return p
}

// TestEnvMembers: $env/NAME, answered from the project's member index
// (run.MemberNode), gives what the walk over $env gives: present, absent,
// a repeated name's first value, and a flow variable named env hiding $env.
func TestEnvMembers(t *testing.T) {
	p := envProject(t, podEnv(100))
	for _, tc := range []struct{ path, want string }{
		{"/api/env", `{"absent":"default","chain":"demo","exists":false,"is-demo":true,"last":"z","present":"demo","service":"10.0.0.41"}`},
		{"/api/shadow", `{"absent":"hidden","present":"shadow"}`},
	} {
		req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: tc.path, ID: "env", BodyKnownEmpty: true}
		o := p.Run(context.Background(), req, &fakeHost{})
		var got map[string]any
		if err := json.Unmarshal(o.Body, &got); err != nil {
			t.Fatalf("%s: %d %s", tc.path, o.Status, o.Body)
		}
		b, _ := json.Marshal(got)
		if string(b) != tc.want {
			t.Errorf("%s = %s, want %s", tc.path, b, tc.want)
		}
	}
}

func TestMemberIndex(t *testing.T) {
	env := envNode([]string{"A=1", "B=2", "A=3"})
	idx := indexMembers(env)
	if n, ok := idx.lookup("A"); !ok || n == nil || n.StringValue() != "1" {
		t.Errorf("lookup(A) = %v, %v", n, ok)
	}
	if n, ok := idx.lookup("missing"); !ok || n != nil {
		t.Errorf("lookup(missing) = %v, %v; want nil, true", n, ok)
	}
	// Two children of one name (envNode dedups, a hand-built object need not).
	env.AppendChild(&dom.Node{Type: dom.ElementNode, Name: "B"})
	if _, ok := indexMembers(env).lookup("B"); ok {
		t.Error("lookup of a name two children share: ok, want the walk")
	}
}

// BenchmarkEnvMember reads $env/NAME from a template with a pod's
// environment (200 services: 401 variables).
func BenchmarkEnvMember(b *testing.B) {
	p := envProject(b, podEnv(200))
	req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: "/api/env", ID: "env", BodyKnownEmpty: true}
	b.ReportAllocs()
	for b.Loop() {
		o := p.Run(context.Background(), req, &fakeHost{})
		if o.Status != 200 {
			b.Fatal(o.Status)
		}
		if o.Recycle != nil {
			o.Recycle.Recycle()
		}
	}
}
