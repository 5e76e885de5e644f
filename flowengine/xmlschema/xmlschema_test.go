package xmlschema

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func needSchema(t *testing.T) {
	t.Helper()
	if !Available() {
		t.Skip("built without libxml2: run go test -tags xslt (needs libxslt1-dev and cgo); .ci/run does")
	}
}

const orderXSD = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:shop" xmlns:s="urn:shop" xmlns:c="urn:common" elementFormDefault="qualified">
  <xs:import namespace="urn:common" schemaLocation="common.xsd"/>
  <xs:element name="order">
    <xs:complexType><xs:sequence>
      <xs:element name="sku" type="c:sku"/>
      <xs:element name="qty" type="xs:positiveInteger"/>
    </xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>`

const commonXSD = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:common">
  <xs:simpleType name="sku"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{3}-[0-9]+"/></xs:restriction></xs:simpleType>
</xs:schema>`

func TestValidate(t *testing.T) {
	needSchema(t)
	s, err := Compile("order.xsd", []byte(orderXSD), map[string][]byte{"common.xsd": []byte(commonXSD)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, doc, reason string }{
		{name: "valid", doc: `<order xmlns="urn:shop"><sku>TEA-1</sku><qty>2</qty></order>`},
		{name: "imported type violated", doc: `<order xmlns="urn:shop"><sku>tea</sku><qty>2</qty></order>`, reason: "sku"},
		{name: "bad integer", doc: `<order xmlns="urn:shop"><sku>TEA-1</sku><qty>zero</qty></order>`, reason: "positiveInteger"},
		{name: "missing element", doc: `<order xmlns="urn:shop"><sku>TEA-1</sku></order>`, reason: "Missing child element"},
		{name: "undeclared root", doc: `<basket xmlns="urn:shop"/>`, reason: "No matching global declaration"},
		{name: "not well-formed", doc: `<order xmlns="urn:shop">`, reason: ""},
		{name: "empty", doc: ``, reason: "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate([]byte(tc.doc))
			if tc.name == "valid" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if !strings.Contains(ve.Reason, tc.reason) || ve.Reason == "" {
				t.Errorf("reason %q does not mention %q", ve.Reason, tc.reason)
			}
		})
	}
}

func TestValidateSOAPBody(t *testing.T) {
	needSchema(t)
	s, err := Compile("order.xsd", []byte(orderXSD), map[string][]byte{"common.xsd": []byte(commonXSD)})
	if err != nil {
		t.Fatal(err)
	}
	const env = "http://schemas.xmlsoap.org/soap/envelope/"
	ok := `<e:Envelope xmlns:e="` + env + `"><e:Header><x:h xmlns:x="urn:other"/></e:Header><e:Body><s:order xmlns:s="urn:shop"><s:sku>TEA-1</s:sku><s:qty>1</s:qty></s:order></e:Body></e:Envelope>`
	if err := s.ValidateSOAPBody([]byte(ok), env); err != nil {
		t.Fatalf("valid envelope: %v", err)
	}
	bad := strings.Replace(ok, "<s:qty>1</s:qty>", "<s:qty>-1</s:qty>", 1)
	if err := s.ValidateSOAPBody([]byte(bad), env); err == nil {
		t.Error("an invalid body child passed")
	}
	if err := s.ValidateSOAPBody([]byte(ok), "http://www.w3.org/2003/05/soap-envelope"); err == nil || !strings.Contains(err.Error(), "no Body") {
		t.Errorf("wrong envelope namespace: err = %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	needSchema(t)
	for _, tc := range []struct {
		name, src, want string
		files           map[string][]byte
	}{
		{name: "empty", src: "", want: "empty"},
		{name: "not xml", src: "<xs:schema", want: "does not compile"},
		{name: "not a schema", src: "<a/>", want: "does not compile"},
		{name: "missing import", src: strings.Replace(orderXSD, "common.xsd", "nope.xsd", 1), want: `refused to load "nope.xsd"`},
		{name: "file outside the bundle", src: strings.Replace(orderXSD, "common.xsd", "/etc/passwd", 1), want: "refused"},
		{name: "relative path escapes", src: strings.Replace(orderXSD, "common.xsd", "../x/common.xsd", 1), want: "refused", files: map[string][]byte{"common.xsd": []byte(commonXSD)}},
		{name: "network", src: strings.Replace(orderXSD, "common.xsd", "http://127.0.0.1:1/common.xsd", 1), want: "refused"},
		{name: "include of the network", src: `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:include schemaLocation="http://127.0.0.1:1/x.xsd"/></xs:schema>`, want: "refused"},
		{name: "external entity", src: `<!DOCTYPE xs:schema [<!ENTITY x SYSTEM "file:///etc/passwd">]><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:annotation><xs:documentation>&x;</xs:documentation></xs:annotation></xs:schema>`, want: "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile("main.xsd", []byte(tc.src), tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// xsd:// and ./ locations name bundle files too.
	for _, loc := range []string{"xsd://common.xsd", "./common.xsd"} {
		if _, err := Compile("order.xsd", []byte(strings.Replace(orderXSD, "common.xsd", loc, 1)), map[string][]byte{"common.xsd": []byte(commonXSD)}); err != nil {
			t.Errorf("%s: %v", loc, err)
		}
	}
}

func TestNoEntityExpansionInDocuments(t *testing.T) {
	needSchema(t)
	s, err := Compile("a.xsd", []byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:string"/></xs:schema>`), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The external entity is neither fetched nor does it make the document
	// valid content; either way no file is read.
	err = s.Validate([]byte(`<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`))
	if err != nil && strings.Contains(err.Error(), "root:") {
		t.Fatalf("a file was read: %v", err)
	}
}

func TestConcurrentValidation(t *testing.T) {
	needSchema(t)
	s, err := Compile("order.xsd", []byte(orderXSD), map[string][]byte{"common.xsd": []byte(commonXSD)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qty := "2"
			if i%2 == 1 {
				qty = "x"
			}
			err := s.Validate([]byte(`<order xmlns="urn:shop"><sku>TEA-1</sku><qty>` + qty + `</qty></order>`))
			if (err == nil) != (i%2 == 0) {
				t.Errorf("doc %d: err = %v", i, err)
			}
		}()
	}
	wg.Wait()
}

func TestUnavailable(t *testing.T) {
	if Available() {
		t.Skip("built with libxml2")
	}
	if _, err := Compile("a.xsd", []byte("<a/>"), nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Compile: err = %v", err)
	}
	if _, err := CompileWSDL("a.wsdl", []byte("<a/>"), nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("CompileWSDL: err = %v", err)
	}
}

// FuzzValidate feeds arbitrary documents through libxml2's parser and
// the validator, whole and as SOAP Bodies: nothing may crash, and every
// failure of a whole document is a ValidationError.
func FuzzValidate(f *testing.F) {
	if !Available() {
		f.Skip("built without libxml2: run with -tags xslt")
	}
	s, err := Compile("order.xsd", []byte(orderXSD), map[string][]byte{"common.xsd": []byte(commonXSD)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`<order xmlns="urn:shop"><sku>TEA-1</sku><qty>2</qty></order>`))
	f.Add([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><s:order xmlns:s="urn:shop"><s:sku>TEA-1</s:sku><s:qty>1</s:qty></s:order></e:Body></e:Envelope>`))
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := s.Validate(b)
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("not a ValidationError: %v", err)
		}
		_ = s.ValidateSOAPBody(b, "http://schemas.xmlsoap.org/soap/envelope/")
	})
}
