package expr

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// FuzzCompile checks that Compile never panics, reports only
// *diag.PosError values positioned inside the source, and that compiled
// expressions evaluate without panicking on a small fixed tree.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"$body/json/a/b = 1", "json-stringify(json-parse($json)/a)", "concat($s, '-', $n)",
		"$parts[2]", "count($cfg/*) > 1 and not($f)", "a[tolower(b) = 'x']/@c | //d",
		"split('a b')[last()]", "replace($s, '(l+)', '[$1]', 'i')", "-(1 div 0) mod 2",
		"ancestor-or-self::node()[1]", "array($xml//@*)/value[1]/@name", "substring($s, $n)",
		"join(',', $arr, 'x')", "base64-decode(base64-encode($s), true())", "p:a/p:*",
		"string-length()", "'unterminated", "$", "foo(", "a[", "/", "(//*)[3]",
		"concat('a', $s, $cfg/stage, toupper($n), $t = 'x', concat($f, .))", "concat($parts, @a, $xml/root/item/@id)",
		"sum($body/json/a/c/value) + count(.)", "not($xml/root/item[@id = 2])", "$body/json/a/c/value >= 2", "1 < @a",
		"concat('',$s,$cfg/stage,toupper($n)='',concat($f,*))", "count(//*) + count($parts)",
	} {
		f.Add(s)
	}
	sc, docs := fixture(f)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile(src)
		if err != nil {
			pe, ok := err.(*diag.PosError)
			if !ok {
				t.Fatalf("Compile(%q) error %T %v, want *diag.PosError", src, err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(src) || pe.Line < 1 || pe.Col < 1 || pe.Code == "" {
				t.Fatalf("Compile(%q): bad position %+v", src, pe)
			}
			return
		}
		var engine *Expr
		if e.kind == kFastPath || e.kind == kFastCmp || e.kind == kConcat || e.kind == kAgg || e.kind == kFastRel {
			useFast = false
			engine, err = Compile(src)
			useFast = true
			if err != nil {
				t.Fatalf("Compile(%q) without fast paths: %v", src, err)
			}
		}
		checkEvalForms(t, e, sc, docs)
		for _, node := range []string{"", "body", "cfg", "xml"} {
			c := &Context{Scope: sc}
			if node != "" {
				c.Node = docs[node]
			}
			v, err := e.Eval(c)
			if engine != nil {
				w, err2 := engine.Eval(c)
				if (err == nil) != (err2 == nil) || show(v) != show(w) {
					t.Fatalf("Eval(%q) at %q: direct %s %v, engine %s %v", src, node, show(v), err, show(w), err2)
				}
			}
			if err != nil {
				continue
			}
			switch v.(type) {
			case string, float64, bool, NodeSet:
			default:
				t.Fatalf("Eval(%q) = %T", src, v)
			}
			if ns, ok := v.(NodeSet); ok {
				for _, n := range ns {
					if n == nil {
						t.Fatalf("Eval(%q): nil node", src)
					}
				}
			}
		}
	})
}
