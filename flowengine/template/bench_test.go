package template

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// benchTemplate is a 10-field object with placeholders, a loop over a
// 20-item array and a pair producer over 10 headers.
const benchTemplate = `{
  "id": {{ id }},
  "name": {{ name }},
  "email": {{ email ?? "none" }},
  "active": {{ active }},
  "score": {{ score }},
  "tags": {{ tags }},
  "city": {{ address/city }},
  "zip": {{ address/zip }},
  "missing": {{ nope ?? null-value ?? "d" }},
  "count": {{ count(items/value) }},
  "items": [
    {{loop items}}{"n": {{ n }}, "label": {{ label }}}{{end}}
  ],
  "headers": { {{: $request/headers/* }} }
}`

// benchData is the context document of benchTemplate.
func benchData() string {
	var items []string
	for i := 0; i < 20; i++ {
		items = append(items, fmt.Sprintf(`{"n": %d, "label": "item %d"}`, i, i))
	}
	return `{"id": 7, "name": "Ann", "email": "ann@example.com", "active": true, "score": 9.5,
	  "tags": ["a", "b"], "address": {"city": "Berlin", "zip": "10115"}, "null-value": null,
	  "items": [` + strings.Join(items, ",") + `]}`
}

func benchContext(b *testing.B) *expr.Context {
	doc, err := oxn.Parse([]byte(benchData()), 100)
	if err != nil {
		b.Fatal(err)
	}
	var hs []string
	for i := 0; i < 10; i++ {
		hs = append(hs, fmt.Sprintf(`"x-header-%d": "value %d"`, i, i))
	}
	req, err := oxn.Parse([]byte(`{"headers": {`+strings.Join(hs, ",")+`}}`), 100)
	if err != nil {
		b.Fatal(err)
	}
	return &expr.Context{
		Ctx:   context.Background(),
		Node:  doc.FirstElement(),
		Scope: benchScope{"request": expr.NodeSet{req.FirstElement()}},
	}
}

type benchScope map[string]expr.Value

func (m benchScope) Var(name string) (expr.Value, bool) { v, ok := m[name]; return v, ok }

func BenchmarkExecute(b *testing.B) {
	tp, err := Parse(benchTemplate)
	if err != nil {
		b.Fatal(err)
	}
	c := benchContext(b)
	var buf bytes.Buffer
	if err := tp.Execute(c, &buf); err != nil {
		b.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		b.Fatalf("invalid JSON: %s", buf.String())
	}
	timeExecute(b, tp, c, &buf)
}

// BenchmarkExecuteTree is BenchmarkExecute with the context document held
// as an oxn.Tree (as a FLAT JSON request body is).
func BenchmarkExecuteTree(b *testing.B) {
	tp, err := Parse(benchTemplate)
	if err != nil {
		b.Fatal(err)
	}
	c := benchContext(b)
	t, err := oxn.ParseTreeString(benchData(), 100)
	if err != nil {
		b.Fatal(err)
	}
	doc := oxn.NewDoc(t)
	c.Node, c.Tree = nil, expr.TreeNode{Doc: doc, Index: 0}
	var buf, want bytes.Buffer
	if err := tp.Execute(c, &buf); err != nil {
		b.Fatal(err)
	}
	if err := tp.Execute(benchContext(b), &want); err != nil || want.String() != buf.String() {
		b.Fatalf("over the Tree:\n%s\nover the dom:\n%s", buf.String(), want.String())
	}
	if doc.Materialized() {
		b.Fatal("the template materialised the Tree")
	}
	timeExecute(b, tp, c, &buf)
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchTemplate); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteOwn measures the template machinery alone: only variable
// references, constants and {{.}}, which need no XPath engine.
func BenchmarkExecuteOwn(b *testing.B) {
	tp, err := Parse(`{"a": {{ $s }}, "b": {{ $n }}, "c": {{ $arr }}, "d": "lit, [x]", {{$l := $s}}
  "e": [{{loop $arr}}{{.}}{{,}}{{end}}], {{if $t}}"f": {{ $l }},{{end}} {{with $arr}}"g": {{.}}{{end}} }`)
	if err != nil {
		b.Fatal(err)
	}
	arr, err := oxn.Parse([]byte(`[1, "two", {"three": 3}, [4], null, true]`), 10)
	if err != nil {
		b.Fatal(err)
	}
	c := &expr.Context{Ctx: context.Background(), Scope: benchScope{
		"s": "string \"value\"", "n": 12.5, "t": true, "arr": expr.NodeSet{arr},
	}}
	var buf bytes.Buffer
	if err := tp.Execute(c, &buf); err != nil {
		b.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		b.Fatalf("invalid JSON: %s", buf.String())
	}
	timeExecute(b, tp, c, &buf)
}

// timeExecute times tp's execution with c, after the checks the caller
// made with buf holding one output.
func timeExecute(b *testing.B, tp *Template, c *expr.Context, buf *bytes.Buffer) {
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := tp.Execute(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}
