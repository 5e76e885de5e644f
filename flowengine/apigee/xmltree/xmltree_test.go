package xmltree

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/antchfx/xpath"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, in, want, err string
	}{
		{name: "plain", in: `<?xml version="1.0"?><a x="1"><b>t &amp; &#65;</b><!--c--><c/></a>`, want: `<a x="1"><b>t &amp; A</b><!--c--><c/></a>`},
		{name: "namespaces", in: `<s:E xmlns:s="urn:s" xmlns="urn:d"><B s:id="2">x</B></s:E>`, want: `<s:E xmlns:s="urn:s" xmlns="urn:d"><B s:id="2">x</B></s:E>`},
		{name: "cdata", in: `<a><![CDATA[<x>]]></a>`, want: `<a>&lt;x&gt;</a>`},
		{name: "doctype", in: `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, err: "DOCTYPE"},
		{name: "laughs", in: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>`, err: "DOCTYPE"},
		{name: "undefined entity", in: `<a>&x;</a>`, err: "entity"},
		{name: "mismatch", in: `<a></b>`, err: "element"},
		{name: "unclosed", in: `<a>`, err: "end of document"},
		{name: "two roots", in: `<a/><b/>`, err: "root"},
		{name: "empty", in: ``, err: "root"},
		{name: "undeclared prefix", in: `<p:a/>`, err: "prefix"},
		{name: "latin1", in: `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, err: "encoding"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse([]byte(c.in), 0)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			doc.WriteXML(&b)
			if b.String() != c.want {
				t.Errorf("got %s\nwant %s", b.String(), c.want)
			}
		})
	}
	if _, err := Parse([]byte(strings.Repeat("<a>", 20)+strings.Repeat("</a>", 20)), 10); err == nil {
		t.Error("depth limit not enforced")
	}
	if _, err := Parse([]byte(`<!DOCTYPE a><a/>`), 0); !errors.Is(err, ErrDoctype) {
		t.Errorf("doctype: %v", err)
	}
}

func TestXPath(t *testing.T) {
	doc, err := Parse([]byte(`<s:E xmlns:s="urn:s"><s:B><n id="1">a</n><n id="2">b</n></s:B><x:B xmlns:x="urn:other"><n>c</n></x:B></s:E>`), 0)
	if err != nil {
		t.Fatal(err)
	}
	ns := map[string]string{"soap": "urn:s"}
	cases := map[string]string{
		"/soap:E/soap:B/n[2]":          "b",
		"string(/soap:E/soap:B/n/@id)": "1",
		"count(//n)":                   "3",
		"count(/soap:E/soap:B/n)":      "2",
		"name(/*/*[2])":                "x:B",
		"local-name(/*)":               "E",
	}
	for expr, want := range cases {
		x, err := xpath.CompileWithNS(expr, ns)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var got string
		switch v := x.Evaluate(NewNavigator(doc)).(type) {
		case *xpath.NodeIterator:
			if v.MoveNext() {
				got = v.Current().Value()
			}
		case float64:
			got = strconv.FormatFloat(v, 'f', -1, 64)
		case string:
			got = v
		}
		if got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
}

func xpathNum(f float64) string {
	return strings.TrimSpace(strings.Replace(string(rune('0'+int(f))), "", "", 0))
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<a xmlns:p="u"><p:b p:c="1">x<!--y--></p:b></a>`))
	f.Add([]byte(`<!DOCTYPE a><a/>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		doc, err := Parse(in, 64)
		if err != nil {
			return
		}
		var b bytes.Buffer
		doc.WriteXML(&b)
		again, err := Parse(b.Bytes(), 64)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b.String(), err)
		}
		var b2 bytes.Buffer
		again.WriteXML(&b2)
		if b.String() != b2.String() {
			t.Fatalf("not stable: %q vs %q", b.String(), b2.String())
		}
	})
}

func FuzzXPath(f *testing.F) {
	f.Add([]byte(`<s:E xmlns:s="urn:s"><s:B a="1"><n>x</n><!--c--><?pi d?></s:B></s:E>`))
	exprs := []string{"//*", "//@*", "//text()", "/soap:E//n[last()]", "count(//node())", "//*[@a]/..", "string(/)", "//n/preceding::*", "//n/following-sibling::*", "//comment()"}
	compiled := make([]*xpath.Expr, len(exprs))
	for i, e := range exprs {
		compiled[i] = xpath.MustCompile(strings.ReplaceAll(e, "soap:", ""))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		doc, err := Parse(in, 64)
		if err != nil {
			return
		}
		for _, x := range compiled {
			if it, ok := x.Evaluate(NewNavigator(doc)).(*xpath.NodeIterator); ok {
				for n := 0; it.MoveNext() && n < 1000; n++ {
					_ = it.Current().Value()
				}
			}
		}
	})
}
