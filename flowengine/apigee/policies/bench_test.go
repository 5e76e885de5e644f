package policies

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func benchPolicy(b *testing.B, policy string, seg engine.Segment, body string, response *engine.Message, headers ...string) {
	b.Helper()
	pol, errs := engine.TestPolicy(policy, nil, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		var resp *engine.Message
		if response != nil {
			resp, _ = response.Clone()
		}
		r := engine.TestRun(context.Background(), seg, "POST", "/base/users/42?x=1", []byte(body), resp, headers...)
		r.SetTestProxyPath("/base", "/users/42")
		if err := pol.Execute(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtractVariablesPatterns(b *testing.B) {
	benchPolicy(b, `<ExtractVariables name="EV"><URIPath><Pattern>/users/{id}</Pattern><Pattern>/users/{id}/orders/{o}</Pattern></URIPath><Header name="Authorization"><Pattern ignoreCase="true">Bearer {token}</Pattern></Header><QueryParam name="x"><Pattern>{x}</Pattern></QueryParam></ExtractVariables>`,
		engine.ProxyRequest, "", nil, "Authorization", "Bearer abcdef0123456789")
}

func BenchmarkExtractVariablesJSON(b *testing.B) {
	benchPolicy(b, `<ExtractVariables name="EV"><JSONPayload><Variable name="a"><JSONPath>$.user.name</JSONPath></Variable><Variable name="b" type="integer"><JSONPath>$.user.age</JSONPath></Variable></JSONPayload></ExtractVariables>`,
		engine.ProxyRequest, `{"user":{"name":"Ann","age":41,"tags":["a","b","c"]},"items":[1,2,3,4,5]}`, nil, "Content-Type", "application/json")
}

func BenchmarkExtractVariablesXML(b *testing.B) {
	benchPolicy(b, `<ExtractVariables name="EV"><Source>response</Source><XMLPayload><Namespaces><Namespace prefix="s">urn:s</Namespace></Namespaces><Variable name="a"><XPath>/s:E/s:B/App/Name</XPath></Variable><Variable name="n" type="integer"><XPath>count(//Key)</XPath></Variable></XMLPayload></ExtractVariables>`,
		engine.ProxyResponse, "", xmlResponse("text/xml", `<s:E xmlns:s="urn:s"><s:B><App><Name>Shop</Name><Key>1</Key><Key>2</Key></App></s:B></s:E>`))
}

func BenchmarkXMLToJSONPolicy(b *testing.B) {
	benchPolicy(b, `<XMLToJSON name="X"><Options><RecognizeNumber>true</RecognizeNumber></Options><Source>response</Source></XMLToJSON>`,
		engine.ProxyResponse, "", xmlResponse("application/xml", `<order id="1"><item sku="a">2</item><item sku="b">3</item><total>5.5</total></order>`))
}

func BenchmarkJSONToXMLPolicy(b *testing.B) {
	benchPolicy(b, `<JSONToXML name="J"><Options><AttributePrefix>@</AttributePrefix></Options></JSONToXML>`,
		engine.ProxyRequest, `{"order":{"@id":1,"item":[{"sku":"a","n":2},{"sku":"b","n":3}],"total":5.5}}`, nil, "Content-Type", "application/json")
}
