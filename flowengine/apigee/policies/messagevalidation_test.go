package policies

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corpusdir "github.com/flowproc/flowproc/internal/corpus"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/xmlschema"
)

const (
	mvXSD = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:shop" xmlns:t="urn:types" elementFormDefault="qualified">
  <xs:import namespace="urn:types" schemaLocation="types.xsd"/>
  <xs:element name="order"><xs:complexType><xs:sequence>
    <xs:element name="sku" type="t:sku"/><xs:element name="qty" type="xs:positiveInteger"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>`
	mvTypesXSD = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:types">
  <xs:simpleType name="sku"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{3}-[0-9]+"/></xs:restriction></xs:simpleType>
</xs:schema>`
	mvWSDL = `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:shop" targetNamespace="urn:shop">
  <types><xs:schema targetNamespace="urn:shop" elementFormDefault="qualified">
    <xs:element name="order" type="tns:order"/>
    <xs:complexType name="order"><xs:sequence><xs:element name="qty" type="xs:int"/></xs:sequence></xs:complexType>
  </xs:schema></types>
  <message name="orderRequest"><part name="body" element="tns:order"/></message>
</definitions>`
	mvOrder    = `<order xmlns="urn:shop"><sku>TEA-1</sku><qty>2</qty></order>`
	mvSOAP11   = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/><soap:Body>%s</soap:Body></soap:Envelope>`
	mvSOAP12   = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>%s</env:Body></env:Envelope>`
	mvXMLType  = "application/xml"
	mvSOAPType = "text/xml"
)

func soapDoc(env, body string) string { return strings.Replace(env, "%s", body, 1) }

func TestMessageValidation(t *testing.T) {
	res := map[string]string{
		"resources/xsd/order.xsd": mvXSD, "resources/xsd/types.xsd": mvTypesXSD,
		"resources/wsdl/shop.wsdl": mvWSDL, "resources/xsd/bad.xsd": "<xs:schema",
		"resources/xsd/escape.xsd": strings.Replace(mvXSD, "types.xsd", "file:///etc/passwd", 1),
	}
	xml := []string{"Content-Type", mvXMLType}
	// The forms without a schema run in every build.
	runCases(t, []pcase{
		{
			name:   "well-formed XML passes",
			policy: `<MessageValidation name="MV"><Source>request</Source></MessageValidation>`,
			method: "POST", body: mvOrder, headers: xml,
		},
		{
			name:   "malformed XML fails",
			policy: `<MessageValidation name="MV"><Source>request</Source></MessageValidation>`,
			method: "POST", body: "<order>", headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:   "DOCTYPE fails",
			policy: `<MessageValidation name="MV"/>`,
			method: "POST", body: `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:   "JSON is checked for well-formedness only",
			policy: `<MessageValidation name="MV"><SOAPMessage version="1.1"/><Element namespace="urn:shop">order</Element></MessageValidation>`,
			method: "POST", body: `{"order":{"qty":2}}`, headers: []string{"Content-Type", "application/json"},
		},
		{
			name:   "malformed JSON fails",
			policy: `<MessageValidation name="MV"/>`,
			method: "POST", body: `{"order":`, headers: []string{"Content-Type", "application/json; charset=utf-8"},
			fault: "steps.messagevalidation.Failed", faultMsg: `MV failed with reason: "malformed JSON: unexpected end of JSON input"`,
		},
		{
			name:   "root element matches",
			policy: `<MessageValidation name="MV"><Element namespace="urn:x">basket</Element><Element namespace="urn:shop">order</Element></MessageValidation>`,
			method: "POST", body: mvOrder, headers: xml,
		},
		{
			name:   "wrong root element",
			policy: `<MessageValidation name="MV"><Element namespace="urn:shop">basket</Element></MessageValidation>`,
			method: "POST", body: mvOrder, headers: xml,
			fault: "steps.messagevalidation.Failed", faultMsg: `MV failed with reason: "expected element {urn:shop}basket, found {urn:shop}order"`,
		},
		{
			name:   "wrong namespace of the element",
			policy: `<MessageValidation name="MV"><Element>order</Element></MessageValidation>`,
			method: "POST", body: mvOrder, headers: xml,
			fault: "steps.messagevalidation.Failed", faultMsg: `MV failed with reason: "expected element {}order, found {urn:shop}order"`,
		},
		{
			name:   "SOAP 1.1 envelope and body element",
			policy: `<MessageValidation name="MV"><SOAPMessage version="1.1"/><Element namespace="urn:shop">order</Element></MessageValidation>`,
			method: "POST", body: soapDoc(mvSOAP11, mvOrder), headers: []string{"Content-Type", mvSOAPType},
		},
		{
			name:   "SOAP 1.2 with 1.1/1.2",
			policy: `<MessageValidation name="MV"><SOAPMessage version="1.1/1.2"/></MessageValidation>`,
			method: "POST", body: soapDoc(mvSOAP12, mvOrder), headers: []string{"Content-Type", "application/soap+xml"},
		},
		{
			name:   "wrong SOAP version",
			policy: `<MessageValidation name="MV"><SOAPMessage version="1.1"/></MessageValidation>`,
			method: "POST", body: soapDoc(mvSOAP12, mvOrder), headers: xml,
			fault:    "steps.messagevalidation.Failed",
			faultMsg: `MV failed with reason: "SOAP version mismatch: expected {http://schemas.xmlsoap.org/soap/envelope/}Envelope, found {http://www.w3.org/2003/05/soap-envelope}Envelope (SOAP 1.2)"`,
		},
		{
			name:   "not an envelope",
			policy: `<MessageValidation name="MV"><SOAPMessage/></MessageValidation>`,
			method: "POST", body: mvOrder, headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:   "envelope without Body",
			policy: `<MessageValidation name="MV"><SOAPMessage/></MessageValidation>`,
			method: "POST", body: `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/></e:Envelope>`, headers: xml,
			fault: "steps.messagevalidation.Failed", faultMsg: `MV failed with reason: "the SOAP Envelope has no Body"`,
		},
		{
			name:   "Header after Body",
			policy: `<MessageValidation name="MV"><SOAPMessage version="1.2"/></MessageValidation>`,
			method: "POST", body: `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/><e:Header/></e:Envelope>`, headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:   "wrong element in the Body",
			policy: `<MessageValidation name="MV"><SOAPMessage/><Element namespace="urn:shop">cancel</Element></MessageValidation>`,
			method: "POST", body: soapDoc(mvSOAP11, mvOrder), headers: xml,
			fault: "steps.messagevalidation.Failed", faultMsg: `MV failed with reason: "expected element {urn:shop}cancel, found {urn:shop}order"`,
		},
		{
			name:   "empty Body with an Element",
			policy: `<MessageValidation name="MV"><SOAPMessage/><Element namespace="urn:shop">order</Element></MessageValidation>`,
			method: "POST", body: soapDoc(mvSOAP11, ""), headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:   "source not available",
			policy: `<MessageValidation name="MV"><Source>response</Source></MessageValidation>`,
			fault:  "steps.messagevalidation.SourceMessageNotAvailable", faultMsg: "response message is not available for MessageValidation: MV",
		},
		{
			name:   "source not a message",
			policy: `<MessageValidation name="MV"><Source>flow.text</Source></MessageValidation>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.text", "<a/>") },
			fault:  "steps.messagevalidation.NonMessageVariable", faultMsg: "Variable flow.text does not resolve to a Message",
		},
		{
			name:   "SOAPMessageValidation root is an alias",
			policy: `<SOAPMessageValidation name="MV"><Element>a</Element></SOAPMessageValidation>`,
			method: "POST", body: "<a/>", headers: xml,
		},
		{name: "bad SOAP version", policy: `<MessageValidation name="MV"><SOAPMessage version="2.0"/></MessageValidation>`, loadErr: "AP401"},
		{name: "empty Element", policy: `<MessageValidation name="MV"><Element namespace="urn:x"> </Element></MessageValidation>`, loadErr: "RootElementNameUnspecified"},
		{name: "Element not a name", policy: `<MessageValidation name="MV"><Element>s:order</Element></MessageValidation>`, loadErr: "InvalidRootElementName"},
		{name: "resource type", policy: `<MessageValidation name="MV"><ResourceURL>jsc://a.js</ResourceURL></MessageValidation>`, loadErr: "Invalid Resource Type jsc. It should be xsd or wsdl"},
		{name: "unknown child", policy: `<MessageValidation name="MV"><Schema/></MessageValidation>`, loadErr: "AP103"},
	})
	if !xmlschema.Available() {
		runCases(t, []pcase{{
			name:   "default build refuses a schema at load",
			policy: `<MessageValidation name="MV"><ResourceURL>xsd://order.xsd</ResourceURL></MessageValidation>`, resources: res,
			loadErr: "-tags xslt",
		}})
		return
	}
	runCases(t, []pcase{
		{
			name:      "valid against the XSD",
			policy:    `<MessageValidation name="MV"><Element namespace="urn:shop">order</Element><ResourceURL>xsd://order.xsd</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: mvOrder, headers: xml,
		},
		{
			name:      "invalid against the XSD",
			policy:    `<MessageValidation name="MV"><ResourceURL>xsd://order.xsd</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: strings.Replace(mvOrder, "TEA-1", "tea", 1), headers: xml,
			fault:    "steps.messagevalidation.Failed",
			faultMsg: `MV failed with reason: "line 1: Element '{urn:shop}sku': [facet 'pattern'] The value 'tea' is not accepted by the pattern '[A-Z]{3}-[0-9]+'."`,
		},
		{
			name:      "XSD of a SOAP Body",
			policy:    `<MessageValidation name="MV"><SOAPMessage version="1.1"/><ResourceURL>xsd://order.xsd</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: soapDoc(mvSOAP11, mvOrder), headers: xml,
		},
		{
			name:      "XSD of a SOAP Body: invalid",
			policy:    `<MessageValidation name="MV"><SOAPMessage version="1.1"/><ResourceURL>xsd://order.xsd</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: soapDoc(mvSOAP11, strings.Replace(mvOrder, ">2<", ">0<", 1)), headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:      "WSDL: valid SOAP message",
			policy:    `<MessageValidation name="MV"><ResourceURL>wsdl://shop.wsdl</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: soapDoc(mvSOAP11, `<order xmlns="urn:shop"><qty>3</qty></order>`), headers: xml,
		},
		{
			name:      "WSDL: invalid SOAP message",
			policy:    `<MessageValidation name="MV"><ResourceURL>wsdl://shop.wsdl</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: soapDoc(mvSOAP11, `<order xmlns="urn:shop"><qty>three</qty></order>`), headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:      "WSDL: not an envelope",
			policy:    `<MessageValidation name="MV"><ResourceURL>wsdl://shop.wsdl</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: `<order xmlns="urn:shop"><qty>3</qty></order>`, headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:      "WSDL: wrong SOAP version",
			policy:    `<MessageValidation name="MV"><SOAPMessage version="1.2"/><ResourceURL>wsdl://shop.wsdl</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: soapDoc(mvSOAP11, `<order xmlns="urn:shop"><qty>3</qty></order>`), headers: xml,
			fault: "steps.messagevalidation.Failed",
		},
		{
			name:      "JSON with a schema: well-formedness only",
			policy:    `<MessageValidation name="MV"><ResourceURL>xsd://order.xsd</ResourceURL></MessageValidation>`,
			resources: res, method: "POST", body: `{"qty":"many"}`, headers: []string{"Content-Type", "application/json"},
		},
		{name: "schema does not compile", policy: `<MessageValidation name="MV"><ResourceURL>xsd://bad.xsd</ResourceURL></MessageValidation>`, resources: res, loadErr: "ResourceCompileFailed"},
		{name: "import outside the bundle", policy: `<MessageValidation name="MV"><ResourceURL>xsd://escape.xsd</ResourceURL></MessageValidation>`, resources: res, loadErr: "refused to load"},
		{name: "missing resource", policy: `<MessageValidation name="MV"><ResourceURL>xsd://none.xsd</ResourceURL></MessageValidation>`, resources: res, loadErr: "AP204"},
	})
}

// FuzzMessageValidationEnvelope feeds arbitrary documents to the pure-Go
// envelope and element check: it must not panic, and what it passes is a
// SOAP envelope whose first Body element is the one named.
func FuzzMessageValidationEnvelope(f *testing.F) {
	f.Add([]byte(soapDoc(mvSOAP11, mvOrder)))
	f.Add([]byte(soapDoc(mvSOAP12, mvOrder)))
	f.Add([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/><e:Header/><e:Body/></e:Envelope>`))
	f.Add([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/><x:t xmlns:x="urn:x"/></e:Envelope>`))
	mv := &messageValidation{soap: true, versions: []string{soap11NS, soap12NS}, elements: []mvElement{{"urn:shop", "order"}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		ns, reason := mv.structure(b)
		if reason != "" {
			return
		}
		if ns != soap11NS && ns != soap12NS {
			t.Fatalf("passed with envelope namespace %q", ns)
		}
		if !strings.Contains(string(b), "order") {
			t.Fatalf("passed without the order element: %q", b)
		}
	})
}

// TestCorpusMessageValidation loads the only public MessageValidation
// policy of the corpus (apigeelint's MV-Soap.xml, a lone policy file: its
// WSDL is not published, so the test supplies one declaring the element
// the policy names) and runs it on a SOAP 1.1 message.
func TestCorpusMessageValidation(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	src, err := os.ReadFile(filepath.Join(corpus, "_supplements", "apigeelint-policy-types", "policies", "MV-Soap.xml"))
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]string{"resources/wsdl/example.wsdl": `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<types><xs:schema targetNamespace="http://finance.com/1999" elementFormDefault="qualified">
<xs:element name="ElementUnderBody"><xs:complexType><xs:sequence><xs:element name="amount" type="xs:decimal"/></xs:sequence></xs:complexType></xs:element>
</xs:schema></types></definitions>`}
	if !xmlschema.Available() {
		runCases(t, []pcase{{name: "MV-Soap needs -tags xslt", policy: string(src), resources: res, loadErr: "-tags xslt"}})
		return
	}
	xml := []string{"Content-Type", mvSOAPType}
	runCases(t, []pcase{
		{
			name: "MV-Soap valid", policy: string(src), resources: res, method: "POST", headers: xml,
			body: soapDoc(mvSOAP11, `<f:ElementUnderBody xmlns:f="http://finance.com/1999"><f:amount>12.50</f:amount></f:ElementUnderBody>`),
		},
		{
			name: "MV-Soap invalid amount", policy: string(src), resources: res, method: "POST", headers: xml,
			body:  soapDoc(mvSOAP11, `<f:ElementUnderBody xmlns:f="http://finance.com/1999"><f:amount>lots</f:amount></f:ElementUnderBody>`),
			fault: "steps.messagevalidation.Failed",
		},
		{
			name: "MV-Soap SOAP 1.2 refused", policy: string(src), resources: res, method: "POST", headers: xml,
			body:  soapDoc(mvSOAP12, `<f:ElementUnderBody xmlns:f="http://finance.com/1999"><f:amount>1</f:amount></f:ElementUnderBody>`),
			fault: "steps.messagevalidation.Failed",
		},
	})
}
