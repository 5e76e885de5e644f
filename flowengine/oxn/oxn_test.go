package oxn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// The example of FLAT docs: JSON as XML (OXN).
		{`{"Object":{"String":"foo","Number":-1234.56,"Boolean":true,"Null":null,"Array":["bar",42]},"Empty Object":{}}`,
			`<json object=""><Object object=""><String string="">foo</String><Number number="">-1234.56</Number>` +
				`<Boolean boolean="">true</Boolean><Null null=""/><Array array=""><value string="">bar</value>` +
				`<value number="">42</value></Array></Object><json-element name="Empty Object" object=""/></json>`},
		{`"s"`, `<json string="">s</json>`},
		{`""`, `<json string=""/>`},
		{` 1e3 `, `<json number="">1e3</json>`},
		{`false`, `<json boolean="">false</json>`},
		{`null`, `<json null=""/>`},
		{`[]`, `<json array=""/>`},
		{`[[1],{}]`, `<json array=""><value array=""><value number="">1</value></value><value object=""/></json>`},
		{`{"a":1,"a":2}`, `<json object=""><a number="">1</a><a number="">2</a></json>`},
		{`{"1x":1,"a:b":2,"":3,"ok-._1":4,"ü":5}`, `<json object=""><json-element name="1x" number="">1</json-element>` +
			`<json-element name="a:b" number="">2</json-element><json-element name="" number="">3</json-element>` +
			`<ok-._1 number="">4</ok-._1><ü number="">5</ü></json>`},
		{`"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"`, "<json string=\"\">a\"\\/\uFFFD\uFFFD\n&#xD;\t\u00e9\U0001F600\uFFFDx</json>"},
		{"\"\xff\"", "<json string=\"\">\uFFFD</json>"},
		{`{"value":{"json":true}}`, `<json object=""><value object=""><json boolean="">true</json></value></json>`},
	}
	for _, tt := range tests {
		doc, err := Parse([]byte(tt.in), 0)
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.in, err)
			continue
		}
		if doc.Type != dom.DocumentNode || doc.FirstChild == nil || doc.FirstChild != doc.LastChild {
			t.Errorf("Parse(%s): not a document with one element", tt.in)
			continue
		}
		if got := dom.XMLString(doc); got != tt.want {
			t.Errorf("Parse(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`, `+1`,
		`tru`, `nul`, `"abc`, "\"a\x01\"", `"\x"`, `"\u12"`, `[1 2]`, `1 2`, `{"a":1}x`, `NaN`, `'a'`,
		"\xef\xbb\xbf{}",
	} {
		if _, err := Parse([]byte(in), 0); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", in, err)
		}
		if json.Valid([]byte(in)) {
			t.Errorf("test bug: %q is valid JSON", in)
		}
	}
}

func TestParseDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	if _, err := Parse(nest(10), 10); err != nil {
		t.Errorf("depth 10 with limit 10: %v", err)
	}
	if _, err := Parse(nest(11), 10); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth 11 with limit 10: %v, want ErrTooDeep", err)
	}
	if _, err := Parse([]byte(`{"a":{"b":{"c":1}}}`), 2); !errors.Is(err, ErrTooDeep) {
		t.Errorf("objects: %v, want ErrTooDeep", err)
	}
	if _, err := Parse(nest(DefaultMaxDepth+1), 0); !errors.Is(err, ErrTooDeep) {
		t.Errorf("default limit: %v, want ErrTooDeep", err)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, in := range []string{
		`{"Object":{"String":"foo","Number":-1234.56,"Boolean":true,"Null":null,"Array":["bar",42]},"Empty Object":{}}`,
		`[1,2.50,-0,1E+2,"",{},[]]`,
		`{"a b":{"c d":[{"e":null}]}}`,
		`"\u0001\u001f\"\\<>&\u2028"`,
		`{"a":1,"a":2}`,
		`12345678901234567890123`,
	} {
		doc, err := Parse([]byte(in), 0)
		if err != nil {
			t.Fatalf("Parse(%s): %v", in, err)
		}
		var b bytes.Buffer
		if err := Write(&b, doc); err != nil {
			t.Fatalf("Write(%s): %v", in, err)
		}
		if b.String() != in {
			t.Errorf("round trip\n got %s\nwant %s", b.String(), in)
		}
	}
}

func TestWriteUntyped(t *testing.T) {
	tests := []struct {
		xml, want string
	}{
		{`<a>text</a>`, `"text"`},
		{`<a x="1"/>`, `""`},
		{`<r><a>1</a><b>2</b></r>`, `{"a":"1","b":"2"}`},
		{`<r><a>1</a><b>2</b><a>3</a></r>`, `{"a":["1","3"],"b":"2"}`},
		{`<r><a><c>x</c></a>  <a n="1"/></r>`, `{"a":[{"c":"x"},""]}`},
		{`<r><n number="">5</n><t boolean="">1</t><z null="">ignored</z><s string="">x</s></r>`, `{"n":5,"t":true,"z":null,"s":"x"}`},
		{`<r><json-element name="a b">1</json-element></r>`, `{"a b":"1"}`},
		{`<r object="">text<a string="">x</a></r>`, `{"a":"x"}`},
		{`<r array="">  <value number=""> 7 </value><value boolean="">no</value></r>`, `[7,false]`},
		{`<r number="">+1.50</r>`, `1.5`},
	}
	for _, tt := range tests {
		doc, err := dom.ParseXML([]byte(tt.xml), 0)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := Write(&b, doc); err != nil {
			t.Errorf("Write(%s): %v", tt.xml, err)
			continue
		}
		if b.String() != tt.want {
			t.Errorf("Write(%s) = %s, want %s", tt.xml, b.String(), tt.want)
		}
	}
	if err := Write(&bytes.Buffer{}, dom.NewText("a\x00")); err != nil {
		t.Errorf("text node: %v", err)
	}
	for _, bad := range []*dom.Node{nil, dom.NewDocument(), NewNumberText("n", "abc"), NewNumberText("n", "")} {
		if err := Write(&bytes.Buffer{}, bad); !errors.Is(err, ErrNotJSON) {
			t.Errorf("Write(%v) = %v, want ErrNotJSON", bad, err)
		}
	}
}

func TestWriteIndent(t *testing.T) {
	doc, _ := Parse([]byte(`{"a":[1,{}],"b":"x"}`), 0)
	var b bytes.Buffer
	if err := WriteIndent(&b, doc, "  "); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": \"x\"\n}"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestConstructors(t *testing.T) {
	obj := NewObject("json")
	AddMember(obj, "s", NewString("", "x"))
	AddMember(obj, "n", NewNumber("", 1.5))
	AddMember(obj, "i", NewNumber("", -3))
	AddMember(obj, "nan", NewNumber("", math.NaN()))
	AddMember(obj, "t", NewBool("", true))
	AddMember(obj, "f", NewBool("", false))
	AddMember(obj, "z", NewNull(""))
	arr := NewArray("")
	AddValue(arr, NewString("", ""))
	AddValue(arr, NewNumberText("", "1e2"))
	AddMember(obj, "a b", arr)
	got, err := Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"s":"x","n":1.5,"i":-3,"nan":null,"t":true,"f":false,"z":null,"a b":["",1e2]}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if k := obj.LastChild; k.Name != KeyElementName || Key(k) != "a b" || TypeOf(k) != Array {
		t.Errorf("json-element: %s %q %v", k.Name, Key(k), TypeOf(k))
	}
	// Renaming a json-element to an XML name drops its name attribute.
	SetKey(obj.LastChild, "ab")
	if k := obj.LastChild; k.Name != "ab" || k.HasAttr(KeyAttr) {
		t.Errorf("SetKey: %s %v", k.Name, k.Attrs)
	}
}

func TestTypeOf(t *testing.T) {
	tests := []struct {
		n    *dom.Node
		want Type
	}{
		{NewObject("a"), Object}, {NewArray("a"), Array}, {NewString("a", ""), String},
		{NewNumber("a", 1), Number}, {NewBool("a", true), Boolean}, {NewNull("a"), Null},
		{dom.NewElement("a"), Untyped}, {dom.NewText("x"), Untyped}, {dom.NewDocument(), Untyped}, {nil, Untyped},
		{&dom.Node{Type: dom.ElementNode, Attrs: []dom.Attr{{Name: "name", Value: "k"}, {Name: "string"}}}, String},
	}
	for _, tt := range tests {
		if got := TypeOf(tt.n); got != tt.want {
			t.Errorf("TypeOf(%v) = %v, want %v", tt.n, got, tt.want)
		}
	}
	if Object.String() != "object" || Untyped.String() != "untyped" {
		t.Error("Type.String")
	}
}

func TestFromGo(t *testing.T) {
	v := map[string]any{
		"z":   []any{1.0, "two", nil, true, map[string]any{}},
		"a":   json.Number("1.50"),
		"b":   int64(7),
		"c":   map[string]int{"y": 2, "x": 1},
		"d":   []string{"p"},
		"e":   struct{ A int }{1},
		"f":   []byte("raw"),
		"x y": uint8(3),
	}
	got, err := Marshal(FromGo("json", v))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":1.50,"b":7,"c":{"x":1,"y":2},"d":["p"],"e":"{1}","f":"raw","x y":3,"z":[1,"two",null,true,{}]}`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestIsXMLName(t *testing.T) {
	for s, want := range map[string]bool{
		"a": true, "_": true, "a-b.c_1": true, "ü": true, "日本": true, "A1": true,
		"": false, "1a": false, "-a": false, ".a": false, "a:b": false, "a b": false, "a/b": false,
		"a\xff": false, "a\u00b7": true, "\u00b7a": false, "a$": false,
	} {
		if got := IsXMLName(s); got != want {
			t.Errorf("IsXMLName(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestIsXMLNameASCII checks every one- and two-byte ASCII string against
// the definition: a letter or '_' first, then letters, digits, '_', '-'
// or '.'.
func TestIsXMLNameASCII(t *testing.T) {
	start := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
	char := func(c byte) bool { return start(c) || c >= '0' && c <= '9' || c == '-' || c == '.' }
	for a := range 128 {
		if got := IsXMLName(string(rune(a))); got != start(byte(a)) {
			t.Errorf("IsXMLName(%q) = %v", string(rune(a)), got)
		}
		for b := range 128 {
			s := string([]byte{byte(a), byte(b)})
			if got, want := IsXMLName(s), start(byte(a)) && char(byte(b)); got != want {
				t.Errorf("IsXMLName(%q) = %v, want %v", s, got, want)
			}
		}
	}
}

func BenchmarkIsXMLName(b *testing.B) {
	keys := []string{"content-type", "x-request-id", "cacheHit", "headers", "status", "user_name", "a1.b2"}
	for b.Loop() {
		for _, k := range keys {
			if !IsXMLName(k) {
				b.Fatal(k)
			}
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "1.5": true, "1e5": true, "1E-5": true, "-12.5e+3": true,
		"": false, "01": false, "1.": false, ".1": false, "+1": false, "1e": false, "NaN": false, " 1": false,
	} {
		if got := IsJSONNumber(s); got != want {
			t.Errorf("IsJSONNumber(%q) = %v", s, got)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", math.Copysign(0, -1): "0", 1: "1", -3: "-3", 1.5: "1.5", 1e21: "1e+21", 1e20: "100000000000000000000",
		0.1: "0.1", 1e-7: "1e-07", math.NaN(): "null", math.Inf(1): "null", 9007199254740993: "9007199254740992",
	} {
		if got := FormatNumber(f); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", f, got, want)
		}
	}
}

// FuzzParse checks that Parse accepts exactly the texts encoding/json
// accepts and that JSON → OXN → JSON preserves the value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `[1,"x",true,null,{"b":[]}]`, `"\ud83d\ude00"`, `{"a b":{"1":2}}`, `-0.5e-3`, `{"a":1,"a":2}`,
		"\"\xff\"", `[`, `{"":""}`, `"\u0000"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, 10000)
		valid := json.Valid(data)
		if (err == nil) != valid {
			t.Fatalf("Parse(%q) err = %v, json.Valid = %v", data, err, valid)
		}
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := Write(&b, doc); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if !json.Valid(b.Bytes()) {
			t.Fatalf("Write produced invalid JSON %q from %q", b.Bytes(), data)
		}
		if a, c := decode(t, data), decode(t, b.Bytes()); !reflect.DeepEqual(a, c) {
			t.Fatalf("value changed:\n in %q\nout %q", data, b.Bytes())
		}
	})
}

func decode(t *testing.T, data []byte) any {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	return v
}

// TestArenaParse checks that trees parsed through one Arena equal those of
// Parse and stay intact while the Arena builds more.
func TestArenaParse(t *testing.T) {
	var a Arena
	inputs := []string{`{"a":1,"b":[true,null,"x"],"weird key":{"c":"\u00e9"}}`, `[]`, `"s"`, strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40)}
	var big strings.Builder
	big.WriteString(`[`)
	for i := 0; i < 500; i++ {
		if i > 0 {
			big.WriteByte(',')
		}
		fmt.Fprintf(&big, `{"n":%d,"s":"v%d"}`, i, i)
	}
	big.WriteString(`]`)
	inputs = append(inputs, big.String())
	var docs []*dom.Node
	for _, in := range inputs {
		doc, err := a.Parse([]byte(in), 0)
		if err != nil {
			t.Fatalf("Arena.Parse(%.40q): %v", in, err)
		}
		docs = append(docs, doc)
		if _, err := a.Parse([]byte(`{"bad":`), 0); err == nil {
			t.Fatal("Arena.Parse accepted invalid JSON")
		}
	}
	for i, in := range inputs {
		want, err := Parse([]byte(in), 0)
		if err != nil {
			t.Fatal(err)
		}
		var got, exp bytes.Buffer
		if err := Write(&got, docs[i].FirstElement()); err != nil {
			t.Fatal(err)
		}
		if err := Write(&exp, want.FirstElement()); err != nil {
			t.Fatal(err)
		}
		if got.String() != exp.String() {
			t.Errorf("input %d: arena tree %s, Parse tree %s", i, got.String(), exp.String())
		}
	}
	n := a.Node()
	n.Attrs = append(a.Attrs(1), dom.Attr{Name: "x"})
	if n.Type != dom.DocumentNode || n.FirstChild != nil || len(n.Attrs) != 2 {
		t.Errorf("Arena.Node/Attrs: not zeroed: %+v", n)
	}
}
