package xmlsrc

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestParse(t *testing.T) {
	src := "<flow>\n  <template if=\"$x\"\n     out = \"$y\">  {\"a\": 1}<!-- c --><![CDATA[ <b> ]]></template>\n  <sub-flow src='s.xml'/>\n</flow>"
	root, err := Parse("f.xml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tpl, sub := root.Children[0], root.Children[1]
	got := fmt.Sprintf("%s %d:%d | %s %d:%d text=%q at %d:%d | if %d:%d out %d:%d | %s %d:%d src=%s",
		root.Describe(), root.Line, root.Col,
		tpl.Name, tpl.Line, tpl.Col, tpl.Text, tpl.TextLine, tpl.TextCol,
		tpl.Attrs[0].Line, tpl.Attrs[0].Col, tpl.Attrs[1].Line, tpl.Attrs[1].Col,
		sub.Name, sub.Line, sub.Col, sub.Attrs[0].Value)
	want := `<flow> 1:1 | template 2:3 text="  {\"a\": 1} <b> " at 3:19 | if 2:13 out 3:6 | sub-flow 4:3 src=s.xml`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if a, ok := tpl.Attr("out"); !ok || a.Value != "$y" {
		t.Fatalf("Attr(out) = %v, %v", a, ok)
	}
	if _, ok := tpl.Attr("nope"); ok {
		t.Fatal("Attr(nope) found")
	}
	if sub.HasText || !tpl.HasText {
		t.Fatal("HasText")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"", "no root element"},
		{"<flow>", "unexpected EOF"},
		{"<flow></wolf>", "element <flow> closed by </wolf>"},
		{"<a/><b/>", "more than one root element"},
		{"<flow a='1' a='2'/>", ""},
		{"<flow>\n<x y=></flow>", "unquoted or missing attribute value"},
	}
	for _, tt := range tests {
		_, err := Parse("f.xml", []byte(tt.src))
		if tt.want == "" {
			continue // accepted or rejected: either way no panic
		}
		var de *diag.Error
		if !errors.As(err, &de) || de.Code != diag.XMLSyntax || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an FP200 error containing %q", tt.src, err, tt.want)
		}
	}
}

// bigFlow returns a flow file of about n bytes with many elements,
// attributes and text bodies in many pieces (the shapes that were
// quadratic: 2 MB took 3.4 times as long as 1 MB).
func bigFlow(n int) []byte {
	var b strings.Builder
	b.WriteString("<flow>\n")
	// Many small elements: whitespace text accumulates in <flow>.
	for b.Len() < n/2 {
		b.WriteString("  <set-status code=\"200\"/>\n")
	}
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "  <template if=\"$x = %d\" out=\"$v%d\">\n", i, i)
		for j := 0; j < 20; j++ {
			b.WriteString("    {\"key\": \"value value value value\"} &amp; <![CDATA[x]]>\n")
		}
		b.WriteString("  </template>\n")
	}
	// One element whose text (1/10 of the input) is split in many CDATA
	// sections: one token each.
	b.WriteString("<echo>")
	for b.Len() < n+n/10 {
		b.WriteString("abc<![CDATA[<]]>")
	}
	b.WriteString("</echo>\n</flow>\n")
	return []byte(b.String())
}

// TestParseLinear parses 1 MB and 10 MB flows; the time ratio must stay
// far from quadratic (100x). The bound is loose on purpose: it only
// catches a return of the quadratic behaviour.
func TestParseLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 11 MB")
	}
	small, big := bigFlow(1<<20), bigFlow(10<<20)
	measure := func(src []byte) time.Duration {
		best := time.Duration(1 << 62)
		for i := 0; i < 2; i++ {
			start := time.Now()
			if _, err := Parse("big.xml", src); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	ts, tb := measure(small), measure(big)
	t.Logf("1 MB: %v, 10 MB: %v (ratio %.1f)", ts, tb, float64(tb)/float64(ts))
	if tb > 20*ts && tb > time.Second {
		t.Fatalf("10 MB took %v, 1 MB %v: not linear", tb, ts)
	}
}

func BenchmarkParse10MB(b *testing.B) {
	src := bigFlow(10 << 20)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("big.xml", src); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParse checks that Parse never panics and that every position it
// reports is inside the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"<flow/>", "<flow>\n<a b='1'>t<![CDATA[x]]></a></flow>", "<a:b xmlns:a='u' a:c='d'/>", "<flow>", "<f>&amp;</f>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := Parse("f.xml", data)
		if err != nil {
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		var walk func(e *Element)
		walk = func(e *Element) {
			if e.Line < 1 || e.Line > lines || e.Col < 1 {
				t.Fatalf("element %s at %d:%d", e.Name, e.Line, e.Col)
			}
			for _, a := range e.Attrs {
				if a.Line < 1 || a.Line > lines || a.Col < 1 {
					t.Fatalf("attribute %s at %d:%d", a.Name, a.Line, a.Col)
				}
			}
			for _, c := range e.Children {
				walk(c)
			}
		}
		walk(root)
	})
}
