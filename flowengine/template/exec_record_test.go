package template

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// TestIsRecord lists which shaped templates ExecuteRecord runs: one
// object whose members are literal scalars and values, nothing nested.
func TestIsRecord(t *testing.T) {
	tests := []struct {
		src    string
		record bool
	}{
		{`{ "X-Request-Id": {{ $request/get/id }}, "X-Service": "hello" }`, true},
		{`{}`, true},
		{"{\n  \"a\": {{ x }},\n}", true},
		{`{ "a": null, "b": true, "c": 1.50, "d": "s" }`, true},
		{`{ "a": {} }`, false},
		{`{ "a": [] }`, false},
		{`{ "a": [ {{ x }} ] }`, false},
		{`{ "a": { "b": {{ x }} } }`, false},
		{`[ {{ x }} ]`, false}, // no shape
		{`{ "a": {{if t}}1{{else}}2{{end}} }`, false},
	}
	for _, tc := range tests {
		tp, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		if tp.IsRecord() != tc.record {
			t.Errorf("%q: IsRecord %v, want %v", tc.src, tp.IsRecord(), tc.record)
		}
	}
	tp, _ := Parse(`{ "a": [1] }`)
	if _, _, err := tp.ExecuteRecord(nil, nil, 0, nil); !errors.Is(err, ErrNotRecord) {
		t.Errorf("ExecuteRecord of a nested shape: %v", err)
	}
	tp, _ = Parse(`[1]`)
	if _, _, err := tp.ExecuteRecord(nil, nil, 0, nil); !errors.Is(err, ErrNoShape) {
		t.Errorf("ExecuteRecord without a shape: %v", err)
	}
}

// recordSources are records whose values cover every kind of value, the
// ones that make ExecuteRecord fall back to a tree (objects, arrays,
// elements) included.
var recordSources = []string{
	`{ "a": {{ x }}, "n": {{ n }}, "f": {{ flag }}, "y": {{ yes }} }`,
	`{ "obj": {{ obj }}, "list": {{ list }}, "empty": {{ empty }}, "nul": {{ nul }}, "str": {{ str }}, "num": {{ num }} }`,
	`{ "missing": {{ nothing }}, "chain": {{ nothing ?? $nulvar ?? "fallback" }}, "nullchain": {{ nothing ?? $nulvar }} }`,
	`{ "raw": {{ $raw }}, "ua": {{ $raw/user-agent }}, "text": {{ $raw/accept/text() }}, "req": {{ $request }} }`,
	`{ "docitem": {{ $doc/value }}, "id": {{ $request/get/id }}, "name": {{ account/name }} }`,
	`{ "upper": {{ toupper(account/name) }}, "concat": {{ concat(x, "-", n) }}, "bad": {{ $bad }} }`,
	`{ "math": {{ 1 div 0 }}, "nan": {{ number("x") }}, "neg0": {{ -0 }}, "small": {{ 0.0000001 }}, "frac": {{ 1 div 3 }} }`,
	`{ "t": true, "f": false, "nul": null, "lit": "lit", "num": 1.50, "esc": "a\"b\u00e9", "dup": 1, "dup": {{ x }} }`,
	"{\n  \"X-Request-Id\": {{ $request/get/id }},\n  \"X-Service\": {{ account/name }},\n}",
	`{ "ctl": {{ concat("tab	", "nl
", "nul") }}, "xml": {{ xml }}, "attrless": {{ obj/c/value }} }`,
	`{}`,
}

// checkRecordMatchesTree runs tp with ExecuteTree and ExecuteRecord
// against c, each with a budget of its own, and fails unless both fail,
// or both charge the same output and ExecuteRecord's fields are the root
// members of ExecuteTree's tree (or ExecuteRecord gives that tree).
func checkRecordMatchesTree(t *testing.T, tp *Template, c *expr.Context, arena *oxn.TreeArena) {
	t.Helper()
	if !tp.IsRecord() {
		return
	}
	run := func(f func(c *expr.Context) error) (int64, error) { return withOutputBudget(c, f) }
	var want *oxn.Tree
	wantOut, wantErr := run(func(c *expr.Context) (err error) {
		want, err = tp.ExecuteTree(c, nil, 0)
		return err
	})
	var fields []Field
	var tree *oxn.Tree
	gotOut, err := run(func(c *expr.Context) (err error) {
		fields, tree, err = tp.ExecuteRecord(c, arena, 0, fields)
		return err
	})
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%q: ExecuteRecord err %v, ExecuteTree err %v", tp.Source(), err, wantErr)
	}
	if err != nil {
		return
	}
	if gotOut != wantOut {
		t.Errorf("%q: ExecuteRecord charged %d bytes of output, ExecuteTree %d", tp.Source(), gotOut, wantOut)
	}
	if tree != nil {
		if fields != nil {
			t.Fatalf("%q: both fields and a tree", tp.Source())
		}
		if got, w := treeJSON(t, tree), treeJSON(t, want); got != w {
			t.Fatalf("%q: ExecuteRecord's tree %s, ExecuteTree's %s", tp.Source(), got, w)
		}
		return
	}
	var members []Field
	for i := want.FirstChild(0); i != oxn.NoIndex; i = want.Next(i) {
		members = append(members, Field{Key: want.Key(i), Type: want.TypeAt(i), Text: want.StringValue(i)})
	}
	if fmt.Sprintf("%q", fields) != fmt.Sprintf("%q", members) {
		t.Fatalf("%q:\nExecuteRecord %q\nExecuteTree   %q", tp.Source(), fields, members)
	}
}

// withOutputBudget runs f on a copy of c (an empty context when nil) with
// a budget of its own, and returns the output f charged to it.
func withOutputBudget(c *expr.Context, f func(c *expr.Context) error) (int64, error) {
	var b budget.Budget
	b.Reset(context.Background(), budget.Limits{OutputBytes: 1 << 30})
	cc := expr.Context{}
	if c != nil {
		cc = *c
	}
	cc.Budget = &b
	err := f(&cc)
	_, _, _, out := b.Used()
	return out, err
}

// overOutputBudget runs f against newDirectScope with an output budget
// of 10 bytes and returns its error's text ("" for none).
func overOutputBudget(t *testing.T, f func(c *expr.Context) error) string {
	var b budget.Budget
	b.Reset(context.Background(), budget.Limits{OutputBytes: 10})
	if err := f(&expr.Context{Scope: newDirectScope(t), Budget: &b}); err != nil {
		return err.Error()
	}
	return ""
}

func treeJSON(t *testing.T, tree *oxn.Tree) string {
	t.Helper()
	var b bytes.Buffer
	if err := tree.WriteJSON(&b, oxn.DocIndex); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestExecuteRecordMatchesTree: for every record and every context form,
// ExecuteRecord's fields are the members of ExecuteTree's tree, with the
// same output charged, or it gives that tree when a value is not a scalar.
func TestExecuteRecordMatchesTree(t *testing.T) {
	fellBack, fields := 0, 0
	for name, c := range map[string]*expr.Context{"dom": testContext(t), "tree": treeContext(t), "empty": nil} {
		var arena oxn.TreeArena
		for _, src := range recordSources {
			tp, err := Parse(src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", src, err)
			}
			if !tp.IsRecord() {
				t.Fatalf("%q is not a record", src)
			}
			t.Run(name, func(t *testing.T) {
				checkRecordMatchesTree(t, tp, c, &arena)
				checkRecordMatchesTree(t, tp, c, nil)
			})
			if _, tree, err := tp.ExecuteRecord(c, nil, 0, nil); err == nil {
				if tree != nil {
					fellBack++
				} else {
					fields++
				}
			}
		}
	}
	// Both outcomes must be among the cases, or the comparison above
	// proves less than it says.
	if fellBack == 0 || fields == 0 {
		t.Errorf("%d records gave fields and %d a tree: want some of each", fields, fellBack)
	}
}

// TestExecuteRecordErrors: evaluation errors, cancellation and the output
// budget end ExecuteRecord as they end ExecuteTree.
func TestExecuteRecordErrors(t *testing.T) {
	c := testContext(t)
	tp, err := Parse(`{ "a": {{ x }}, "b": {{ $undefined }} }`)
	if err != nil {
		t.Fatal(err)
	}
	checkRecordMatchesTree(t, tp, c, nil)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cc := *c
	cc.Ctx = ctx
	tp, _ = Parse(`{ "a": {{ x }} }`)
	if _, _, err := tp.ExecuteRecord(&cc, nil, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	var bud budget.Budget
	bud.Reset(context.Background(), budget.Limits{OutputBytes: 10})
	cb := *c
	cb.Budget = &bud
	tp, _ = Parse(`{ "a": {{ str }}, "b": "a long literal value" }`)
	var exceeded *budget.ExceededError
	if _, _, err := tp.ExecuteRecord(&cb, nil, 0, nil); !errors.As(err, &exceeded) {
		t.Errorf("over the output budget: %v", err)
	}
}

// TestExecuteRecordAllocs: a header record into an arena allocates at most
// the values' text, and nothing once the arena is reused.
func TestExecuteRecordAllocs(t *testing.T) {
	if racecheck.Enabled {
		t.Skip("-race: sync.Pool drops items at random, so allocation counts vary")
	}
	fields := make([]Field, 0, 4)
	allocs := headerTemplateAllocs(t, func(tp *Template, c *expr.Context, arena *oxn.TreeArena) (err error) {
		fields, _, err = tp.ExecuteRecord(c, arena, 0, fields)
		return err
	})
	if allocs > 1 {
		t.Errorf("ExecuteRecord allocates %v times, want at most 1", allocs)
	}
	if len(fields) != 3 || fields[2] != (Field{Key: "X-Static", Type: oxn.String, Text: "1"}) {
		t.Errorf("fields %q", fields)
	}
}

// directScope is scalarScope that also answers $req/NAME as a string
// member (expr.MemberScope) and holds $cfg as a tree (expr.TreeScope).
type directScope struct {
	*scalarScope
	strs map[string]string
	cfg  *oxn.Doc
}

// TreeVar holds $cfg as FLAT holds a template's output: the tree's root
// element.
func (s *directScope) TreeVar(name string) (expr.TreeNode, bool) {
	if name == "cfg" {
		return expr.TreeNode{Doc: s.cfg, Index: 0}, true
	}
	return expr.TreeNode{}, false
}

func (s *directScope) Var(name string) (expr.Value, bool) {
	if name == "cfg" {
		return s.cfg, true
	}
	return s.scalarScope.Var(name)
}

func (s *directScope) StringMember(name, member string) (string, bool) {
	if name != "req" {
		return "", false
	}
	v, ok := s.strs[member]
	return v, ok
}

func newDirectScope(t *testing.T) *directScope {
	up := mustOXN(t, `{"main":{"status":503,"url":"http://up/a","cacheHit":false}}`).FirstElement()
	req := mustOXN(t, `{"id":"r-1","bad":"a\ufffdb","empty":""}`).FirstElement()
	cfg, err := oxn.ParseTreeString(`{"service":"hello","n":3,"on":true,"nul":null,"obj":{"a":1},"list":[1,2],"dup":"first","dup":"second"}`, 100)
	if err != nil {
		t.Fatal(err)
	}
	return &directScope{
		scalarScope: &scalarScope{mapScope: mapScope{"up": expr.NodeSet{up}, "req": expr.NodeSet{req}}, vals: map[string]expr.ScalarValue{
			"status":   {Type: oxn.Number, Text: "503"},
			"url":      {Type: oxn.String, Text: "http://up/a"},
			"cacheHit": {Type: oxn.Boolean, Text: "false"},
			"gone":     {Type: oxn.Null},
		}},
		strs: map[string]string{"id": "r-1", "bad": "a\xffb", "empty": ""},
		cfg:  oxn.NewDoc(cfg),
	}
}

// TestDirectRecord: a record whose values the scope answers as scalars,
// string members or scalar elements of a tree gives, without a state or a
// tree, what the full path gives: the same fields, the same output
// charged, the same errors. A value the scope does not answer so, or
// whose text the full path would convert, sends the record down the full
// path.
func TestDirectRecord(t *testing.T) {
	tests := []struct {
		src    string
		direct bool // answered without the full path
	}{
		{`{ "X-Status": {{ $up/main/status }}, "X-Id": {{ $req/id }}, "X-Const": "c", "X-Hit": {{ $up/main/cacheHit }}, "X-Url": {{ $up/main/url }} }`, true},
		{`{ "X-Empty": {{ $req/empty }}, "n": 1.50, "t": true, "z": null }`, true},
		{`{ "X-Service": {{ $cfg/service }}, "n": {{ $cfg/n }}, "on": {{ $cfg/on }}, "dup": {{ $cfg/dup }}, "id": {{ $req/id }} }`, true},
		{`{}`, true},
		{`{ "b": {{ $req/bad }} }`, false},           // invalid UTF-8: the full path replaces it
		{`{ "g": {{ $up/main/gone }} }`, false},      // a null scalar
		{`{ "m": {{ $req/missing }} }`, false},       // not a member the scope has
		{`{ "id": {{ $req/id ?? "none" }} }`, false}, // a chain
		{`{ "len": {{ string-length($req/id) }} }`, false},
		{`{ "s": {{ $up/main/status }}, "m": {{ $req/missing }} }`, false},
		{`{ "nul": {{ $cfg/nul }} }`, false},
		{`{ "obj": {{ $cfg/obj }} }`, false},
		{`{ "list": {{ $cfg/list }} }`, false},
		{`{ "none": {{ $cfg/none }} }`, false},
		{`{ "cfg": {{ $cfg }} }`, false},
	}
	for _, tc := range tests {
		tp, err := Parse(tc.src)
		if err != nil || !tp.IsRecord() {
			t.Fatalf("%q: %v, record %v", tc.src, err, tp != nil && tp.IsRecord())
		}
		c := &expr.Context{Ctx: context.Background(), Scope: newDirectScope(t)}
		checkRecordMatchesTree(t, tp, c, nil)
		if _, ok, _ := tp.directRecord(c, nil); ok != tc.direct {
			t.Errorf("%q: direct %v, want %v", tc.src, ok, tc.direct)
		}
		if !tc.direct || racecheck.Enabled {
			continue
		}
		// No state, no copy of the texts, no tree: nothing allocated.
		var fs []Field
		allocs := testing.AllocsPerRun(20, func() {
			var err error
			if fs, _, err = tp.ExecuteRecord(c, nil, 0, fs[:0]); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations on the direct path", tc.src, allocs)
		}
	}

	// Errors: the output budget gives the full path's error; an ended
	// context goes down the full path and gives its error.
	tp, _ := Parse(`{ "X-Status": {{ $up/main/status }}, "X-Id": {{ $req/id }}, "long": "a long literal value" }`)
	errOf := func(f func(c *expr.Context) error) string { return overOutputBudget(t, f) }
	direct := errOf(func(c *expr.Context) error { _, _, err := tp.ExecuteRecord(c, nil, 0, nil); return err })
	full := errOf(func(c *expr.Context) error { _, err := tp.ExecuteTree(c, nil, 0); return err })
	if direct == "" || direct != full {
		t.Errorf("over the output budget: ExecuteRecord %q, ExecuteTree %q", direct, full)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := tp.ExecuteRecord(&expr.Context{Ctx: ctx, Scope: newDirectScope(t)}, nil, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
