package expr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// mapScope is a Scope backed by a map.
type mapScope map[string]Value

func (m mapScope) Var(n string) (Value, bool) {
	v, ok := m[n]
	return v, ok
}

func mustJSON(t testing.TB, s string) *dom.Node {
	t.Helper()
	doc, err := oxn.Parse([]byte(s), 0)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return doc
}

func mustXML(t testing.TB, s string) *dom.Node {
	t.Helper()
	doc, err := dom.ParseXML([]byte(s), 0)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return doc
}

// fixture returns the scope used by the semantic tests.
func fixture(t testing.TB) (mapScope, map[string]*dom.Node) {
	body := mustJSON(t, `{"a":{"b":1,"c":[1,2,3],"d":"x"},"list":[{"n":"a","v":1},{"n":"b","v":2}],"weird key":true,"nil":null}`)
	cfg := mustJSON(t, `{"stage":"prod","port":8080}`).FirstChild
	cfg.Detach()
	xml := mustXML(t, `<root a="1"><item id="1">one</item><item id="2">two</item><ns:x xmlns:ns="urn:x">nsx</ns:x></root>`)
	var parts NodeSet
	for _, s := range []string{"x", "y", "z"} {
		e := dom.NewElement("token")
		e.AppendChild(dom.NewText(s))
		parts = append(parts, e)
	}
	sc := mapScope{
		"body":    NodeSet{body},
		"cfg":     NodeSet{cfg},
		"xml":     NodeSet{xml},
		"parts":   parts,
		"s":       "hello",
		"n":       42.0,
		"half":    2.5,
		"t":       true,
		"f":       false,
		"empty":   NodeSet{},
		"request": NodeSet{requestTree(10)},
		"json":    `{"a":{"b":1},"arr":[1,2],"s":"x"}`,
		"bad":     `{"a":`,
		"nodes":   NodeSet{cfg.Child("stage"), cfg.Child("port")},
		"dash-ed": "d",
	}
	return sc, map[string]*dom.Node{"body": body, "cfg": cfg, "xml": xml}
}

// show renders a value for comparisons.
func show(v Value) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case float64:
		return FormatNumber(x)
	case bool:
		return fmt.Sprint(x)
	case NodeSet:
		parts := make([]string, len(x))
		for i, n := range x {
			switch n.Type {
			case dom.DocumentNode:
				parts[i] = "#doc"
			case dom.TextNode:
				if n.Name != "" {
					parts[i] = "@" + n.Name + "=" + n.Data
				} else {
					parts[i] = "#text=" + n.Data
				}
			default:
				parts[i] = n.Name + "=" + n.StringValue()
			}
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func TestEvalSemantics(t *testing.T) {
	sc, docs := fixture(t)
	tests := []struct {
		src  string
		ctx  string // key of docs for the context node; "" = none
		want string
	}{
		// Variables: raw values.
		{"$s", "", `"hello"`},
		{"$n", "", "42"},
		{"$t", "", "true"},
		{"$f", "", "false"},
		{"$undefined", "", "[]"},
		{"($s)", "", `"hello"`},
		{"$dash-ed", "", `"d"`},
		// Scalars inside XPath.
		{"$n + 1", "", "43"},
		{"$half * 2", "", "5"},
		{"-$n", "", "-42"},
		{"$s = 'hello'", "", "true"},
		{"concat($s, '-', $n, '-', $t)", "", `"hello-42-true"`},
		{"string-length($s)", "", "5"},
		{"boolean($t)", "", "true"},
		{"boolean($f)", "", "false"},
		{"not($f)", "", "true"},
		{"$f or $t", "", "true"},
		{"$f = false()", "", "true"},
		{"count($f)", "", "0"},
		{"count($t)", "", "1"},
		{"string($f)", "", `""`},
		// Undefined and empty.
		{"not($undefined)", "", "true"},
		{"string($undefined)", "", `""`},
		{"count($undefined)", "", "0"},
		{"$undefined = ''", "", "false"},
		{"count($empty)", "", "0"},
		{"$empty/a", "", "[]"},
		// Documents: need the json step.
		{"$body/json/a/b", "", "[b=1]"},
		{"$body/json/a/b = 1", "", "true"},
		{"$body/json/a/c/value[2]", "", "[value=2]"},
		{"$body/json/a/c/value[last()]", "", "[value=3]"},
		{"count($body/json/a/c/value)", "", "3"},
		{"sum($body/json/a/c/value)", "", "6"},
		{"$body/json/list/value[n = 'b']/v", "", "[v=2]"},
		{"$body/json/json-element[@name = 'weird key']", "", "[json-element=true]"},
		{"$body/json/nil/@null", "", "[@null=]"},
		{"boolean($body/json/nil/@null)", "", "true"},
		{"name($body/json/*[1])", "", `"a"`},
		{"$body/*/a/d", "", "[d=x]"},
		{"$body//d", "", "[d=x]"},
		{"$body/json/a/b | $body/json/a/d", "", "[b=1 d=x]"},
		{"$body/..", "", "[]"},
		// Elements: addressed directly.
		{"$cfg/stage", "", "[stage=prod]"},
		{"$cfg/port + 1", "", "8081"},
		{"name($cfg)", "", `"json"`},
		{"$cfg/@object", "", "[@object=]"},
		{"$cfg/..", "", "[]"},
		{"$cfg[stage = 'prod']/port", "", "[port=8080]"},
		{"$cfg[stage = 'dev']/port", "", "[]"},
		// Node-sets: one mount per node.
		{"$parts[2]", "", "[token=y]"},
		{"$parts[last()]", "", "[token=z]"},
		{"count($parts)", "", "3"},
		{"$parts[. = 'z']", "", "[token=z]"},
		{"$parts", "", "[token=x token=y token=z]"},
		{"($parts)[1]", "", "[token=x]"},
		{"$parts[position() > 1]", "", "[token=y token=z]"},
		{"$nodes/self::port", "", "[port=8080]"},
		{"$parts | $cfg/stage", "", "[token=x token=y token=z stage=prod]"},
		{"string($parts)", "", `"x"`},
		// $request-shaped trees.
		{"$request/headers/x-foo", "", "[x-foo=bar]"},
		{"$request/headers/x-foo = 'bar'", "", "true"},
		{"$request/headers/missing", "", "[]"},
		{"count($request/headers/*)", "", "10"},
		// XML documents; prefixes dropped.
		{"$xml/root/item[@id = 2]", "", "[item=two]"},
		{"$xml/root/@a", "", "[@a=1]"},
		{"$xml/root/ns:x", "", "[x=nsx]"},
		{"$xml/root/x", "", "[x=nsx]"},
		{"$xml//item/@id", "", "[@id=1 @id=2]"},
		// Extension calls with paths and nesting.
		{"json-parse($json)/a/b", "", "[b=1]"},
		{"json-parse($json)/a/b = 1", "", "true"},
		{"json-parse($json)/arr/value[2] * 10", "", "20"},
		{"json-stringify(json-parse($json)/a)", "", `"{\"b\":1}"`},
		{"json-stringify(json-parse($json))", "", `"{\"a\":{\"b\":1},\"arr\":[1,2],\"s\":\"x\"}"`},
		{"json-parse($bad)", "", "[]"},
		{"count(json-parse($bad))", "", "0"},
		{"name(json-parse($json))", "", `"json"`},
		{"json-to-xml($json)/json/s", "", "[s=x]"},
		{"tolower('ABC') = 'abc'", "", "true"},
		{"toupper(concat($s, 'x'))", "", `"HELLOX"`},
		{"ends-with($s, 'llo') and not(ends-with($s, 'x'))", "", "true"},
		{"ends-with($s, 'llo')", "", "true"},
		{"count(split('a b  c'))", "", "3"},
		{"split('a,b', ',')[2]", "", "[token=b]"},
		{"join('-', split('a b c'))", "", `"a-b-c"`},
		{"json-stringify(array($parts))", "", `"[\"x\",\"y\",\"z\"]"`},
		{"$body/json/a/c/value[position() = json-parse('2')]", "", "[value=2]"},
		{"$body/json/list/value[n = tolower('B')]/v", "", "[v=2]"},
		{"unixtime() > 1000000000", "", "true"},
		// Extension calls in predicates that read the context node run on
		// the engine's equivalents.
		{"$body/json/list/value[tolower(n) = 'b']/v", "", "[v=2]"},
		{"$body/json/list/value[ends-with(n, 'a')]/v", "", "[v=1]"},
		{"$body/json/list/value[matches(n, '^B$', 'i')]/v", "", "[v=2]"},
		{"$body/json/list/value[replace(n, 'a', 'z') = 'z']/v", "", "[v=1]"},
		{"$body/json/list/value[tolower() = 'b2']/v", "", "[v=2]"},
		// Context-relative evaluation.
		{"stage", "cfg", "[stage=prod]"},
		{".", "cfg", "[json=prod8080]"},
		{"/json/stage", "cfg", "[stage=prod]"},
		{"/", "cfg", "[]"},
		{"json/a/b", "body", "[b=1]"},
		{"/json/a/b", "body", "[b=1]"},
		{"/", "body", "[#doc]"},
		{"tolower(stage)", "cfg", `"prod"`},
		{"string-length()", "cfg", "8"},
		{"count(*)", "cfg", "2"},
		{"*[not(name() = 'port')]", "cfg", "[stage=prod]"},
		{"root/item[2]", "xml", "[item=two]"},
		{"stage = $cfg/stage", "cfg", "true"},
		{"$cfg/stage | stage", "cfg", "[stage=prod]"},
		// Built-in argument conversions.
		{"contains(12345, 34)", "", "true"},
		{"starts-with($n, 4)", "", "true"},
		{"substring('abcdef', $half)", "", `"cdef"`},
		{"substring-before(12.5, '.')", "", `"12"`},
		{"not(0)", "", "true"},
		{"not('')", "", "true"},
		{"round($half)", "", "3"},
		{"floor('2.7')", "", "2"},
		// Constants.
		{"'lit'", "", `"lit"`},
		{"3", "", "3"},
		{`"it's"`, "", `"it's"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			e, err := Compile(tt.src)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			c := &Context{Scope: sc, Ctx: context.Background()}
			if tt.ctx != "" {
				c.Node = docs[tt.ctx]
			}
			v, err := e.Eval(c)
			if err != nil {
				t.Fatalf("Eval: %v (xpath %q)", err, e.XPath())
			}
			if got := show(v); got != tt.want {
				t.Errorf("got %s, want %s (xpath %q)", got, tt.want, e.XPath())
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src  string
		code diag.Code
		col  int
		line int
	}{
		{"", diag.XPathSyntax, 1, 1},
		{"   ", diag.XPathSyntax, 1, 1},
		{"$", diag.BadVariable, 1, 1},
		{"a = $1x", diag.BadVariable, 5, 1},
		{"$a.b", diag.BadVariable, 3, 1},
		{"'abc", diag.XPathSyntax, 1, 1},
		{"foo(1)", diag.UnknownFunction, 1, 1},
		{"a and nope()", diag.UnknownFunction, 7, 1},
		{"concat('a')", diag.BadArity, 1, 1},
		{"json-parse()", diag.BadArity, 1, 1},
		{"x and json-parse(1, 2)", diag.BadArity, 7, 1},
		{"uuid4(1)", diag.BadArity, 1, 1},
		{"a[", diag.XPathSyntax, 3, 1},
		{"a]", diag.XPathSyntax, 2, 1},
		{"(a", diag.XPathSyntax, 3, 1},
		{"a b", diag.XPathSyntax, 3, 1},
		{"1 +", diag.XPathSyntax, 4, 1},
		{"a !b", diag.XPathSyntax, 3, 1},
		{"foo::bar", diag.XPathSyntax, 1, 1},
		{"namespace::x", diag.Unsupported, 1, 1},
		{"lang('en')", diag.Unsupported, 1, 1},
		{"a/following-sibling::b[md5(.) = 'x'][2]", diag.Unsupported, 3, 1},
		{"matches('a', '(')", diag.XPathSyntax, 1, 1},
		{"matches('a', 'a', 'q')", diag.XPathSyntax, 1, 1},
		{"a\n and $", diag.BadVariable, 6, 2},
		{"é and foo()", diag.UnknownFunction, 7, 1},
		{"a/count(b)", diag.XPathSyntax, 3, 1},
		{"@", diag.XPathSyntax, 2, 1},
		{"a::", diag.XPathSyntax, 1, 1},
		{"$x:y", diag.BadVariable, 3, 1},
		{"a | 1 +* 2", diag.XPathSyntax, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := Compile(tt.src)
			var pe *diag.PosError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *diag.PosError", err)
			}
			if pe.Code != tt.code || pe.Col != tt.col || pe.Line != tt.line {
				t.Errorf("got %s at %d:%d (%s), want %s at %d:%d", pe.Code, pe.Line, pe.Col, pe.Msg, tt.code, tt.line, tt.col)
			}
		})
	}
}

func TestCompileAccepts(t *testing.T) {
	// Predicates whose extension calls do not read the context node are
	// fine; so are calls reading the context outside predicates.
	for _, src := range []string{
		"a[b = json-parse($s)/x]",
		"a[md5($x) = 'y']",
		"tolower()",
		"a[uuid4() != '']",
		"a[tolower(string(b)) = 'x']",
		"child::a/descendant-or-self::node()/attribute::b",
		"processing-instruction('x') | comment() | text()",
		"- - 1",
		"a[1][2]",
		"$a[1]/b[2]//c",
		"(a | b)[1]",
		"a/b[c/d = 'x' and @e != 1]",
		"p:a/p:*",
		"1 div 2 mod 3",
		"a//b/../c",
	} {
		if _, err := Compile(src); err != nil {
			t.Errorf("Compile(%q): %v", src, err)
		}
	}
}

func TestVarNameAndSource(t *testing.T) {
	tests := []struct {
		src    string
		name   string
		isVar  bool
		xpath  string
		source string
	}{
		{"$body", "body", true, "", "$body"},
		{" ( $a-b ) ", "a-b", true, "", " ( $a-b ) "},
		{"$body/json", "", false, "/following-sibling::_fp.v.body/node()/json", "$body/json"},
		{"json-parse($x)", "", false, "", "json-parse($x)"},
		{"json-parse($x)/a", "", false, "/following-sibling::_fp.f.0/node()/a", "json-parse($x)/a"},
		{"$a = $a", "", false, "/following-sibling::_fp.v.a/node() = /following-sibling::_fp.v.a/node()", "$a = $a"},
	}
	for _, tt := range tests {
		e, err := Compile(tt.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.src, err)
		}
		name, ok := e.VarName()
		if name != tt.name || ok != tt.isVar || e.XPath() != tt.xpath || e.Source() != tt.source {
			t.Errorf("%q: VarName=%q,%v XPath=%q Source=%q", tt.src, name, ok, e.XPath(), e.Source())
		}
	}
}

func TestEvalCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := MustCompile("1 + 1")
	if _, err := e.Eval(&Context{Ctx: ctx}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestEvalNilContext(t *testing.T) {
	for src, want := range map[string]string{
		"$x":                     "[]",
		"count(/*)":              "0",
		".":                      "[]",
		"1 + 2":                  "3",
		"concat(tolower(), 'a')": `"a"`,
	} {
		v, err := MustCompile(src).Eval(nil)
		if err != nil || show(v) != want {
			t.Errorf("%s = %s, %v; want %s", src, show(v), err, want)
		}
	}
}

func TestEvalConversions(t *testing.T) {
	sc, _ := fixture(t)
	c := &Context{Scope: sc}
	if s, _ := MustCompile("$cfg/port").EvalString(c); s != "8080" {
		t.Errorf("EvalString = %q", s)
	}
	if n, _ := MustCompile("$cfg/port").EvalNumber(c); n != 8080 {
		t.Errorf("EvalNumber = %v", n)
	}
	if b, _ := MustCompile("$cfg/nothing").EvalBool(c); b {
		t.Errorf("EvalBool = true")
	}
	if ns, err := MustCompile("1 + 1").EvalNodes(c); err != nil || len(ns) != 0 {
		t.Errorf("EvalNodes(number) = %v, %v", ns, err)
	}
	if ns, _ := MustCompile("$cfg/*").EvalNodes(c); len(ns) != 2 {
		t.Errorf("EvalNodes = %v", ns)
	}
}

// TestEvalOriginalNodes checks node-set results are the scope's own nodes.
func TestEvalOriginalNodes(t *testing.T) {
	sc, docs := fixture(t)
	ns, err := MustCompile("$cfg/stage").EvalNodes(&Context{Scope: sc})
	if err != nil || len(ns) != 1 || ns[0] != docs["cfg"].Child("stage") {
		t.Fatalf("got %v, %v", ns, err)
	}
	ns, _ = MustCompile("$nodes").EvalNodes(&Context{Scope: sc})
	if len(ns) != 2 || ns[0] != docs["cfg"].Child("stage") {
		t.Fatalf("got %v", ns)
	}
	ns, _ = MustCompile("$nodes[1] | $nodes[2]").EvalNodes(&Context{Scope: sc})
	if len(ns) != 2 || ns[1] != docs["cfg"].Child("port") {
		t.Fatalf("got %v", ns)
	}
}

func TestEvalFunctionError(t *testing.T) {
	e := MustCompile("matches('a', $p)")
	_, err := e.Eval(&Context{Scope: mapScope{"p": "("}})
	if !errors.Is(err, ErrRegexp) {
		t.Fatalf("err = %v, want ErrRegexp", err)
	}
	e = MustCompile("matches('a', $p) or true()")
	if _, err := e.Eval(&Context{Scope: mapScope{"p": "("}}); !errors.Is(err, ErrRegexp) {
		t.Fatalf("err = %v, want ErrRegexp", err)
	}
	// The engine's own run-time errors become errors, not panics.
	e = MustCompile("substring('abc', $undefined)")
	if _, err := e.Eval(nil); !errors.Is(err, ErrEval) {
		t.Fatalf("err = %v, want ErrEval", err)
	}
	e = MustCompile("sum('x')")
	if _, err := e.Eval(nil); !errors.Is(err, ErrEval) {
		t.Fatalf("err = %v, want ErrEval", err)
	}
}

func TestConcurrentEval(t *testing.T) {
	sc, _ := fixture(t)
	e := MustCompile("$body/json/list/value[n = 'b']/v + count($parts)")
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				n, err := e.EvalNumber(&Context{Scope: sc})
				if err == nil && n != 5 {
					err = fmt.Errorf("got %v", n)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestComparisons(t *testing.T) {
	sc, _ := fixture(t)
	for src, want := range map[string]bool{
		"'bar' = $request/headers/x-foo":          true,
		"'bar' != $request/headers/x-foo":         false,
		"2 = $body/json/a/c/value":                true,
		"3 < $body/json/a/c/value":                false,
		"1 < $body/json/a/c/value":                true,
		"$body/json/a/c/value > 2":                true,
		"4 > $body/json/a/c/value":                true,
		"'y' = $parts":                            true,
		"true() = $parts":                         true,
		"false() = $undefined":                    true,
		"$undefined != true()":                    true,
		"$parts = $body/json/list/value/n":        false,
		"$parts = split('q y')":                   true,
		"1 = 1.0":                                 true,
		"'1' = 1":                                 true,
		"$body/json/a/c/value[1.5]":               false,
		"($body/json/a/c/value)[2] = 2":           true,
		"json-parse('[1,2]')/value = 2":           true,
		"2 = json-parse('[1,2]')/value":           true,
		"$cfg/port >= 8080 and $cfg/port <= 8080": true,
	} {
		got, err := MustCompile(src).EvalBool(&Context{Scope: sc})
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
}

func TestUnicodeNames(t *testing.T) {
	sc := mapScope{"café": "x", "日本": NodeSet{mustJSON(t, `{"ключ":{"値":1}}`)}}
	for src, want := range map[string]string{
		"$café":                      `"x"`,
		"concat($café, $café)":       `"xx"`,
		"$日本/json/ключ/値":            "[値=1]",
		"count($日本/json/ключ/値) = 1": "true",
	} {
		v, err := MustCompile(src).Eval(&Context{Scope: sc})
		if err != nil || show(v) != want {
			t.Errorf("%s = %s, %v; want %s", src, show(v), err, want)
		}
	}
}

// TestPredicatesPerNode covers extension calls that read the predicate's
// node: they are evaluated node by node.
func TestPredicatesPerNode(t *testing.T) {
	sc, docs := fixture(t)
	sc["users"] = NodeSet{mustJSON(t, `[{"id":1,"name":"ALICE"},{"id":2,"name":"Bob"},{"id":3,"name":"carol"},{"id":4,"name":" Dan "},{"id":5,"name":"E F"}]`).FirstChild}
	sc["files"] = NodeSet{mustJSON(t, `["a.JSON","b.json","c.xml","d.txt"]`).FirstChild}
	tests := []struct{ src, ctx, want string }{
		{"count($users/value/name[toupper() = 'BOB'])", "", "1"},
		{"$users/value[toupper(name) = 'BOB']/id", "", "[id=2]"},
		{"$users/value[md5(name) = '2fc1c0beb992cd7096975cfebf9d5c3b']/id", "", "[id=2]"},
		{"$users/value[capitalize-first(name) = 'Carol']/id", "", "[id=3]"},
		{"$users/value[trim(name) = 'Dan']/id", "", "[id=4]"},
		{"$users/value[url-encode(name) = 'E%20F']/id", "", "[id=5]"},
		{"$users/value[replace(name, '\\s', '') = 'EF']/id", "", "[id=5]"},
		{"join(',', $files/value[matches(., '\\.json$', 'i')])", "", `"a.JSON,b.json"`},
		{"join(',', $files/value[ends-with(., '.xml')])", "", `"c.xml"`},
		{"join(',', $files/value[tolower(.) = 'b.json'])", "", `"b.json"`},
		// Positions count per parent, and after each predicate.
		{"$users/value[ends-with(name, 'b') or ends-with(name, 'l')][1]/id", "", "[id=2]"},
		{"$users/value[ends-with(name, 'b') or ends-with(name, 'l')][2]/id", "", "[id=3]"},
		{"$users/value/name[tolower() = 'carol']/following-sibling::*", "", "[]"},
		{"$users/value/id[md5(.) != ''][last()]/../name", "", "[name=ALICE name=Bob name=carol name= Dan  name=E F]"},
		{"$users/value[md5(id) != ''][last()]/name", "", "[name=E F]"},
		{"$users/value[tolower(name) != 'x'][last()]/id", "", "[id=5]"},
		{"$users/value[position() > 1 and toupper(name) = name]/id", "", "[id=5]"},
		{"$users/value[string-length(trim(name)) = 3][2]/id", "", "[id=4]"},
		{"$users/value/name[tolower() = 'bob']/../id", "", "[id=2]"},
		{"$body/json/a/c/value[string-length(md5(.)) = position() * 16]", "", "[value=2]"},
		// Filter expressions and nesting.
		{"$parts[toupper(.) = 'Y']", "", "[token=y]"},
		{"$parts[toupper(.) != 'Y'][2]", "", "[token=z]"},
		{"count($users/value[$parts[toupper(.) = 'Y'] = 'y'])", "", "5"},
		{"$users/value[name[tolower(.) = 'bob']]/id", "", "[id=2]"},
		{"$users/value[name[tolower(.) = 'bob'] or id = 1]/id", "", "[id=1 id=2]"},
		// Relative to the context node.
		{"*[toupper(.) = 'PROD']", "cfg", "[stage=prod]"},
		{"list/value[tolower(n) = 'b']/v", "body", "[]"},
		{"json/list/value[toupper(n) = 'B']/v", "body", "[v=2]"},
		{"json-stringify(json/list/value[toupper(n) = 'A'])", "body", `"{\"n\":\"a\",\"v\":1}"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			e, err := Compile(tt.src)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			v, err := e.Eval(&Context{Scope: sc, Node: docs[tt.ctx]})
			if err != nil {
				t.Fatalf("Eval: %v (xpath %q)", err, e.XPath())
			}
			if got := show(v); got != tt.want {
				t.Errorf("got %s, want %s (xpath %q)", got, tt.want, e.XPath())
			}
		})
	}
}
