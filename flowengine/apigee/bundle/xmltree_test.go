package bundle

import (
	"errors"
	"testing"
)

func TestParseXMLPositions(t *testing.T) {
	src := "<?xml version=\"1.0\"?>\n<ProxyEndpoint name=\"default\">\n  <PreFlow>\n    <Step><Name>AM-1</Name></Step>\n  </PreFlow>\n</ProxyEndpoint>\n"
	root, err := ParseXML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "ProxyEndpoint" || root.Line != 2 || root.Col != 1 {
		t.Fatalf("root = %s at %d:%d", root.Name, root.Line, root.Col)
	}
	if v, ok := root.Attr("name"); !ok || v != "default" {
		t.Fatalf("name attr = %q %v", v, ok)
	}
	step := root.Child("PreFlow").Child("Step")
	if step.Line != 4 || step.Col != 5 {
		t.Fatalf("step at %d:%d", step.Line, step.Col)
	}
	if n := step.Child("Name"); n.Text != "AM-1" || n.Col != 11 {
		t.Fatalf("name = %q at col %d", n.Text, n.Col)
	}
}

func TestParseXMLErrors(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
	}{
		{"doctype", "<!DOCTYPE x [<!ENTITY a \"b\">]>\n<x/>", 1},
		{"unclosed", "<a>\n<b>", 2},
		{"mismatch", "<a>\n</b>", 2},
		{"two roots", "<a/>\n<b/>", 2},
		{"empty", "", 1},
		{"text outside", "<a/>\nhello", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseXML([]byte(c.src))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want SyntaxError", err)
			}
			if se.Line != c.line {
				t.Fatalf("line = %d, want %d (%v)", se.Line, c.line, err)
			}
		})
	}
}

func FuzzParseXML(f *testing.F) {
	f.Add([]byte("<a b=\"c\"><d>e</d></a>"))
	f.Add([]byte("<!DOCTYPE a><a/>"))
	f.Fuzz(func(t *testing.T, src []byte) {
		root, err := ParseXML(src)
		if err == nil && root == nil {
			t.Fatal("nil root without error")
		}
	})
}
