package template

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// TestShapeOf lists which templates ExecuteTree runs: literal text and
// values in value places making one object, nothing else.
func TestShapeOf(t *testing.T) {
	tests := []struct {
		src   string
		shape bool
	}{
		{`{ "X-Request-Id": {{ $request/get/id }}, "X-Service": "hello" }`, true},
		{`{"origin": "http://u", "headers": {"a": "1", "b": {{ x }}}, "n": [1, {{ n }}, {"c": null}]}`, true},
		{"{\n  \"a\": {{ x }},\n}", true}, // the trailing comma is dropped, as Execute drops it
		{`{,"a": 1,, "b": {{ x }},}`, true},
		{`{}`, true},
		{`{"a": "literal with \u0000 escaped NUL"}`, false},
		{`[ {{ x }} ]`, false},              // not an object
		{`{{ x }}`, false},                  // a value may be anything
		{`{ {{ x }}: 1 }`, false},           // not JSON
		{`{ "a{{ x }}": 1 }`, false},        // inside a string
		{`{ "a": "b {{ x }}" }`, false},     // inside a string
		{`{ "a": {{ x }} {{ n }} }`, false}, // two values, no comma
		{`{ "a": 1 } {{ x }}`, false},       // after the object
		{`{ {{: obj/* }} }`, false},         // a pair producer
		{`{ "a": {{if t}}1{{else}}2{{end}} }`, false},
		{`{ "a": [{{loop list}}{{.}}{{end}}] }`, false},
		{`{ "a": {{.}} }`, false},
		{`{{$v := x}}{ "a": {{ $v }} }`, false}, // locals
		{`{ "a": 1, {{,}} "b": 2 }`, false},
		{`{ "a": 1 `, false},
		{`{ "a": "x }`, false},
		{`{ "\u0000`, false},
	}
	for _, tc := range tests {
		tp, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		if tp.HasShape() != tc.shape {
			t.Errorf("%q: HasShape %v, want %v", tc.src, tp.HasShape(), tc.shape)
		}
	}
	tp, _ := Parse(`[1]`)
	if _, err := tp.ExecuteTree(nil, nil, 0); !errors.Is(err, ErrNoShape) {
		t.Errorf("ExecuteTree without a shape: %v", err)
	}
}

// shapedSources are templates with shapes whose values cover every kind
// of value: strings (escapes, invalid UTF-8), numbers (integers, -0,
// exponents, NaN), booleans, empty and null node-sets, OXN elements of
// every type held as DOM or as Tree, untyped elements, text and attribute
// nodes, documents, "??" chains and string functions.
var shapedSources = []string{
	`{ "a": {{ x }}, "n": {{ n }}, "f": {{ flag }}, "y": {{ yes }} }`,
	`{ "obj": {{ obj }}, "list": {{ list }}, "empty": {{ empty }}, "nul": {{ nul }}, "str": {{ str }}, "num": {{ num }} }`,
	`{ "missing": {{ nothing }}, "chain": {{ nothing ?? $nulvar ?? "fallback" }}, "nullchain": {{ nothing ?? $nulvar }} }`,
	`{ "account": {{ account }}, "first item": {{ items }}, "html": {{ items/html_url }}, "weird": {{ *[name()="json-element"] }} }`,
	`{ "raw": {{ $raw }}, "ua": {{ $raw/user-agent }}, "text": {{ $raw/accept/text() }}, "req": {{ $request }} }`,
	`{ "doc": {{ $doc }}, "docitem": {{ $doc/value }}, "id": {{ $request/get/id }} }`,
	`{ "upper": {{ toupper(account/name) }}, "concat": {{ concat(x, "-", n) }}, "bad": {{ $bad }}, "badfn": {{ concat("a", $bad) }} }`,
	`{ "math": {{ 1 div 0 }}, "nan": {{ number("x") }}, "neg0": {{ -0 }}, "big": {{ 1000000000000 * 1000000000000 }}, "small": {{ 0.0000001 }}, "frac": {{ 1 div 3 }} }`,
	`{ "bools": [ {{ 1 = 1 }}, {{ 1 = 2 }}, true, null, "lit", 1.50 ], "nested": { "deeper": { "x": {{ x }} } } }`,
	`{ "count": {{ count(list/value) }}, "sum": {{ sum(list/value) }}, "str-of-node": {{ string(obj) }} }`,
	"{\n  \"X-Request-Id\": {{ $request/get/id }},\n  \"X-Service\": {{ account/name }},\n}",
	`{ "ctl": {{ concat("tab	", "nl
", "nul") }}, "xml": {{ xml }} }`,
	`{ "attrless": {{ obj/c/value }}, "t": {{ t }}, "f": {{ f }} }`,
}

// checkTreeMatchesExecute runs src with Execute and ExecuteTree against c
// and fails unless ExecuteTree gives the tree ParseTree makes of
// Execute's output, or both fail.
func checkTreeMatchesExecute(t *testing.T, tp *Template, c *expr.Context, arena *oxn.TreeArena) {
	t.Helper()
	var b bytes.Buffer
	execErr := tp.Execute(c, &b)
	var want *oxn.Tree
	if execErr == nil {
		var err error
		if want, err = oxn.ParseTree(bytes.TrimSpace(b.Bytes()), 0); err != nil {
			execErr = err
		}
	}
	got, err := tp.ExecuteTree(c, arena, 0)
	if (err == nil) != (execErr == nil) {
		t.Fatalf("%q: ExecuteTree err %v, Execute+ParseTree err %v (output %s)", tp.Source(), err, execErr, b.String())
	}
	if err != nil {
		return
	}
	var gj, wj bytes.Buffer
	if err := got.WriteJSON(&gj, oxn.DocIndex); err != nil {
		t.Fatal(err)
	}
	if err := want.WriteJSON(&wj, oxn.DocIndex); err != nil {
		t.Fatal(err)
	}
	if gj.String() != wj.String() {
		t.Fatalf("%q:\nExecuteTree %s\nExecute     %s", tp.Source(), gj.String(), wj.String())
	}
	if got.Name(0) != want.Name(0) || got.Len() != want.Len() {
		t.Fatalf("%q: root %q with %d elements, want %q with %d", tp.Source(), got.Name(0), got.Len(), want.Name(0), want.Len())
	}
	for i := int32(0); i < int32(got.Len()); i++ {
		if got.Name(i) != want.Name(i) || got.AttrCount(i) != want.AttrCount(i) {
			t.Fatalf("%q: element %d is %q (%d attributes), want %q (%d)", tp.Source(), i, got.Name(i), got.AttrCount(i), want.Name(i), want.AttrCount(i))
		}
	}
}

// TestExecuteTreeMatchesExecute: for every shaped template and both
// context forms, ExecuteTree's tree is ParseTree of Execute's output.
func TestExecuteTreeMatchesExecute(t *testing.T) {
	for name, c := range map[string]*expr.Context{"dom": testContext(t), "tree": treeContext(t), "empty": nil} {
		var arena oxn.TreeArena
		for _, src := range shapedSources {
			tp, err := Parse(src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", src, err)
			}
			if !tp.HasShape() {
				t.Fatalf("%q has no shape", src)
			}
			t.Run(name, func(t *testing.T) {
				checkTreeMatchesExecute(t, tp, c, &arena)
				checkTreeMatchesExecute(t, tp, c, nil)
			})
		}
	}
}

// TestExecuteTreeErrors: evaluation errors, cancellation, the output
// budget and the depth limit end ExecuteTree as they end Execute.
func TestExecuteTreeErrors(t *testing.T) {
	c := testContext(t)
	tp, err := Parse(`{ "a": {{ x }}, "b": {{ nosuchfn() }} }`)
	if err != nil {
		// An unknown function is a parse error: use a runtime error.
		tp, err = Parse(`{ "a": {{ x }}, "b": {{ $undefined }} }`)
		if err != nil {
			t.Fatal(err)
		}
	}
	checkTreeMatchesExecute(t, tp, c, nil)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cc := *c
	cc.Ctx = ctx
	tp, _ = Parse(`{ "a": {{ x }} }`)
	if _, err := tp.ExecuteTree(&cc, nil, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	var bud budget.Budget
	bud.Reset(context.Background(), budget.Limits{OutputBytes: 10})
	cb := *c
	cb.Budget = &bud
	tp, _ = Parse(`{ "a": {{ str }}, "b": "a long literal value" }`)
	var exceeded *budget.ExceededError
	if _, err := tp.ExecuteTree(&cb, nil, 0); !errors.As(err, &exceeded) {
		t.Errorf("over the output budget: %v", err)
	}

	deep := `{ "a": [[[ {{ account }} ]]] }` // 4 levels, 5 with the account object
	tp, _ = Parse(deep)
	if _, err := tp.ExecuteTree(c, nil, 5); err != nil {
		t.Errorf("depth 5 of 5: %v", err)
	}
	if _, err := tp.ExecuteTree(c, nil, 4); !errors.Is(err, oxn.ErrTooDeep) {
		t.Errorf("depth 5 of 4: %v", err)
	}
	if _, err := tp.ExecuteTree(c, nil, 3); !errors.Is(err, oxn.ErrTooDeep) {
		t.Errorf("shape depth 4 of 3: %v", err)
	}
	var b bytes.Buffer
	if err := tp.Execute(c, &b); err != nil {
		t.Fatal(err)
	}
	if _, err := oxn.ParseTree(b.Bytes(), 4); !errors.Is(err, oxn.ErrTooDeep) {
		t.Errorf("the parser disagrees on the limit: %v", err)
	}
}

// TestExecuteTreeAllocs: a header template into an arena allocates only
// the tree's text, where Execute and ParseTree write, copy and parse it.
func TestExecuteTreeAllocs(t *testing.T) {
	if racecheck.Enabled {
		// The race detector makes sync.Pool drop items at random: a missed
		// state costs its buffers again (CI: 2 allocations on average).
		t.Skip("-race: sync.Pool drops items at random, so allocation counts vary")
	}
	allocs := headerTemplateAllocs(t, func(tp *Template, c *expr.Context, arena *oxn.TreeArena) error {
		_, err := tp.ExecuteTree(c, arena, 0)
		return err
	})
	if allocs > 1 {
		t.Errorf("ExecuteTree allocates %v times, want at most 1", allocs)
	}
}

// headerTemplateAllocs returns the allocations of one exec of a header
// template against treeContext into a new arena, the state pool warmed.
func headerTemplateAllocs(t *testing.T, exec func(tp *Template, c *expr.Context, arena *oxn.TreeArena) error) float64 {
	t.Helper()
	c := treeContext(t)
	tp, err := Parse(`{ "X-Request-Id": {{ $request/get/id }}, "X-Service": {{ account/name }}, "X-Static": "1" }`)
	if err != nil {
		t.Fatal(err)
	}
	var arena oxn.TreeArena
	if err := exec(tp, c, &arena); err != nil { // warm the state pool
		t.Fatal(err)
	}
	return testing.AllocsPerRun(100, func() {
		arena = oxn.TreeArena{}
		if err := exec(tp, c, &arena); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzExecuteTree: any template with a shape gives, against the fuzz
// context and the tree context, the tree ParseTree makes of Execute's output, or fails as
// Execute and ParseTree do; ExecuteRecord and ExecuteValues agree with
// ExecuteTree (ExecuteValues also against the scope of TestExecuteValues).
func FuzzExecuteTree(f *testing.F) {
	for _, s := range shapedSources {
		f.Add(s)
	}
	f.Add(`{ "a": {{ a/b }}, "s": {{ s }}, "o": {{ o }}, "n": {{ n }}, "arr": {{ arr }}, "je": {{ *[@name] }} }`)
	f.Add(`{,"x": {{ $x }},, "ns": {{ $ns }}, "b": [{{ $b }}, {{ $n }}],}`)
	f.Add(`{ "h": { "id": {{ $req/id }}, "s": {{ $up/main/status }} }, "c": [ {{ $cfg/service }} ] }`)
	f.Fuzz(func(t *testing.T, src string) {
		fuzzSetup(t)
		tp, err := Parse(src)
		if err != nil || !tp.HasShape() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		c := &expr.Context{Ctx: ctx, Node: fuzzNode, Scope: fuzzVars}
		if strings.Contains(src, "(") {
			return // functions can be slow enough to hit the timeout in one run only
		}
		checkTreeMatchesExecute(t, tp, c, nil)
		checkRecordMatchesTree(t, tp, c, nil)
		checkValuesMatchTree(t, tp, &expr.Context{Ctx: ctx, Scope: newDirectScope(t)})
		// And against trees as values (FLAT's $request, parsed bodies),
		// into an arena: values that are scalars fill the skeleton.
		tc := *treeContext(t)
		tc.Ctx = ctx
		var arena oxn.TreeArena
		checkTreeMatchesExecute(t, tp, &tc, &arena)
		checkRecordMatchesTree(t, tp, &tc, &arena)
		checkValuesMatchTree(t, tp, &tc)
	})
}

// BenchmarkObjectTemplate compares the two ways a header or proxy object
// template reaches its callers as a tree: Execute's text parsed into an
// arena (text), and ExecuteTree (tree).
func BenchmarkObjectTemplate(b *testing.B) {
	c := treeContext(b)
	for _, tc := range []struct{ name, src string }{
		{"headers", `{
    "X-Request-Id": {{ $request/get/id }},
    "X-Service": {{ account/name }}
  }`},
		{"proxy", `{
    "origin": "http://upstream",
    "stripEndpoint": true,
    "addPrefix": "/v2",
    "headers": {
      "X-Flowproc": "1",
      "X-Request-Id": {{ account/name }}
    }
  }`},
	} {
		tp, err := Parse(tc.src)
		if err != nil || !tp.HasShape() {
			b.Fatalf("%q: %v, shape %v", tc.src, err, tp != nil && tp.HasShape())
		}
		b.Run(tc.name+"/text", func(b *testing.B) {
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				var arena oxn.TreeArena
				buf.Reset()
				if err := tp.Execute(c, &buf); err != nil {
					b.Fatal(err)
				}
				if _, err := arena.ParseTree(bytes.TrimSpace(buf.Bytes()), 512); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/tree", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var arena oxn.TreeArena
				if _, err := tp.ExecuteTree(c, &arena, 512); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
