package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func TestXMLToJSON(t *testing.T) {
	xml := `<a xmlns:p="urn:p"><p:b id="1">2</p:b><c>x</c><c>y</c></a>`
	runCases(t, []pcase{
		{
			name:   "response in place",
			policy: `<XMLToJSON name="X2J"><Options><RecognizeNumber>true</RecognizeNumber><AttributePrefix>@</AttributePrefix><TextNodeName>#text</TextNodeName></Options><OutputVariable>response</OutputVariable><Source>response</Source></XMLToJSON>`,
			seg:    engine.TargetResponse, response: xmlResponse("text/xml; charset=utf-8", xml),
			vars: map[string]string{"response.content": `{"a":{"b":{"@id":1,"#text":2},"c":["x","y"]}}`, "response.header.content-type": "application/json"},
		},
		{
			name:   "format preset into a new message",
			policy: `<XMLToJSON name="X2J"><Format>badgerFish</Format><OutputVariable>converted</OutputVariable></XMLToJSON>`,
			method: "POST", body: xml, headers: []string{"Content-Type", "application/xml"},
			vars: map[string]string{"converted.content": `{"a":{"@xmlns":{"p":"urn:p"},"p:b":{"@id":"1","$":"2"},"c":[{"$":"x"},{"$":"y"}]}}`, "request.content": xml},
		},
		{
			name:   "TreatAsArray unwrap",
			policy: `<XMLToJSON name="X2J"><Options><TreatAsArray><Path unwrap="true">a/c</Path></TreatAsArray><StripLevels>0</StripLevels></Options></XMLToJSON>`,
			method: "POST", body: `<r><a><c>1</c></a></r>`, headers: []string{"Content-Type", "application/xml"},
			vars: map[string]string{"request.content": `{"r":{"a":{"c":"1"}}}`},
		},
		{
			name:   "TreatAsArray unwrap from the root",
			policy: `<XMLToJSON name="X2J"><Options><TreatAsArray><Path unwrap="true">r/a/c</Path></TreatAsArray></Options></XMLToJSON>`,
			method: "POST", body: `<r><a><c>1</c></a></r>`, headers: []string{"Content-Type", "application/xml"},
			vars: map[string]string{"request.content": `{"r":{"a":["1"]}}`},
		},
		{
			name:   "other content type is skipped",
			policy: `<XMLToJSON name="X2J"/>`,
			method: "POST", body: xml, headers: []string{"Content-Type", "text/plain"},
			vars: map[string]string{"request.content": xml},
		},
		{
			name:   "string source to string output",
			policy: `<XMLToJSON name="X2J"><Source>flow.xml</Source><OutputVariable>flow.json</OutputVariable></XMLToJSON>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.xml", `<a>1</a>`) },
			vars:   map[string]string{"flow.json": `{"a":"1"}`},
		},
		{
			name:   "malformed XML",
			policy: `<XMLToJSON name="X2J"/>`,
			method: "POST", body: `<a>`, headers: []string{"Content-Type", "application/xml"},
			fault: "steps.xml2json.ExecutionFailed",
		},
		{
			name:   "empty XML body",
			policy: `<XMLToJSON name="X2J"/>`,
			method: "POST", headers: []string{"Content-Type", "application/xml"},
			fault: "steps.xml2json.ExecutionFailed", faultMsg: "XMLToJSON[X2J]: Execution failed. reason: Premature end of document while parsing at line 1(possibly  around char 0)",
		},
		{
			name:   "billion laughs never expands",
			policy: `<XMLToJSON name="X2J"/>`,
			method: "POST", headers: []string{"Content-Type", "application/xml"},
			body:  `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>`,
			fault: "steps.xml2json.ExecutionFailed",
		},
		{
			name:   "source unavailable",
			policy: `<XMLToJSON name="X2J"><Source>response</Source></XMLToJSON>`,
			fault:  "steps.xml2json.SourceUnavailable", faultMsg: "XMLToJSON[X2J]: Source response is not available",
		},
		{
			name:   "string source needs an output",
			policy: `<XMLToJSON name="X2J"><Source>flow.xml</Source></XMLToJSON>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.xml", `<a/>`) },
			fault:  "steps.xml2json.OutputVariableIsNotAvailable",
		},
		{
			name:   "string into message is incompatible",
			policy: `<XMLToJSON name="X2J"><Source>flow.xml</Source><OutputVariable>request</OutputVariable></XMLToJSON>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.xml", `<a/>`) },
			fault:  "steps.xml2json.InCompatibleTypes", faultMsg: "XMLToJSON[X2J]: String can not be assigned to message type.",
		},
		{
			name:   "non-string source",
			policy: `<XMLToJSON name="X2J"><Source>flow.n</Source><OutputVariable>o</OutputVariable></XMLToJSON>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.n", 5) },
			fault:  "steps.xml2json.InvalidSourceType", faultMsg: "XMLToJSON[class java.lang.Integer]: Invalid source type class java.lang.Integer. Valid source types are [message, string].",
		},
		{name: "unknown format", policy: `<XMLToJSON name="X2J"><Format>nope</Format></XMLToJSON>`, loadErr: "AP401"},
		{name: "format and options", policy: `<XMLToJSON name="X2J"><Format>yahoo</Format><Options><RecognizeNull>true</RecognizeNull></Options></XMLToJSON>`, loadErr: "AP401"},
		{name: "unknown option", policy: `<XMLToJSON name="X2J"><Options><Bogus/></Options></XMLToJSON>`, loadErr: "AP103"},
		{name: "bad strip levels", policy: `<XMLToJSON name="X2J"><Options><StripLevels>x</StripLevels></Options></XMLToJSON>`, loadErr: "AP401"},
	})
}
