package expr

import (
	"testing"
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
