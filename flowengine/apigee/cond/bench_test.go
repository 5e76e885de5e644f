package cond

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

var benchVars = flowvar.Map{
	"proxy.pathsuffix":      "/users/12345",
	"request.verb":          "GET",
	"response.status.code":  404,
	"data.request.limit":    "99",
	"request.header.accept": "application/json",
}

// BenchmarkEval is the brief's target: < 200 ns and 0 allocs.
func BenchmarkEval(b *testing.B) {
	e := MustParse(`(proxy.pathsuffix MatchesPath "/users/*") and (request.verb = "GET")`)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := e.Eval(benchVars); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkEvalMixed(b *testing.B) {
	e := MustParse(`(response.status.code >= 400 and data.request.limit < 100) or request.header.accept Matches "*xml*" or request.verb ~~ "P(UT|OST)"`)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := e.Eval(benchVars); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`(proxy.pathsuffix MatchesPath "/users/*") and (request.verb = "GET")`); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEvalDoesNotAllocate pins "no allocation in the common cases".
func TestEvalDoesNotAllocate(t *testing.T) {
	for _, src := range []string{
		`(proxy.pathsuffix MatchesPath "/users/*") and (request.verb = "GET")`,
		`request.verb := "get" or request.verb != "POST"`,
		`response.status.code >= 400 and response.status.code < "500"`,
		`data.request.limit > 100`,
		`request.header.accept Matches "application/*" and request.header.accept =| "app"`,
		`request.verb ~~ "G[A-Z]+"`,
		`missing = null and not (missing > 3)`,
	} {
		e := MustParse(src)
		if n := testing.AllocsPerRun(100, func() { _, _ = e.Eval(benchVars) }); n != 0 {
			t.Errorf("%s: %v allocs per Eval, want 0", src, n)
		}
	}
}
