package template

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// bodyScope holds $body as a Doc.
type bodyScope struct{ doc *oxn.Doc }

func (s bodyScope) Var(name string) (expr.Value, bool) {
	if name == "body" {
		return s.doc, true
	}
	return nil, false
}

func (s bodyScope) TreeVar(name string) (expr.TreeNode, bool) {
	if name == "body" {
		return expr.TreeNode{Doc: s.doc, Index: oxn.DocIndex}, true
	}
	return expr.TreeNode{}, false
}

// TestTreeTemplateStaysCompact runs the shapes of the common JSON-body
// templates (values, loops over an array, with, if, counts and sums) over
// a Tree context node and checks that the *dom.Node document is never
// built, and that a construct that needs it ({{: pairs }}) builds it.
func TestTreeTemplateStaysCompact(t *testing.T) {
	tree, err := oxn.ParseTreeString(`{"items":[{"name":"a","price":1,"tags":["x"]},{"name":"b","price":2,"tags":[]}],"meta":{"n":null}}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	doc := oxn.NewDoc(tree)
	c := &expr.Context{Ctx: context.Background(), Tree: expr.TreeNode{Doc: doc, Index: 0}, Scope: bodyScope{doc}}
	for _, tc := range []struct{ src, want string }{
		{`{"count": {{ count(items/value) }}, "names": [ {{loop items}} {{ toupper(name) }} {{end}} ], "total": {{ sum(items/value/price) }} }`,
			`{"count": 2, "names": [  "A",  "B"  ], "total": 3 }`},
		{`[{{loop items/value}}{{ name }}{{end}}]`, `["a","b"]`},
		{`[{{loop items}}{{ . }}{{end}}]`, `[{"name":"a","price":1,"tags":["x"]},{"name":"b","price":2,"tags":[]}]`},
		{`{{with items/value[2]}}{{ tags }}{{end}}`, `[]`},
		{`{{if meta/n}}{{ meta/n ?? "d" }}{{end}}`, `"d"`},
		{`{{ . }}`, `{"items":[{"name":"a","price":1,"tags":["x"]},{"name":"b","price":2,"tags":[]}],"meta":{"n":null}}`},
		{`[{{loop meta/n}}1{{end}}]`, `[]`},
		{`{{ $body/json/meta }}|{{with $body}}{{ json/meta }}{{end}}|{{loop $body}}{{ count(json/*) }}{{end}}`, `{"n":null}|{"n":null}|2`},
	} {
		tp, err := Parse(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := tp.Execute(c, &b); err != nil || b.String() != tc.want {
			t.Errorf("%s\n got %s, %v\nwant %s", tc.src, b.String(), err, tc.want)
		}
	}
	if doc.Materialized() {
		t.Fatal("a template over a Tree materialised the document")
	}
	tp, err := Parse(`{ {{: items/value[1]/* }} }`)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tp.Execute(c, &b); err != nil || b.String() != `{ "name":"a","price":1,"tags":["x"] }` {
		t.Fatalf("pairs = %s, %v", b.String(), err)
	}
	if !doc.Materialized() {
		t.Fatal("pairs did not materialise")
	}
}

// TestStringCallAllocs checks that a string function in a loop writes its
// result into the output without an allocation per item
// (expr.Expr.AppendString), and escapes it as any other string.
func TestStringCallAllocs(t *testing.T) {
	items := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"items":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"item-%d \"q\" straße"}`, i)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	tp, err := Parse(`[{{loop items}}{{ toupper(name) }}{{end}}]`)
	if err != nil {
		t.Fatal(err)
	}
	perItem := func(n int) (float64, string) {
		tree, err := oxn.ParseTreeString(strings.ReplaceAll(items(n), " straße", ""), 0)
		if err != nil {
			t.Fatal(err)
		}
		doc := oxn.NewDoc(tree)
		c := &expr.Context{Ctx: context.Background(), Tree: expr.TreeNode{Doc: doc, Index: 0}, Scope: bodyScope{doc}}
		var b bytes.Buffer
		allocs := testing.AllocsPerRun(50, func() {
			b.Reset()
			if err := tp.Execute(c, &b); err != nil {
				t.Fatal(err)
			}
		})
		return allocs, b.String()
	}
	few, out := perItem(2)
	if want := `["ITEM-0 \"Q\"","ITEM-1 \"Q\""]`; out != want {
		t.Errorf("output %s, want %s", out, want)
	}
	// -race: sync.Pool drops items at random (the template's state comes
	// from one), so allocation counts vary from run to run.
	if many, _ := perItem(200); many > few && !racecheck.Enabled {
		t.Errorf("%.0f allocations for 200 items, %.0f for 2: the loop allocates per item", many, few)
	}

	// Non-ASCII goes through strings.ToUpper, with the same result.
	tree, err := oxn.ParseTreeString(items(1), 0)
	if err != nil {
		t.Fatal(err)
	}
	doc := oxn.NewDoc(tree)
	var b bytes.Buffer
	if err := tp.Execute(&expr.Context{Tree: expr.TreeNode{Doc: doc, Index: 0}, Scope: bodyScope{doc}}, &b); err != nil ||
		b.String() != `["ITEM-0 \"Q\" STRAßE"]` {
		t.Errorf("non-ASCII: %s, %v", b.String(), err)
	}
}
