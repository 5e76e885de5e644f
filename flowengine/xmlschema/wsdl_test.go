package xmlschema

import (
	"strings"
	"testing"
)

// testWSDL declares the tns and c prefixes on wsdl:definitions only; its
// first schema refers to the second's type by namespace (no
// schemaLocation), and two schemas share urn:shop.
const testWSDL = `<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="urn:shop" xmlns:c="urn:common" targetNamespace="urn:shop">
  <wsdl:types>
    <xs:schema targetNamespace="urn:shop" elementFormDefault="qualified">
      <xs:import namespace="urn:common"/>
      <xs:element name="order" type="tns:orderType"/>
      <xs:complexType name="orderType"><xs:sequence>
        <xs:element name="sku" type="c:sku"/><xs:element name="qty" type="xs:positiveInteger"/>
      </xs:sequence></xs:complexType>
    </xs:schema>
    <xs:schema targetNamespace="urn:common">
      <xs:simpleType name="sku"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{3}-[0-9]+"/></xs:restriction></xs:simpleType>
    </xs:schema>
    <xs:schema targetNamespace="urn:shop" elementFormDefault="qualified">
      <xs:element name="cancel"><xs:complexType><xs:sequence><xs:element name="id" type="xs:int"/></xs:sequence></xs:complexType></xs:element>
    </xs:schema>
  </wsdl:types>
  <wsdl:message name="orderRequest"><wsdl:part name="body" element="tns:order"/></wsdl:message>
</wsdl:definitions>`

func TestWSDLSchemas(t *testing.T) {
	set, err := WSDLSchemas("shop.wsdl", []byte(testWSDL), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Namespaces, " "); got != "urn:shop urn:common" {
		t.Errorf("namespaces %q", got)
	}
	// 3 inline schemas, a wrapper for the shared urn:shop, the main one.
	if len(set.Files) != 5 {
		t.Errorf("%d files: %v", len(set.Files), set.Files)
	}
	first := string(set.Files["shop.wsdl.types1.xsd"])
	for _, want := range []string{`xmlns:tns="urn:shop"`, `xmlns:c="urn:common"`, `xmlns:xs="http://www.w3.org/2001/XMLSchema"`} {
		if !strings.Contains(first, want) {
			t.Errorf("inline schema lacks %s: %s", want, first)
		}
	}
	for _, tc := range []struct{ name, wsdl, want string }{
		{name: "not xml", wsdl: "<wsdl:definitions", want: "not well-formed"},
		{name: "not wsdl", wsdl: `<definitions/>`, want: "not a WSDL"},
		{name: "no schema", wsdl: `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><types/></definitions>`, want: "no xs:schema"},
		{name: "import of a missing file", wsdl: `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><import location="other.wsdl" namespace="urn:x"/></definitions>`, want: "only the bundle's own"},
		{name: "import of a URL", wsdl: `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><import location="http://example.com/x.wsdl" namespace="urn:x"/></definitions>`, want: "only the bundle's own"},
		{name: "import of a broken WSDL", wsdl: `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><import location="bad.wsdl" namespace="urn:x"/></definitions>`, want: "bad.wsdl (imported by x.wsdl) is not well-formed"},
		{name: "doctype", wsdl: `<!DOCTYPE d [<!ENTITY x "y">]><definitions xmlns="http://schemas.xmlsoap.org/wsdl/"/>`, want: "DOCTYPE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := WSDLSchemas("x.wsdl", []byte(tc.wsdl), map[string][]byte{"bad.wsdl": []byte("<definitions")}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// WSDL 2.0 description/types.
	w2 := `<description xmlns="http://www.w3.org/ns/wsdl"><types><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:int"/></xs:schema></types></description>`
	if set, err := WSDLSchemas("w2.wsdl", []byte(w2), nil); err != nil || len(set.Namespaces) != 1 || set.Namespaces[0] != "" {
		t.Errorf("WSDL 2.0: %v %+v", err, set)
	}
}

func TestCompileWSDL(t *testing.T) {
	needSchema(t)
	s, err := CompileWSDL("shop.wsdl", []byte(testWSDL), nil)
	if err != nil {
		t.Fatal(err)
	}
	const env = "http://schemas.xmlsoap.org/soap/envelope/"
	wrap := func(body string) []byte {
		return []byte(`<soap:Envelope xmlns:soap="` + env + `"><soap:Body>` + body + `</soap:Body></soap:Envelope>`)
	}
	for _, tc := range []struct {
		body  string
		valid bool
	}{
		{`<order xmlns="urn:shop"><sku>TEA-1</sku><qty>3</qty></order>`, true},
		{`<cancel xmlns="urn:shop"><id>7</id></cancel>`, true},
		{`<order xmlns="urn:shop"><sku>tea</sku><qty>3</qty></order>`, false},
		{`<cancel xmlns="urn:shop"><id>seven</id></cancel>`, false},
		{`<refund xmlns="urn:shop"/>`, false},
	} {
		err := s.ValidateSOAPBody(wrap(tc.body), env)
		if (err == nil) != tc.valid {
			t.Errorf("%s: err = %v, want valid=%v", tc.body, err, tc.valid)
		}
	}
	w2 := `<description xmlns="http://www.w3.org/ns/wsdl"><types><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:int"/></xs:schema></types></description>`
	s2, err := CompileWSDL("w2.wsdl", []byte(w2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Validate([]byte(`<a>1</a>`)); err != nil {
		t.Errorf("no-namespace schema: %v", err)
	}
}

func TestWSDLImports(t *testing.T) {
	needSchema(t)
	// main.wsdl imports types.wsdl (which imports itself back: a cycle
	// is read once) and the plain schema common.xsd.
	files := map[string][]byte{
		"types.wsdl": []byte(`<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:c="urn:common">
<import location="main.wsdl" namespace="urn:shop"/>
<types><xs:schema targetNamespace="urn:shop" elementFormDefault="qualified"><xs:import namespace="urn:common"/>
<xs:element name="order"><xs:complexType><xs:sequence><xs:element name="sku" type="c:sku"/></xs:sequence></xs:complexType></xs:element></xs:schema></types></definitions>`),
		"common.xsd": []byte(commonXSD),
	}
	main := []byte(`<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><import location="wsdl://types.wsdl" namespace="urn:shop"/><import location="./common.xsd" namespace="urn:common"/></definitions>`)
	files["main.wsdl"] = main
	s, err := CompileWSDL("main.wsdl", main, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`<order xmlns="urn:shop"><sku>ABC-1</sku></order>`)); err != nil {
		t.Errorf("valid: %v", err)
	}
	if err := s.Validate([]byte(`<order xmlns="urn:shop"><sku>abc</sku></order>`)); err == nil {
		t.Error("a value breaking the imported xsd's type passed")
	}
}

func FuzzWSDLSchemas(f *testing.F) {
	f.Add([]byte(testWSDL))
	f.Add([]byte(`<description xmlns="http://www.w3.org/ns/wsdl"><types/></description>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := WSDLSchemas("f.wsdl", b, map[string][]byte{"f.wsdl": b, "x.xsd": []byte(commonXSD)})
		if err == nil && (set.Files[set.Main] == nil || len(set.Namespaces) == 0) {
			t.Fatalf("a set without a main schema or namespaces: %+v", set)
		}
	})
}
