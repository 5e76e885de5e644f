package policies

import (
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func TestJSONToXML(t *testing.T) {
	body := `{"order":{"@id":"7","items":[{"sku":"a"},{"sku":"b"}],"note":null}}`
	runCases(t, []pcase{
		{
			name:   "request in place",
			policy: `<JSONToXML name="J2X"><Options><AttributePrefix>@</AttributePrefix><NullValue>NULL</NullValue></Options><OutputVariable>request</OutputVariable><Source>request</Source></JSONToXML>`,
			method: "POST", body: body, headers: []string{"Content-Type", "application/json"},
			vars: map[string]string{
				"request.content":             `<?xml version="1.0" encoding="UTF-8"?><order id="7"><items><sku>a</sku></items><items><sku>b</sku></items><note>NULL</note></order>`,
				"request.header.content-type": "application/xml",
			},
		},
		{
			name:   "root names",
			policy: `<JSONToXML name="J2X"><Options><ObjectRootElementName>Top</ObjectRootElementName><ArrayRootElementName>L</ArrayRootElementName><ArrayItemElementName>I</ArrayItemElementName></Options><Source>flow.j</Source><OutputVariable>flow.x</OutputVariable></JSONToXML>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.j", `[1,{"a":true}]`) },
			vars:   map[string]string{"flow.x": `<?xml version="1.0" encoding="UTF-8"?><L><I>1</I><I><a>true</a></I></L>`},
		},
		{
			name:   "response by default in the response flow",
			policy: `<JSONToXML name="J2X"/>`,
			seg:    engine.ProxyResponse, response: xmlResponse("application/vnd.api+json", `{"a":1,"b":2}`),
			vars: map[string]string{"response.content": `<?xml version="1.0" encoding="UTF-8"?><Root><a>1</a><b>2</b></Root>`},
		},
		{
			name:   "non-JSON content type is skipped",
			policy: `<JSONToXML name="J2X"/>`,
			method: "POST", body: body, headers: []string{"Content-Type", "text/xml"},
			vars: map[string]string{"request.content": body},
		},
		{
			name:   "malformed JSON",
			policy: `<JSONToXML name="J2X"/>`,
			method: "POST", body: `{"a":`, headers: []string{"Content-Type", "application/json"},
			fault: "steps.json2xml.ExecutionFailed",
		},
		{
			name:   "scalar JSON",
			policy: `<JSONToXML name="J2X"/>`,
			method: "POST", body: `"text"`, headers: []string{"Content-Type", "application/json"},
			fault: "steps.json2xml.ExecutionFailed", faultMsg: "JSONToXML[J2X]: Execution failed due to reason: Expecting { or [ at line 1",
		},
		{
			name:   "empty body",
			policy: `<JSONToXML name="J2X"/>`,
			method: "POST", headers: []string{"Content-Type", "application/json"},
			fault: "steps.json2xml.ExecutionFailed", faultMsg: "JSONToXML[J2X]: Execution failed due to reason: Expecting { or [ at line 1",
		},
		{
			name:   "message into a string variable is incompatible",
			policy: `<JSONToXML name="J2X"><OutputVariable>flow.s</OutputVariable></JSONToXML>`,
			method: "POST", body: body, headers: []string{"Content-Type", "application/json"},
			setup: func(r *engine.Run) { _ = r.Set("flow.s", "x") },
			fault: "steps.json2xml.InCompatibleTypes",
		},
		{
			name:   "source unavailable",
			policy: `<JSONToXML name="J2X"><Source>nothing</Source></JSONToXML>`,
			fault:  "steps.json2xml.SourceUnavailable", faultMsg: "JSONToXML[J2X]: Source nothing is not available",
		},
		{
			name:   "output beyond the size bound fails",
			policy: `<JSONToXML name="J2X"><Options><ArrayItemElementName>` + strings.Repeat("n", 200) + `</ArrayItemElementName></Options><Source>flow.j</Source><OutputVariable>flow.x</OutputVariable></JSONToXML>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.j", "["+strings.Repeat("1,", 100000)+"1]") },
			fault:  "steps.json2xml.ExecutionFailed", vars: map[string]string{"flow.x": unset},
		},
		{
			name:   "indent without declaration",
			policy: `<JSONToXML name="J2X"><Options><Indent>true</Indent><OmitXmlDeclaration>true</OmitXmlDeclaration></Options><Source>flow.j</Source><OutputVariable>flow.x</OutputVariable></JSONToXML>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.j", `{"a":{"b":1}}`) },
			vars:   map[string]string{"flow.x": "<a>\n  <b>1</b>\n</a>"},
		},
		{name: "unknown option", policy: `<JSONToXML name="J2X"><Options><Pretty>true</Pretty></Options></JSONToXML>`, loadErr: "AP103"},
	})
}
