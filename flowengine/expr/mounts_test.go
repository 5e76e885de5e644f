package expr

import "testing"

// TestMountsOutsideTheDocument: variables and extension calls reach the
// XPath engine as mounts that follow the root as its siblings, so a step
// over the document (/*, //x, a wildcard at the root, the following axis)
// sees the document alone, through the engine as directly. FuzzCompile
// found the first case: the mounts were the root's first children, and *
// at the root selected $s's mount.
func TestMountsOutsideTheDocument(t *testing.T) {
	sc, docs := fixture(t)
	tests := []struct{ node, src, want string }{
		{"", `concat('', $s, $cfg/stage, toupper($n)='', concat($f, *))`, `"helloprodfalse"`},
		{"body", `concat('a', $s, *)`, `"ahello1123xa1b2true"`},
		{"body", `toupper(concat('a', $s, *))`, `"AHELLO1123XA1B2TRUE"`},
		{"xml", `concat(name(/*[1]), $s)`, `"roothello"`},
		{"xml", `count(/*) + count($parts)`, "4"},
		{"xml", `count(*) + string-length($s)`, "6"},
		{"xml", `count(//token) + count($parts)`, "3"},
		{"xml", `count(//node()) + count($parts)`, "10"},
		{"xml", `count(//item[. = $parts]) + count(json-parse($json)//*)`, "6"},
		{"xml", `count(/root/item[1]/following::*) + count($parts)`, "5"},
		{"xml", `count($parts[1]/following::node()) + count(//item)`, "6"},
	}
	for _, tt := range tests {
		for _, fast := range []bool{true, false} {
			useFast = fast
			e, err := Compile(tt.src)
			useFast = true
			if err != nil {
				t.Fatalf("%s: %v", tt.src, err)
			}
			c := &Context{Scope: sc}
			if tt.node != "" {
				c.Node = docs[tt.node]
			}
			v, err := e.Eval(c)
			if err != nil || show(v) != tt.want {
				t.Errorf("%s at %q (fast paths %v) = %s, %v; want %s", tt.src, tt.node, fast, show(v), err, tt.want)
			}
		}
	}
}
