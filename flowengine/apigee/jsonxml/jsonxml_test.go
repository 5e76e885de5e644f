package jsonxml

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/xmltree"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if strings.TrimSuffix(string(want), "\n") != string(got) {
		t.Errorf("%s:\ngot  %s\nwant %s", name, got, want)
	}
}

const soap = `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:shop">
  <soap:Body>
    <Order id="42" status="open">
      <Item sku="a1" qty="2">Pen</Item>
      <Item sku="b2" qty="1">Ink &amp; paper</Item>
      <Total currency="EUR">12.50</Total>
      <Paid>false</Paid>
      <Note/>
      <Free>NULL</Free>
      <Mixed>one<b>x</b>two</Mixed>
    </Order>
  </soap:Body>
</soap:Envelope>`

const teachers = `<teachers><teacher><name>A</name><studentnames><name>s1</name><name>s2</name></studentnames></teacher><teacher><name>B</name><studentnames><name>s3</name></studentnames></teacher></teachers>`

func TestXMLToJSONGolden(t *testing.T) {
	path := func(s string, unwrap bool) ArrayPath {
		p, err := ParseArrayPath(s, unwrap)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	format := func(name string) XMLOptions {
		o, ok := XMLFormat(name)
		if !ok {
			t.Fatalf("no format %s", name)
		}
		return o
	}
	cases := []struct {
		name string
		in   string
		o    XMLOptions
	}{
		{"soap-default", soap, XMLOptions{}},
		{"soap-recognize", soap, XMLOptions{RecognizeNumber: true, RecognizeBoolean: true, RecognizeNull: true, NullValue: "NULL", TextNodeName: "TEXT", AttributePrefix: "@"}},
		{"soap-namespaces", soap, XMLOptions{NamespaceBlockName: "#namespaces", DefaultNamespaceNodeName: "&", NamespaceSeparator: "***", TextNodeName: "#text", AttributeBlockName: "ATT"}},
		{"soap-strip", soap, XMLOptions{StripLevels: 2, TextAlwaysAsProperty: true, TextNodeName: "$t", OutputPrefix: "PRE_", OutputSuffix: "_SUF"}},
		{"soap-xmlcom", soap, format("xml.com")},
		{"soap-yahoo", soap, format("yahoo")},
		{"soap-google", soap, format("google")},
		{"soap-badgerfish", soap, format("badgerFish")},
		{"teachers-array", teachers, XMLOptions{TreatAsArray: []ArrayPath{path("teachers/teacher/studentnames/name", false)}}},
		{"teachers-unwrap", teachers, XMLOptions{TreatAsArray: []ArrayPath{path("/teachers/teacher/studentnames/name", true), path("teachers/teacher", false)}}},
		{"indent", `<a><b>1</b><b>2</b></a>`, XMLOptions{Indent: true, RecognizeNumber: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := XMLToJSON([]byte(c.in), &c.o, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid([]byte(strings.TrimSuffix(strings.TrimPrefix(string(got), c.o.OutputPrefix), c.o.OutputSuffix))) {
				t.Fatalf("invalid JSON: %s", got)
			}
			golden(t, "x2j-"+c.name+".json", got)
		})
	}
}

func TestJSONToXMLGolden(t *testing.T) {
	order := `{"order":{"@id":42,"#namespaces":{"$":"urn:shop","p":"urn:p"},"items":[{"sku":"a1","qty":2},{"sku":"b2","qty":1}],"p***note":"a < b & c","paid":false,"none":null,"matrix":[[1,2],[3]],"1st key":"x","attrs":{"ATT":{"x":"1"},"#text":"t"}}}`
	cases := []struct {
		name string
		in   string
		o    JSONOptions
	}{
		{"order-default", order, JSONOptions{}},
		{"order-options", order, JSONOptions{NullValue: "NULL", NamespaceBlockName: "#namespaces", NamespaceSeparator: "***", TextNodeName: "#text", AttributeBlockName: "ATT", AttributePrefix: "@", InvalidCharsReplacement: "-"}},
		{"multi-root", `{"a":1,"b":[true,"x"]}`, JSONOptions{ObjectRootElementName: "Top"}},
		{"top-array", `[1,{"a":2},[3,4]]`, JSONOptions{ArrayRootElementName: "List", ArrayItemElementName: "Entry"}},
		{"root-array-member", `{"a":[1,2]}`, JSONOptions{}},
		{"indent", `{"a":{"b":[1,{"c":null}],"d":"x","#text":"t"}}`, JSONOptions{Indent: true, OmitXMLDeclaration: true, TextNodeName: "#text"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.o.WithDefaults()
			got, err := JSONToXML([]byte(c.in), &o, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := xmltree.Parse([]byte(strings.ReplaceAll(string(got), "p:", "")), 0); err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, got)
			}
			golden(t, "j2x-"+c.name+".xml", got)
		})
	}
}

func TestErrors(t *testing.T) {
	o := JSONOptions{}.WithDefaults()
	for _, in := range []string{``, `{`, `{"a":1} x`, `"text"`, `12`, `[1,]`, strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2)} {
		if _, err := JSONToXML([]byte(in), &o, 0); err == nil {
			t.Errorf("JSONToXML(%.20q): no error", in)
		}
	}
	for _, in := range []string{``, `<a>`, `<!DOCTYPE a [<!ENTITY x "xx">]><a>&x;</a>`, `text`} {
		if _, err := XMLToJSON([]byte(in), &XMLOptions{}, 0); err == nil {
			t.Errorf("XMLToJSON(%.20q): no error", in)
		}
	}
	for in, want := range map[string]string{
		"": "Premature end of document while parsing at line 1(possibly  around char 0)",
		"<?xml version=\"1.0\"?>\n<root>\n<a>1</a>\n": "Premature end of document while parsing at line 4(possibly  around char 0)",
	} {
		if _, err := XMLToJSON([]byte(in), &XMLOptions{}, 0); err == nil || err.Error() != want {
			t.Errorf("XMLToJSON(%q) error %v, want %q", in, err, want)
		}
	}
	if _, err := JSONToXML([]byte(` 5`), &o, 0); err == nil || err.Error() != "Expecting { or [ at line 1" {
		t.Errorf("JSONToXML scalar: %v", err)
	}
	big := `{"a":"` + strings.Repeat("x", 1000) + `"}`
	if _, err := JSONToXML([]byte(big), &o, 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("JSONToXML limit: %v", err)
	}
	if _, err := XMLToJSON([]byte(`<a>`+strings.Repeat("x", 1000)+`</a>`), &XMLOptions{}, 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("XMLToJSON limit: %v", err)
	}
	if _, err := ParseArrayPath("a/*/b", false); err == nil {
		t.Error("ParseArrayPath accepted a wildcard")
	}
}

func FuzzXMLToJSON(f *testing.F) {
	f.Add([]byte(soap), true)
	f.Add([]byte(teachers), false)
	f.Fuzz(func(t *testing.T, in []byte, rich bool) {
		o := XMLOptions{}
		if rich {
			o, _ = XMLFormat("badgerFish")
			o.RecognizeNumber, o.RecognizeBoolean, o.RecognizeNull = true, true, true
			o.TreatAsArray = []ArrayPath{{Names: []string{"a", "b"}, Unwrap: true}}
		}
		out, err := XMLToJSON(in, &o, 1<<20)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %s", out)
		}
	})
}

func FuzzJSONToXML(f *testing.F) {
	f.Add([]byte(`{"a":{"@x":"1","#text":"t","b":[1,[2,3],null]}}`), true)
	f.Add([]byte(`[{"1":2}]`), false)
	f.Fuzz(func(t *testing.T, in []byte, rich bool) {
		o := JSONOptions{}
		if rich {
			o = JSONOptions{TextNodeName: "#text", AttributePrefix: "@", AttributeBlockName: "A", NamespaceBlockName: "N", Indent: true, OmitXMLDeclaration: true}
		}
		o = o.WithDefaults()
		out, err := JSONToXML(in, &o, 1<<20)
		if err != nil {
			return
		}
		if _, err := xmltree.Parse(out, 2*MaxDepth+4); err != nil && !strings.Contains(err.Error(), "prefix") {
			t.Fatalf("output does not parse: %v\n%s", err, out)
		}
	})
}
