package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// compileBoth compiles src with and without the direct path evaluator.
func compileBoth(t testing.TB, src string) (fast, engine *Expr, err error) {
	fast, err = Compile(src)
	if err != nil {
		return nil, nil, err
	}
	useFast = false
	defer func() { useFast = true }()
	engine, err = Compile(src)
	return fast, engine, err
}

func TestFastPathMatchesEngine(t *testing.T) {
	sc, docs := fixture(t)
	sc["dup"] = NodeSet{docs["cfg"], docs["cfg"]}
	for _, src := range []string{
		"$body/json/a/b", "$body/json/a/c/value[2]", "$body/json/a/c/value[4]", "$body/json/a/c/value[0]", "$body/json/a/c/value[1.5]", "$parts[2.0]",
		"$body/json/*/b", "$body/*/*", "$body/json/a/@object", "$body/json/a/@*",
		"$cfg/stage", "$cfg/@*", "$parts[2]", "$parts[4]", "$s[1]", "$s[2]", "$n[1]", "$t[1]", "$f[1]",
		"$undefined/a", "$s/a", "$xml/root/item[2]/@id", "$xml/root/item/@id", "$nodes[2]", "$dup/stage",
		"$request/headers/x-foo", "$request/headers/*[3]", "$body/json/list/value[2]/n",
		"stage", "*", "*[2]", "json/a/b", "root/item", "@a", "item/@id",
		"$request/headers/x-foo = 'bar'", "'bar' = $request/headers/x-foo", "$request/headers/x-foo != 'bar'",
		"$request/headers/* != 'bar'", "$body/json/a/c/value = 2", "$body/json/a/c/value != 2",
		"$body/json/a/c/value = 4", "$cfg/port = 8080", "$cfg/port = '8080'", "$cfg/port != 8080.0",
		"$s[1] = 'hello'", "$undefined/x != 'a'", "stage = 'prod'", "$xml/root/@a = 1", "($cfg/stage) = 'prod'",
		"$parts[2] = 'y'", "$t[1] = 'true'", "$f[1] = 'false'",
		"tolower($cfg/stage) = 'prod'", "'PROD' != toupper($cfg/stage)", "ends-with($s, 'lo') = 'true'",
		"ends-with($s, 'lo') = 1", "json-parse('[1,2]') = '12'",
		"split('a b') = 'b'", "split('a b') != 'b'", "unixtime() = 5", "md5($undefined) = ''",
		"ends-with($s, 'x') = ''", "uuid4() != 'x'",
		"$body/json/list/value[n = 'b']/v", "$body/json/list/value[v = 1]/n", "$body/json/list/value[v != 1]",
		"$body/json/list/value[* = 'a']", "$body/json/list/*[n = 'zz']", "$xml/root/item[@id = 2]",
		"$xml/root/item[@id != 2]/@id", "$xml/root/*[@id = '1']", "json/list/value[n = 'a']/v",
		"$body/json/a/c/value[. = 2]", ".", "./stage", "$cfg/./stage", "json/./a/b", ". = 'prod8080'", "$body/json/list/value[n = 'b']/v = 2",
	} {
		fast, engine, err := compileBoth(t, src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if fast.kind != kFastPath && fast.kind != kFastCmp && fast.kind != kCallCmp {
			t.Errorf("%q is not on the fast path", src)
		}
		for _, node := range []string{"", "cfg", "body", "xml"} {
			c := &Context{Scope: sc, Node: docs[node]}
			a, err1 := fast.Eval(c)
			b, err2 := engine.Eval(c)
			if err1 != nil || err2 != nil || show(a) != show(b) {
				t.Errorf("%q at %q: fast %s %v, engine %s %v", src, node, show(a), err1, show(b), err2)
			}
		}
	}
}

// TestFastPathNotUsed lists expressions that must not take the path or
// equality fast paths (kFastPath, kFastCmp). Some of them have direct
// evaluators of their own: "$a/b < 3" runs as kFastRel, whose results
// TestFastRelMatchesEngine and FuzzCompile check against the XPath engine.
func TestFastPathNotUsed(t *testing.T) {
	for _, src := range []string{
		"$body//a", "$a/b[c]", "$a/b[1][2]", "$a/..", ".//a", "/a", "$a/text()", "$a/@x/b", "a[last()]",
		"$a = 'x'", "$a/b = $c", "$a/b < 3", "child::a/following-sibling::b", "$a[$n]",
		"$a/b[c = 'x'][1]", "$a/b[c = $d]", "$a/b[$c/d = 'x']", "$a/b[c/d[1] = tolower('x')]",
	} {
		e, err := Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if e.kind == kFastPath || e.kind == kFastCmp {
			t.Errorf("%q unexpectedly on the fast path", src)
		}
	}
}

func TestConcatMatchesEngine(t *testing.T) {
	sc, docs := fixture(t)
	sc["withnil"] = NodeSet{nil, docs["cfg"]}
	for _, src := range []string{
		`concat("Hello, ", capitalize-first($request/headers/x-foo), "!")`,
		`concat($s, '-', $n)`, `concat($t, $f, 'x')`, `concat($half, $empty, $undefined)`,
		`concat($parts, '/', $parts[2])`, `concat($cfg/stage, ':', $cfg/port)`, `concat($body/json/a/c/value, 'x')`,
		`concat($body, '|')`, `concat($xml/root/item/@id, @a, '.')`, `concat(stage, '=', port)`, `concat(., '!')`,
		`concat($cfg/stage = 'prod', '-', $cfg/port != 8080)`, `concat(toupper($s), tolower('AB'), 'c')`,
		`concat(json-parse('[1,2]'), 'x')`, `concat(split('a b'), '|')`, `concat(ends-with($s, 'x'), '|')`,
		`concat(concat($s, 'a'), ('b'), concat('c', $cfg/stage))`, `concat($nodes, $withnil, $json)`,
		`concat(tolower($cfg/stage) = 'prod', 'x')`, `concat($dash-ed, '')`, `concat(trim(' a '), md5($s))`,
	} {
		fast, engine, err := compileBoth(t, src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if fast.kind != kConcat {
			t.Errorf("%q is not a direct concat (kind %d)", src, fast.kind)
		}
		if got, want := fmt.Sprint(fast.Vars()), fmt.Sprint(engine.Vars()); got != want {
			t.Errorf("%q: Vars() = %s, engine form %s", src, got, want)
		}
		for _, node := range []string{"", "cfg", "body", "xml"} {
			c := &Context{Scope: sc, Node: docs[node]}
			a, err1 := fast.Eval(c)
			b, err2 := engine.Eval(c)
			if err1 != nil || err2 != nil || show(a) != show(b) {
				t.Errorf("%q at %q: direct %s %v, engine %s %v", src, node, show(a), err1, show(b), err2)
			}
		}
	}
	for _, src := range []string{`concat($s, 1)`, `concat($a/b[c], 'x')`, `concat(count($parts), 'x')`, `concat(//a, 'x')`} {
		e, err := Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if e.kind == kConcat {
			t.Errorf("%q unexpectedly a direct concat", src)
		}
	}
}

// TestEvalFirstMatchesEval checks EvalFirst, EvalString and EvalBool
// against Eval and the conversions.
func TestEvalFirstMatchesEval(t *testing.T) {
	sc, docs := fixture(t)
	for _, src := range []string{
		"$body/json/a/b", "$body/json/a/c/value", "$body/json/none", "$xml/root/item/@id", "$xml/root/@*", "$parts[2]",
		"$s", "$n", "$t", "$f", "$empty", "$undefined", "stage", "*", "@a", ".", "$cfg/stage = 'prod'", "count($parts)",
		"toupper($s)", "concat($s, $cfg/stage)", "$body//b", "json-parse($json)/json/arr/value",
	} {
		e, err := Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		checkEvalForms(t, e, sc, docs)
	}
}

func checkEvalForms(t testing.TB, e *Expr, sc Scope, docs map[string]*dom.Node) {
	for _, node := range []string{"", "cfg", "body", "xml"} {
		c := &Context{Scope: sc, Node: docs[node]}
		v, err := e.Eval(c)
		if v2, err2 := e.Eval(c); (err == nil) != (err2 == nil) || err == nil && show(v) != show(v2) {
			continue // not deterministic (uuid4(), unixtime())
		}
		n, scalar, err1 := e.EvalFirst(c)
		s, err2 := e.EvalString(c)
		b, err3 := e.EvalBool(c)
		if (err == nil) != (err1 == nil) || (err == nil) != (err2 == nil) || (err == nil) != (err3 == nil) {
			t.Fatalf("%q at %q: errors differ: %v / %v / %v / %v", e.src, node, err, err1, err2, err3)
		}
		if err != nil {
			continue
		}
		if ns, ok := v.(NodeSet); ok {
			want := NodeSet{}
			if len(ns) > 0 {
				want = ns[:1]
			}
			got := NodeSet{}
			if n != nil {
				got = NodeSet{n}
			}
			if scalar != nil || show(got) != show(want) {
				t.Errorf("%q at %q: EvalFirst = %s, %v; Eval %s", e.src, node, show(got), scalar, show(v))
			}
		} else if n != nil || show(scalar) != show(v) {
			t.Errorf("%q at %q: EvalFirst = %v, %s; Eval %s", e.src, node, n, show(scalar), show(v))
		}
		if s != String(v) || b != Bool(v) {
			t.Errorf("%q at %q: EvalString %q EvalBool %v; Eval %s", e.src, node, s, b, show(v))
		}
	}
}

func TestAggMatchesEngine(t *testing.T) {
	sc, docs := fixture(t)
	sc["dup"] = NodeSet{docs["cfg"], docs["cfg"]}
	sc["nums"] = mustJSON(t, `{"a":["1"," 2 ","x","1e2","-0.5","",true,"0x10","Inf","1_0"]}`)
	for _, src := range []string{
		"count($body/json/a/c/value)", "sum($body/json/a/c/value)", "not($body/json/a)", "not($body/json/zz)",
		"boolean($body/json/list/value[n = 'b'])", "count($xml/root/item/@id)", "sum($xml/root/item/@id)",
		"count(.)", "sum(.)", "not(.)", "boolean(.)", "count(*)", "sum(*)", "count(stage)", "sum(port)", "not(@a)",
		"count($dup/stage)", "sum($dup/port)", "count($undefined/a)", "sum($s/a)", "count($parts[2])", "not($t[1])",
		"sum($nums/json/a/value)", "count($nums/json/a/value)", "sum(json/a/c/value)", "count(json/list/value[v != 1])",
		"count($body/json/a/c/value[1.5])", "sum($xml/root/*)",
	} {
		fast, engine, err := compileBoth(t, src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if fast.kind != kAgg {
			t.Errorf("%q is not evaluated directly (kind %d)", src, fast.kind)
		}
		if got, want := fmt.Sprint(fast.Vars()), fmt.Sprint(engine.Vars()); got != want {
			t.Errorf("%q: Vars() = %s, engine form %s", src, got, want)
		}
		for _, node := range []string{"", "cfg", "body", "xml"} {
			c := &Context{Scope: sc, Node: docs[node]}
			a, err1 := fast.Eval(c)
			b, err2 := engine.Eval(c)
			if err1 != nil || err2 != nil || show(a) != show(b) {
				t.Errorf("%q at %q: direct %s %v, engine %s %v", src, node, show(a), err1, show(b), err2)
			}
		}
	}
}

func TestFastRelMatchesEngine(t *testing.T) {
	sc, docs := fixture(t)
	sc["nums"] = mustJSON(t, `{"a":["1"," 2 ","x","1e2","-0.5","",true,"0x10","Inf","NaN"]}`)
	for _, src := range []string{
		"$body/json/a/c/value >= 3", "$body/json/a/c/value > 3", "$body/json/a/c/value < 1", "$body/json/a/c/value <= 1",
		"3 <= $body/json/a/c/value", "1 > $body/json/a/c/value", "$cfg/port >= 8080", "$cfg/stage < 1", "$undefined/a > 0",
		"$xml/root/item/@id > 1", "$xml/root/@a <= 1", ". > 0", ". >= 0", ". < 1", "port > 8000", "@a < 2",
		"$nums/json/a/value > 50", "$nums/json/a/value < 0", "$nums/json/a/value >= 16", "$nums/json/a/value <= -0.5",
		"$nums/json/a/value > -1.5", "$body/json/list/value[v > 1]/n", "$body/json/a/c/value[. >= 2]",
	} {
		fast, engine, err := compileBoth(t, src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		// Negative literals and predicates still go to the engine.
		if fast.kind != kFastRel && !strings.Contains(src, "-") && !strings.Contains(src, "[") {
			t.Errorf("%q is not evaluated directly (kind %d)", src, fast.kind)
		}
		for _, node := range []string{"", "cfg", "body", "xml"} {
			c := &Context{Scope: sc, Node: docs[node]}
			a, err1 := fast.Eval(c)
			b, err2 := engine.Eval(c)
			if err1 != nil || err2 != nil || show(a) != show(b) {
				t.Errorf("%q at %q: direct %s %v, engine %s %v", src, node, show(a), err1, show(b), err2)
			}
		}
	}
}
