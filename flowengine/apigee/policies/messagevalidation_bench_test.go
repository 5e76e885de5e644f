package policies

import (
	"context"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/xmlschema"
)

// BenchmarkMessageValidation runs the policy on a ~1 KiB SOAP 1.1 order:
// the pure-Go envelope and element check alone, and with the XSD and the
// WSDL schema (libxml2, -tags xslt only).
func BenchmarkMessageValidation(b *testing.B) {
	res := map[string]string{"resources/xsd/order.xsd": mvXSD, "resources/xsd/types.xsd": mvTypesXSD, "resources/wsdl/shop.wsdl": mvWSDL}
	pad := `<!--` + strings.Repeat("x", 900) + `-->`
	cases := []struct{ name, policy, body string }{
		{"envelope", `<MessageValidation name="MV"><SOAPMessage version="1.1"/><Element namespace="urn:shop">order</Element></MessageValidation>`, soapDoc(mvSOAP11, pad+mvOrder)},
		{"xsd", `<MessageValidation name="MV"><SOAPMessage version="1.1"/><Element namespace="urn:shop">order</Element><ResourceURL>xsd://order.xsd</ResourceURL></MessageValidation>`, soapDoc(mvSOAP11, pad+mvOrder)},
		{"wsdl", `<MessageValidation name="MV"><ResourceURL>wsdl://shop.wsdl</ResourceURL></MessageValidation>`, soapDoc(mvSOAP11, pad+`<order xmlns="urn:shop"><qty>3</qty></order>`)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.name != "envelope" && !xmlschema.Available() {
				b.Skip("schema validation needs -tags xslt")
			}
			pol, errs := engine.TestPolicy(c.policy, res, nil)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				r := engine.TestRun(context.Background(), engine.ProxyRequest, "POST", "/", []byte(c.body), nil, "Content-Type", "text/xml")
				if err := pol.Execute(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
