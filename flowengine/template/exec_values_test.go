package template

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// TestElements: the elements of a nested shape, in document order, with
// their parents, keys, constants and values.
func TestElements(t *testing.T) {
	tp, err := Parse(`{
    "origin": "http://upstream",
    "stripEndpoint": true,
    "headers": { "X-Flowproc": "1", "X-Request-Id": {{ $req/id }} },
    "query": [ { "name": "a", "value": {{ $up/main/status }} } ]
  }`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Element{
		{Parent: -1, Type: oxn.Object},
		{Parent: 0, Key: "origin", Type: oxn.String, Text: "http://upstream"},
		{Parent: 0, Key: "stripEndpoint", Type: oxn.Boolean, Text: "true"},
		{Parent: 0, Key: "headers", Type: oxn.Object},
		{Parent: 3, Key: "X-Flowproc", Type: oxn.String, Text: "1"},
		{Parent: 3, Key: "X-Request-Id", Type: oxn.String, Value: true},
		{Parent: 0, Key: "query", Type: oxn.Array},
		{Parent: 6, Type: oxn.Object},
		{Parent: 7, Key: "name", Type: oxn.String, Text: "a"},
		{Parent: 7, Key: "value", Type: oxn.String, Value: true},
	}
	if got := tp.Elements(); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("Elements:\n got %+v\nwant %+v", got, want)
	}
	if !tp.HasDirectValues() {
		t.Error("HasDirectValues false for single values")
	}
	for _, src := range []string{`[1, {{ a }}]`, `{ "a": {{ a ?? "b" }} }`, `{{if a}}{}{{end}}`} {
		tp, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if tp.HasDirectValues() {
			t.Errorf("%q: HasDirectValues true", src)
		}
		if tp.HasShape() != (tp.Elements() != nil) {
			t.Errorf("%q: Elements %v with HasShape %v", src, tp.Elements(), tp.HasShape())
		}
	}
}

// checkValuesMatchTree runs tp with ExecuteTree and ExecuteValues against
// c, each with a budget of its own. When ExecuteValues gives the values,
// they must be the elements of ExecuteTree's tree that Elements marks as
// values, with the same output charged; when it does not, it must charge
// nothing. It reports whether ExecuteValues gave them.
func checkValuesMatchTree(t *testing.T, tp *Template, c *expr.Context) bool {
	t.Helper()
	run := func(f func(c *expr.Context) error) (int64, error) { return withOutputBudget(c, f) }
	var fields []Field
	var ok bool
	gotOut, err := run(func(c *expr.Context) (err error) {
		fields, ok, err = tp.ExecuteValues(c, 0, nil)
		return err
	})
	if !ok {
		if err != nil || gotOut != 0 {
			t.Fatalf("%q: ExecuteValues declined with err %v and %d bytes charged", tp.Source(), err, gotOut)
		}
		return false
	}
	var want *oxn.Tree
	wantOut, wantErr := run(func(c *expr.Context) (err error) {
		want, err = tp.ExecuteTree(c, nil, 0)
		return err
	})
	if err != nil || wantErr != nil {
		t.Fatalf("%q: ExecuteValues err %v, ExecuteTree err %v", tp.Source(), err, wantErr)
	}
	if gotOut != wantOut {
		t.Errorf("%q: ExecuteValues charged %d bytes of output, ExecuteTree %d", tp.Source(), gotOut, wantOut)
	}
	// The tree numbers its elements in document order, as Elements does
	// (which keys an array item "", where the tree says "value").
	var values []Field
	for i, el := range tp.Elements() {
		if el.Value {
			i := int32(i)
			values = append(values, Field{Key: el.Key, Type: want.TypeAt(i), Text: want.StringValue(i)})
		}
	}
	if fmt.Sprintf("%q", fields) != fmt.Sprintf("%q", values) {
		t.Fatalf("%q:\nExecuteValues %q\nExecuteTree   %q", tp.Source(), fields, values)
	}
	return true
}

// TestExecuteValues: the values of a shape of any depth that the scope
// answers directly are those ExecuteTree puts in its tree, with the same
// output charged and nothing allocated; any other value declines, with
// nothing charged, for the caller's full path.
func TestExecuteValues(t *testing.T) {
	tests := []struct {
		src    string
		direct bool
	}{
		{`{ "origin": "http://upstream", "stripEndpoint": true, "addPrefix": "/v2", "headers": { "X-Flowproc": "1", "X-Request-Id": {{ $req/id }} } }`, true},
		{`{ "a": { "b": [ {{ $up/main/status }}, { "c": {{ $cfg/service }} } ] }, "d": {{ $up/main/cacheHit }}, "e": [] }`, true},
		{`{ "X-Status": {{ $up/main/status }}, "n": 1.50, "z": null }`, true},
		{`{ "nested": { "const": "only" } }`, true},
		{`{ "h": { "b": {{ $req/bad }} } }`, false},      // invalid UTF-8: the full path replaces it
		{`{ "h": { "g": {{ $up/main/gone }} } }`, false}, // a null scalar
		{`{ "h": { "m": {{ $req/missing }} } }`, false},
		{`{ "h": { "id": {{ $req/id ?? "none" }} } }`, false},
		{`{ "h": [ {{ string-length($req/id) }} ] }`, false},
		{`{ "h": { "obj": {{ $cfg/obj }} } }`, false},
	}
	for _, tc := range tests {
		tp, err := Parse(tc.src)
		if err != nil || !tp.HasShape() {
			t.Fatalf("%q: %v, shape %v", tc.src, err, tp != nil && tp.HasShape())
		}
		c := &expr.Context{Ctx: context.Background(), Scope: newDirectScope(t)}
		if got := checkValuesMatchTree(t, tp, c); got != tc.direct {
			t.Errorf("%q: direct %v, want %v", tc.src, got, tc.direct)
		}
		if !tc.direct || racecheck.Enabled {
			continue
		}
		var fs []Field
		allocs := testing.AllocsPerRun(20, func() {
			var err error
			if fs, _, err = tp.ExecuteValues(c, 0, fs[:0]); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations", tc.src, allocs)
		}
	}

	tp, err := Parse(`{ "h": { "X-Status": {{ $up/main/status }}, "X-Id": {{ $req/id }} }, "long": "a long literal value" }`)
	if err != nil {
		t.Fatal(err)
	}
	// A shape deeper than the caller allows declines: ExecuteTree gives
	// the error.
	if _, ok, err := tp.ExecuteValues(&expr.Context{Scope: newDirectScope(t)}, 1, nil); ok || err != nil {
		t.Errorf("maxDepth 1: ok %v, err %v", ok, err)
	}
	// Over the output budget: the full path's error.
	errOf := func(f func(c *expr.Context) error) string { return overOutputBudget(t, f) }
	direct := errOf(func(c *expr.Context) error { _, _, err := tp.ExecuteValues(c, 0, nil); return err })
	full := errOf(func(c *expr.Context) error { _, err := tp.ExecuteTree(c, nil, 0); return err })
	if direct == "" || direct != full {
		t.Errorf("over the output budget: ExecuteValues %q, ExecuteTree %q", direct, full)
	}
	// An ended context or no scope: declined.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, c := range map[string]*expr.Context{
		"cancelled": {Ctx: ctx, Scope: newDirectScope(t)},
		"no scope":  {},
		"nil":       nil,
	} {
		if _, ok, err := tp.ExecuteValues(c, 0, nil); ok || err != nil {
			t.Errorf("%s: ok %v, err %v", name, ok, err)
		}
	}
	if _, err := tp.ExecuteTree(&expr.Context{Ctx: ctx, Scope: newDirectScope(t)}, nil, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ExecuteTree: %v", err)
	}
}
