package expr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// treeScope holds $body as an *oxn.Doc (as the FLAT run does) and $s as a
// plain string.
type treeScope struct{ doc *oxn.Doc }

func (s treeScope) Var(n string) (Value, bool) {
	switch n {
	case "body":
		return s.doc, true
	case "s":
		return "hello", true
	}
	return nil, false
}

func (s treeScope) TreeVar(n string) (TreeNode, bool) {
	if n == "body" {
		return TreeNode{Doc: s.doc, Index: oxn.DocIndex}, true
	}
	return TreeNode{}, false
}

// treeDocs are the documents of the Parse-vs-Tree differential test.
var treeDocs = []string{
	`{"Object":{"String":"foo","Number":-1234.56,"Boolean":true,"Null":null,"Array":["bar",42]},"Empty Object":{}}`,
	`[{"id":1,"name":"one","tags":["a","b"],"price":2.5},{"id":2,"name":"two","tags":[],"price":"x"},{"id":3,"name":"three"}]`,
	`{"items":[{"id":1,"name":"one"},{"id":2,"name":"two"}],"total":2,"a":{"b":"x"},"nil":null}`,
	`{"1x":1,"a b":{"c":2},"value":{"json":true},"json-element":3}`,
	`"s"`, `""`, `12`, `true`, `false`, `null`, `[]`, `{}`, `[[1,2],[3]]`,
}

// treeExprs are evaluated with $body and the context node over Parse's
// document and over the Tree: simple paths (walked on the Tree) and
// expressions for the engine (materialised).
var treeExprs = []string{
	`$body`, `$body/json`, `$body/json/items`, `$body/json/items/value`, `$body/json/items/value[2]/name`,
	`$body/json/*`, `$body/json/*/*`, `$body/json/*/@*`, `$body/json/@object`, `$body/json/@*`, `$body[1]/json`,
	`$body[2]/json`, `$body/json/Object/String`, `$body/json/json-element/@name`, `$body/json/value[id = 2]/name`,
	`$body/json/value[name != 'one']/id`, `$body/json/*[1.5]`, `$body/json/value[2]`, `$body/json/*/value[1]`,
	`count($body/json/*)`, `count($body/json/*/*)`, `sum($body/json/*/price)`, `sum($body/json/value/id)`,
	`not($body/json/items)`, `boolean($body/json/a)`, `$body/json/a/b = 'x'`, `$body/json/value/id > 1`,
	`$body/json/*/* = 1`, `$body/json/value/id != 1`, `$body/json/value/price <= 2.5`, `string($body)`,
	`concat($body/json/a/b, '-', $body/json/total)`, `$body//name`, `$body/json/*[last()]`, `name($body/json/*[1])`,
	`$body/json/items/value | $body/json/a`, `toupper($body/json/items/value[1]/name)`,
	`.`, `*`, `*/*`, `name`, `value`, `value[1]`, `value[2]/name`, `@*`, `@string`, `@name`, `id = 2`, `count(*)`,
	`sum(*/price)`, `not(items)`, `*[id = 1]/name`, `..`, `../*`, `//*`, `string(.)`, `toupper(name)`, `name()`,
	`. = 'foo'`, `count(.)`, `boolean(.)`, `*/id < 3`, `concat(name, '/', id)`, `items/value[name = 'two']/id`,
}

// describeNodes identifies nodes by kind, name, data and position in
// their document, so that nodes of two equal documents compare equal.
func describeNodes(ns NodeSet) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "[%d %q %q @", n.Type, n.Name, n.Data)
		for p := n; p != nil; p = p.Parent {
			i := 0
			for s := p.PrevSibling; s != nil; s = s.PrevSibling {
				i++
			}
			fmt.Fprintf(&b, "/%s%d", p.Name, i)
		}
		b.WriteString("]")
	}
	return b.String()
}

func describeValue(v Value, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	if ns, ok := v.(NodeSet); ok {
		return "nodes: " + describeNodes(ns)
	}
	return fmt.Sprintf("%T %v", v, v)
}

// domElements lists a document's elements in document order: tree index
// i is element i.
func domElements(n *dom.Node, out []*dom.Node) []*dom.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == dom.ElementNode {
			out = append(out, c)
			out = domElements(c, out)
		}
	}
	return out
}

// TestTreeMatchesDOM evaluates every expression of treeExprs with every
// element (and the document) of every treeDocs document as the context
// node, once over Parse's document and once over the Tree, through Eval,
// EvalString, EvalBool, EvalNumber, EvalFirst, EvalFirstTree and
// EvalTreeNodes: the results must be the same nodes and values.
func TestTreeMatchesDOM(t *testing.T) {
	for _, src := range treeDocs {
		compareTreeDOM(t, src, -2)
	}
}

// FuzzTreeMatchesDOM is TestTreeMatchesDOM over any JSON text, with the
// document and its first element as context nodes.
func FuzzTreeMatchesDOM(f *testing.F) {
	for _, src := range treeDocs {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if _, err := oxn.ParseString(src, 64); err != nil {
			return
		}
		compareTreeDOM(t, src, 0)
	})
}

// compareTreeDOM runs every expression of treeExprs over src held as
// Parse's document and as a Tree, with the document and every element up
// to index last (all of them for last < -1) as the context node.
func compareTreeDOM(t *testing.T, src string, last int32) {
	t.Helper()
	want, err := oxn.ParseString(src, 64)
	if err != nil {
		t.Fatal(err)
	}
	els := domElements(want, nil)
	if last < -1 || last >= int32(len(els)) {
		last = int32(len(els)) - 1
	}
	for _, xs := range treeExprs {
		e, err := Compile(xs)
		if err != nil {
			t.Fatalf("%s: %v", xs, err)
		}
		for ci := oxn.DocIndex; ci <= last; ci++ {
			tree, err := oxn.ParseTreeString(src, 64)
			if err != nil {
				t.Fatal(err)
			}
			doc := oxn.NewDoc(tree)
			dc := &Context{Scope: mapScope{"body": NodeSet{want}, "s": "hello"}, Node: want}
			if ci >= 0 {
				dc.Node = els[ci]
			}
			tc := &Context{Scope: treeScope{doc}, Tree: TreeNode{Doc: doc, Index: ci}}
			where := fmt.Sprintf("%s in %s at %d", xs, src, ci)
			for _, f := range []struct {
				name string
				eval func(*Context) string
			}{
				{"Eval", func(c *Context) string { return describeValue(e.Eval(c)) }},
				{"EvalString", func(c *Context) string { return describeValue(e.EvalString(c)) }},
				{"EvalBool", func(c *Context) string { return describeValue(e.EvalBool(c)) }},
				{"EvalNumber", func(c *Context) string { return describeValue(e.EvalNumber(c)) }},
				{"EvalFirst", func(c *Context) string {
					n, v, err := e.EvalFirst(c)
					if n != nil {
						return describeValue(NodeSet{n}, err)
					}
					return describeValue(v, err)
				}},
			} {
				if got, exp := f.eval(tc), f.eval(dc); got != exp {
					t.Fatalf("%s %s:\n tree %s\n  dom %s", f.name, where, got, exp)
				}
			}
			first, ok, err := e.EvalFirstTree(tc)
			if err != nil {
				t.Fatalf("EvalFirstTree %s: %v", where, err)
			}
			if ok {
				var exp NodeSet
				if n, _, _ := e.EvalFirst(dc); n != nil {
					exp = NodeSet{n}
				}
				if got, exp := describeNodes(nodesOf(first)), describeNodes(exp); got != exp {
					t.Fatalf("EvalFirstTree %s:\n tree %s\n  dom %s", where, got, exp)
				}
			}
			tns, ok, err := e.EvalTreeNodes(tc, nil)
			if err != nil {
				t.Fatalf("EvalTreeNodes %s: %v", where, err)
			}
			if ok {
				ns, _ := e.EvalNodes(dc)
				if got, exp := describeNodes(nodesOf(tns...)), describeNodes(ns); got != exp {
					t.Fatalf("EvalTreeNodes %s:\n tree %s\n  dom %s", where, got, exp)
				}
			}
		}
	}
}

// nodesOf materialises Tree nodes.
func nodesOf(tns ...TreeNode) NodeSet {
	var out NodeSet
	for _, tn := range tns {
		if n := tn.Node(); n != nil {
			out = append(out, n)
		}
	}
	return out
}

// TestTreeStaysCompact checks that what simple paths read over a Tree
// body — strings, booleans, numbers, counts, comparisons, first nodes and
// node lists as Tree nodes — never builds the *dom.Node document, and that
// anything else does, once, with the nodes a dom evaluation gives.
func TestTreeStaysCompact(t *testing.T) {
	src := `{"items":[{"id":1,"name":"one"},{"id":2,"name":"two"}],"total":2,"a":{"b":"x"}}`
	tree, err := oxn.ParseTreeString(src, 0)
	if err != nil {
		t.Fatal(err)
	}
	doc := oxn.NewDoc(tree)
	c := &Context{Scope: treeScope{doc}}
	for _, tc := range []struct{ src, want string }{
		{`$body/json/items/value[2]/name`, "two"},
		{`$body/json/a/b = 'x'`, "true"},
		{`not($body/json/items)`, "false"},
		{`count($body/json/items/value)`, "2"},
		{`sum($body/json/items/value/id)`, "3"},
		{`$body/json/items/value/id > 1`, "true"},
		{`concat($body/json/a/b, '-', $body/json/total)`, "x-2"},
		{`toupper($body/json/items/value[1]/name)`, "ONE"},
		{`$body/json/items/value[id = 2]/name`, "two"},
		{`$body/json/@object`, ""},
	} {
		got, err := MustCompile(tc.src).EvalString(c)
		if err != nil || got != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.src, got, err, tc.want)
		}
		// Every case selects something or is a true comparison, except
		// the ones whose string is "false".
		if ok, err := MustCompile(tc.src).EvalBool(c); err != nil || ok != (tc.want != "false") {
			t.Errorf("EvalBool %s = %v, %v", tc.src, ok, err)
		}
	}
	if first, ok, err := MustCompile(`$body`).EvalFirstTree(c); !ok || err != nil || first.Doc != doc || first.Index != oxn.DocIndex {
		t.Fatalf("EvalFirstTree($body) = %v, %v, %v", first, ok, err)
	}
	tns, ok, err := MustCompile(`$body/json/items/value`).EvalTreeNodes(c, nil)
	if !ok || err != nil || len(tns) != 2 {
		t.Fatalf("EvalTreeNodes = %v, %v, %v", tns, ok, err)
	}
	ic := &Context{Scope: treeScope{doc}, Tree: tns[1]}
	if s, err := MustCompile(`toupper(name)`).EvalString(ic); err != nil || s != "TWO" {
		t.Fatalf("toupper(name) at item 2 = %q, %v", s, err)
	}
	if first, ok, err := MustCompile(`name`).EvalFirstTree(ic); !ok || err != nil || first.Index == oxn.DocIndex || tree.StringValue(first.Index) != "two" {
		t.Fatalf("EvalFirstTree(name) = %v, %v, %v", first, ok, err)
	}
	if doc.Materialized() {
		t.Fatal("a simple path over the Tree materialised the document")
	}
	// The engine needs *dom.Node: the document is built, and the nodes
	// are those of the materialised document.
	ns, err := MustCompile(`$body//name`).EvalNodes(c)
	if err != nil || len(ns) != 2 || !doc.Materialized() {
		t.Fatalf("$body//name = %v, %v (materialised %v)", ns, err, doc.Materialized())
	}
	if ns[1] != tns[1].Node().FirstChild.NextSibling {
		t.Fatal("the engine's node is not the materialised Tree node")
	}
}

// TestTreeCancelled: a cancelled context stops Tree evaluations with the
// context's error.
func TestTreeCancelled(t *testing.T) {
	tree, err := oxn.ParseTreeString(`{"a":[1,2]}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &Context{Ctx: ctx, Scope: treeScope{oxn.NewDoc(tree)}}
	e := MustCompile(`$body/json/a/value`)
	if _, ok, err := e.EvalTreeNodes(c, nil); !ok || !errors.Is(err, context.Canceled) {
		t.Fatalf("EvalTreeNodes = %v, %v", ok, err)
	}
	if _, ok, err := e.EvalFirstTree(c); !ok || !errors.Is(err, context.Canceled) {
		t.Fatalf("EvalFirstTree = %v, %v", ok, err)
	}
	if _, err := e.EvalString(c); !errors.Is(err, context.Canceled) {
		t.Fatalf("EvalString = %v", err)
	}
}
