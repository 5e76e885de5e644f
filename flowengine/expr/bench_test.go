package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// requestTree builds a $request-shaped OXN object with n headers.
func requestTree(n int) *dom.Node {
	r := oxn.NewObject("request")
	oxn.AddMember(r, "method", oxn.NewString("", "GET"))
	oxn.AddMember(r, "path", oxn.NewString("", "/api/foo"))
	h := oxn.NewObject("")
	for i := 0; i < n-1; i++ {
		oxn.AddMember(h, fmt.Sprintf("x-header-%d", i), oxn.NewString("", fmt.Sprintf("value-%d", i)))
	}
	oxn.AddMember(h, "x-foo", oxn.NewString("", "bar"))
	oxn.AddMember(r, "headers", h)
	return r
}

// body4K returns a JSON object of about 4 KiB with an items array.
func body4K() []byte {
	var b strings.Builder
	b.WriteString(`{"id":"req-1","items":[`)
	for i := 0; b.Len() < 4000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item number %d","price":%d.5,"tags":["a","b"],"ok":true}`, i, i, i*3)
	}
	b.WriteString(`],"total":3}`)
	return []byte(b.String())
}

func benchEval(b *testing.B, src string, c *Context, want string) {
	e, err := Compile(src)
	if err != nil {
		b.Fatal(err)
	}
	if got, err := e.EvalString(c); err != nil || got != want {
		b.Fatalf("%s = %q, %v; want %q", src, got, err, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Eval(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalRequestHeader(b *testing.B) {
	c := &Context{Scope: mapScope{"request": NodeSet{requestTree(10)}}}
	benchEval(b, "$request/headers/x-foo = 'bar'", c, "true")
}

func BenchmarkEvalJSONParsePath(b *testing.B) {
	c := &Context{Scope: mapScope{"s": `{"a":{"b":7}}`}}
	benchEval(b, "json-parse($s)/a/b", c, "7")
}

func BenchmarkEvalConcat(b *testing.B) {
	c := &Context{Scope: mapScope{"a": "foo", "b": "bar"}}
	benchEval(b, "concat($a, '-', $b)", c, "foo-bar")
}

func BenchmarkEvalBody4K(b *testing.B) {
	doc, err := oxn.Parse(body4K(), 0)
	if err != nil {
		b.Fatal(err)
	}
	c := &Context{Scope: mapScope{"body": NodeSet{doc}}}
	benchEval(b, "$body/json/items/value[3]/name", c, "item number 2")
}

// BenchmarkParseAndEvalBody4K is the request hot path: parse a 4 KiB JSON
// body into OXN and read one value with XPath.
func BenchmarkParseAndEvalBody4K(b *testing.B) {
	body := body4K()
	e := MustCompile("$body/json/items/value[3]/name")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		doc, err := oxn.Parse(body, 0)
		if err != nil {
			b.Fatal(err)
		}
		s, err := e.EvalString(&Context{Scope: mapScope{"body": NodeSet{doc}}})
		if err != nil || s != "item number 2" {
			b.Fatal(s, err)
		}
	}
}

// BenchmarkParseTreeAndEvalBody4K is BenchmarkParseAndEvalBody4K with the
// body held as an oxn.Tree, as the FLAT run holds $body.
func BenchmarkParseTreeAndEvalBody4K(b *testing.B) {
	body := body4K()
	e := MustCompile("$body/json/items/value[3]/name")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		t, err := oxn.ParseTree(body, 0)
		if err != nil {
			b.Fatal(err)
		}
		s, err := e.EvalString(&Context{Scope: treeScope{oxn.NewDoc(t)}})
		if err != nil || s != "item number 2" {
			b.Fatal(s, err)
		}
	}
}

func BenchmarkEvalVar(b *testing.B) {
	c := &Context{Scope: mapScope{"a": "foo"}}
	benchEval(b, "$a", c, "foo")
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile("$request/headers/x-foo = 'bar' and json-parse($s)/a/b = 1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvalFieldPredicate runs items/value[id = 7]/name, evaluated
// directly on the tree.
func BenchmarkEvalFieldPredicate(b *testing.B) {
	doc, err := oxn.Parse(body4K(), 0)
	if err != nil {
		b.Fatal(err)
	}
	c := &Context{Scope: mapScope{"body": NodeSet{doc}}}
	benchEval(b, "$body/json/items/value[id = 7]/name", c, "item number 7")
}

// BenchmarkEvalSplitPredicate runs a predicate calling an extension
// function per node.
func BenchmarkEvalSplitPredicate(b *testing.B) {
	doc, err := oxn.Parse(body4K(), 0)
	if err != nil {
		b.Fatal(err)
	}
	c := &Context{Scope: mapScope{"body": NodeSet{doc}}}
	benchEval(b, "$body/json/items/value[toupper(name) = 'ITEM NUMBER 7']/id", c, "7")
}

// BenchmarkEvalEngine runs an expression that needs the XPath engine.
func BenchmarkEvalEngine(b *testing.B) {
	doc, err := oxn.Parse(body4K(), 0)
	if err != nil {
		b.Fatal(err)
	}
	c := &Context{Scope: mapScope{"body": NodeSet{doc}}}
	benchEval(b, "count($body/json/items/value[id > 7 and ok = 'true'])", c, "46")
}

// BenchmarkEvalDirect: the direct evaluators (concat of paths and calls,
// count/sum/not of a path, a path compared with a number, EvalString of
// a path) against the same expressions run by the XPath engine.
func BenchmarkEvalDirect(b *testing.B) {
	doc, err := oxn.Parse(body4K(), 0)
	if err != nil {
		b.Fatal(err)
	}
	c := &Context{Scope: mapScope{"body": NodeSet{doc}, "request": NodeSet{requestTree(10)}}}
	for _, tc := range []struct{ src, want string }{
		{`concat("Hello, ", capitalize-first($request/headers/x-foo), "!")`, "Hello, Bar!"},
		{"count($body/json/items/value)", "54"},
		{"sum($body/json/items/value/price)", "4320"},
		{"not($body/json/items)", "false"},
		{"$body/json/total >= 3", "true"},
	} {
		for _, direct := range []bool{true, false} {
			name := tc.src
			if !direct {
				name += "/engine"
			}
			b.Run(name, func(b *testing.B) {
				useFast = direct
				defer func() { useFast = true }()
				benchEval(b, tc.src, c, tc.want)
			})
		}
	}
}
