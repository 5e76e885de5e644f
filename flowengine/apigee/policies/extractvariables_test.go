package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func xmlResponse(ct, body string) *engine.Message {
	m := engine.NewResponse()
	if ct != "" {
		m.SetHeader("Content-Type", ct)
	}
	m.SetContent([]byte(body))
	return m
}

func TestExtractVariables(t *testing.T) {
	jsonBody := `{"user":{"name":"Ann","age":41,"admin":true,"tags":["a","b"],"none":null},"items":[{"id":1},{"id":2}]}`
	xmlBody := `<?xml version="1.0"?><s:Envelope xmlns:s="urn:soap"><s:Body><App id="7"><Name>Shop</Name><Cred><Key>k1</Key><Key>k2</Key></Cred><Count>3</Count></App></s:Body></s:Envelope>`
	runCases(t, []pcase{
		{
			name: "uripath on proxy.pathsuffix",
			policy: `<ExtractVariables name="EV"><Source>request</Source><VariablePrefix>urirequest</VariablePrefix>
				<URIPath><Pattern ignoreCase="true">/accounts/{id}</Pattern><Pattern>/users/{uid}/orders/{oid}</Pattern></URIPath></ExtractVariables>`,
			path: "/base/users/u1/orders/o9", suffix: "/users/u1/orders/o9",
			vars: map[string]string{"urirequest.uid": "u1", "urirequest.oid": "o9", "urirequest.id": unset},
		},
		{
			name:   "uripath ignoreCase and first pattern wins",
			policy: `<ExtractVariables name="EV"><URIPath><Pattern ignoreCase="true">/Accounts/{id}</Pattern><Pattern>/accounts/{other}</Pattern></URIPath></ExtractVariables>`,
			suffix: "/accounts/12",
			vars:   map[string]string{"id": "12", "other": unset},
		},
		{
			name:   "the pattern with most segments wins (Apigee's example)",
			policy: `<ExtractVariables name="EV"><URIPath><Pattern ignoreCase="true">/a/{pathSeg}</Pattern><Pattern ignoreCase="true">/a/b/{pathSeg}</Pattern><Pattern ignoreCase="true">/a/{pathSeg1}/c/{pathSeg2}</Pattern></URIPath><VariablePrefix>urirequest</VariablePrefix></ExtractVariables>`,
			suffix: "/a/b/c/d",
			vars:   map[string]string{"urirequest.pathSeg1": "b", "urirequest.pathSeg2": "d", "urirequest.pathSeg": unset},
		},
		{
			name:   "first of equally long patterns wins",
			policy: `<ExtractVariables name="EV"><URIPath><Pattern>/a/{x}</Pattern><Pattern>/{y}/b</Pattern></URIPath></ExtractVariables>`,
			suffix: "/a/b",
			vars:   map[string]string{"x": "b", "y": unset},
		},
		{
			name:   "wildcards and later extractions overwrite earlier ones",
			policy: `<ExtractVariables name="EV"><URIPath><Pattern>/a/**/{id}</Pattern></URIPath><QueryParam name="token"><Pattern>{tok}</Pattern></QueryParam><Header name="Token"><Pattern>{tok}</Pattern></Header><Header name="Content-Type"><Pattern>*;charset={enc}</Pattern></Header></ExtractVariables>`,
			path:   "/base/a/x/y/z?token=q", suffix: "/a/x/y/z", headers: []string{"Token", "h", "Content-Type", "text/xml;charset=UTF-16"},
			vars: map[string]string{"id": "z", "tok": "h", "enc": "UTF-16"},
		},
		{
			name:   "uripath does nothing on a response",
			policy: `<ExtractVariables name="EV"><Source>response</Source><URIPath><Pattern>/a/{id}</Pattern></URIPath></ExtractVariables>`,
			seg:    engine.ProxyResponse, suffix: "/a/1", response: xmlResponse("", ""),
			vars: map[string]string{"id": unset},
		},
		{
			name:   "query header form params",
			policy: `<ExtractVariables name="EV"><VariablePrefix>p</VariablePrefix><QueryParam name="code"><Pattern>DBN{code}</Pattern></QueryParam><QueryParam name="w.2"><Pattern>{w2}</Pattern></QueryParam><Header name="Authorization"><Pattern ignoreCase="true">Bearer {token}</Pattern></Header><FormParam name="f"><Pattern>{f}</Pattern></FormParam></ExtractVariables>`,
			method: "POST", path: "/x?code=DBN88&w=1&w=2", body: "f=hello%20world&g=1",
			headers: []string{"Authorization", "bearer abc.def", "Content-Type", "application/x-www-form-urlencoded"},
			vars:    map[string]string{"p.code": "88", "p.w2": "2", "p.token": "abc.def", "p.f": "hello world"},
		},
		{
			name:   "variable source with two patterns",
			policy: `<ExtractVariables name="EV"><Variable name="flow.in"><Pattern>{a}:{b}</Pattern><Pattern>{a}-{b}</Pattern></Variable></ExtractVariables>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.in", "x-y-z") },
			vars:   map[string]string{"a": "x", "b": "y-z"},
		},
		{
			name: "json payload with types",
			policy: `<ExtractVariables name="EV"><Source>request</Source><VariablePrefix>j</VariablePrefix><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables><JSONPayload>
				<Variable name="name"><JSONPath>$.user.name</JSONPath></Variable>
				<Variable name="age" type="integer"><JSONPath>$.user.age</JSONPath></Variable>
				<Variable name="admin" type="boolean"><JSONPath>$.user.admin</JSONPath></Variable>
				<Variable name="tags"><JSONPath>$.user.tags</JSONPath></Variable>
				<Variable name="ids"><JSONPath>$.items[*].id</JSONPath></Variable>
				<Variable name="none"><JSONPath>$.user.none</JSONPath></Variable>
				<Variable name="missing"><JSONPath>$.user.nope</JSONPath></Variable>
				<Variable name="d" type="double"><JSONPath>$.user.age</JSONPath></Variable>
				<Variable name="deep"><JSONPath>$..nope</JSONPath></Variable>
				</JSONPayload></ExtractVariables>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "application/json; charset=utf-8"},
			vars: map[string]string{"j.name": "Ann", "j.age": "41", "j.admin": "true", "j.tags": `["a","b"]`, "j.ids": "[1,2]", "j.none": unset, "j.missing": unset, "j.d": "41.0", "j.deep": "[]"},
		},
		{
			name:   "json payload skipped for other content types",
			policy: `<ExtractVariables name="EV"><JSONPayload><Variable name="n"><JSONPath>$.user.name</JSONPath></Variable></JSONPayload></ExtractVariables>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "text/plain"},
			vars: map[string]string{"n": unset},
		},
		{
			name:   "json path into a non-JSON body is ExecutionFailed",
			policy: `<ExtractVariables name="EV-json"><JSONPayload><Variable name="n"><JSONPath>$.user.name</JSONPath></Variable></JSONPayload></ExtractVariables>`,
			method: "POST", body: "<not>json</not>", headers: []string{"Content-Type", "application/json"},
			fault: "steps.extractvariables.ExecutionFailed", faultMsg: "Failed to execute the ExtractVariables: EV-json",
		},
		{
			name:   "empty JSON body is ExecutionFailed",
			policy: `<ExtractVariables name="EV"><JSONPayload><Variable name="n"><JSONPath>$.a</JSONPath></Variable></JSONPayload></ExtractVariables>`,
			method: "POST", headers: []string{"Content-Type", "application/json"},
			fault: "steps.extractvariables.ExecutionFailed",
		},
		{
			name:   "unresolved JSONPath is InvalidJSONPath",
			policy: `<ExtractVariables name="EV-J"><JSONPayload><Variable name="a"><JSONPath>$.user.name</JSONPath></Variable><Variable name="n"><JSONPath>$.Name</JSONPath></Variable></JSONPayload></ExtractVariables>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "application/json"},
			fault: "steps.extractvariables.InvalidJSONPath", faultMsg: "Invalid JSON path $.Name in policy EV-J.",
			vars: map[string]string{"a": "Ann"},
		},
		{
			name:   "IgnoreUnresolvedVariables does not excuse a malformed body",
			policy: `<ExtractVariables name="EV"><JSONPayload><Variable name="n"><JSONPath>$.a</JSONPath></Variable></JSONPayload><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></ExtractVariables>`,
			method: "POST", body: "{", headers: []string{"Content-Type", "application/json"},
			fault: "steps.extractvariables.ExecutionFailed",
		},
		{
			name:    "string variable source",
			policy:  `<ExtractVariables name="EV"><Source>flow.doc</Source><JSONPayload><Variable name="n"><JSONPath>$.user.name</JSONPath></Variable></JSONPayload><Header name="h"><Pattern>{h}</Pattern></Header><Variable name="flow.doc"><Pattern>{whole}</Pattern></Variable></ExtractVariables>`,
			headers: []string{"h", "x"},
			setup:   func(r *engine.Run) { _ = r.Set("flow.doc", jsonBody) },
			vars:    map[string]string{"n": "Ann", "h": unset, "whole": jsonBody},
		},
		{
			name:   "string variable source with XML",
			policy: `<ExtractVariables name="EV"><Source>flow.doc</Source><XMLPayload><Variable name="n"><XPath>//Name</XPath></Variable></XMLPayload></ExtractVariables>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.doc", xmlBody) },
			vars:   map[string]string{"n": "Shop"},
		},
		{
			name:   "unresolvable variable source with JSONPayload",
			policy: `<ExtractVariables name="EV-2"><Source>flow.none</Source><JSONPayload><Variable name="n"><JSONPath>$.a</JSONPath></Variable></JSONPayload></ExtractVariables>`,
			fault:  "steps.extractvariables.JsonPathParsingFailure", faultMsg: "ExtractVariables EV-2: Json path parsing failed for for flow variables flow.none",
		},
		{
			name:   "unresolvable variable source without payload",
			policy: `<ExtractVariables name="EV-3"><Source>flow.none</Source><Variable name="x"><Pattern>{y}</Pattern></Variable></ExtractVariables>`,
			fault:  "steps.extractvariables.SourceMessageNotAvailable", faultMsg: "flow.none message is not available for ExtractVariable: EV-3",
		},
		{
			name:   "unable to cast",
			policy: `<ExtractVariables name="EV"><JSONPayload><Variable name="n" type="integer"><JSONPath>$.user.name</JSONPath></Variable></JSONPayload></ExtractVariables>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "application/json"},
			fault: "steps.extractvariables.UnableToCast", faultMsg: "Unable to cast value Ann as INTEGER.",
		},
		{
			name:   "source not in scope",
			policy: `<ExtractVariables name="EV-1"><Source>response</Source><URIPath><Pattern>/a/{x}</Pattern></URIPath></ExtractVariables>`,
			fault:  "steps.extractvariables.SourceMessageNotAvailable", faultMsg: "response message is not available for ExtractVariable: EV-1",
		},
		{
			name: "xml payload with namespaces and nodeset",
			policy: `<ExtractVariables name="EV"><Source>response</Source><XMLPayload><Namespaces><Namespace prefix="soap">urn:soap</Namespace></Namespaces>
				<Variable name="app" type="string"><XPath>/soap:Envelope/soap:Body/App/Name</XPath></Variable>
				<Variable name="id" type="long"><XPath>/soap:Envelope/soap:Body/App/@id</XPath></Variable>
				<Variable name="keys" type="nodeset"><XPath>//Key</XPath></Variable>
				<Variable name="n" type="integer"><XPath>count(//Key)</XPath></Variable>
				<Variable name="none"><XPath>//Nope</XPath></Variable>
				</XMLPayload></ExtractVariables>`,
			seg: engine.ProxyResponse, response: xmlResponse("text/xml", xmlBody),
			vars: map[string]string{"app": "Shop", "id": "7", "keys": "<Key>k1</Key><Key>k2</Key>", "n": "2", "none": unset},
		},
		{
			name:   "xml stopPayloadProcessing",
			policy: `<ExtractVariables name="EV"><XMLPayload stopPayloadProcessing="true"><Variable name="a"><XPath>//Name</XPath></Variable><Variable name="b"><XPath>//Count</XPath></Variable></XMLPayload></ExtractVariables>`,
			method: "POST", body: xmlBody, headers: []string{"Content-Type", "application/soap+xml"},
			vars: map[string]string{"a": "Shop", "b": unset},
		},
		{
			name:   "billion laughs is refused, not expanded",
			policy: `<ExtractVariables name="EV"><XMLPayload><Variable name="a"><XPath>/lolz</XPath></Variable></XMLPayload></ExtractVariables>`,
			method: "POST", headers: []string{"Content-Type", "application/xml"},
			body:  `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`,
			fault: "steps.extractvariables.ExecutionFailed",
		},
		{
			name:   "clearPayload",
			policy: `<ExtractVariables name="EV"><Source clearPayload="true">request</Source><JSONPayload><Variable name="n"><JSONPath>$.user.name</JSONPath></Variable></JSONPayload></ExtractVariables>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "application/json"},
			vars: map[string]string{"n": "Ann", "request.content": ""},
		},
		{
			name:    "set variable failed on a read-only name",
			policy:  `<ExtractVariables name="EV"><VariablePrefix>proxy</VariablePrefix><Header name="h"><Pattern>{pathsuffix}</Pattern></Header></ExtractVariables>`,
			headers: []string{"h", "x"},
			fault:   "steps.extractvariables.SetVariableFailed",
		},
		{
			name:   "templated JSONPath and header values",
			policy: `<ExtractVariables name="EV"><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables><JSONPayload><Variable name="v"><JSONPath>$.user.{flow.field}</JSONPath></Variable></JSONPayload><Header name="x-h.values"><Pattern>{all}</Pattern></Header><Header name="x-h.2"><Pattern>{second}</Pattern></Header></ExtractVariables>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "application/json", "x-h", "a", "x-h", "b"},
			setup: func(r *engine.Run) { _ = r.Set("flow.field", "name") },
			vars:  map[string]string{"v": "Ann", "all": "[a, b]", "second": "b"},
		},
		{
			name:   "templated JSONPath that does not parse",
			policy: `<ExtractVariables name="EV"><JSONPayload><Variable name="v"><JSONPath>{flow.p}</JSONPath></Variable></JSONPayload></ExtractVariables>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "application/json"},
			setup: func(r *engine.Run) { _ = r.Set("flow.p", "user[") },
			fault: "steps.extractvariables.InvalidJSONPath", faultMsg: "Invalid JSON path user[ in policy EV.",
		},
		{name: "nothing to extract", policy: `<ExtractVariables name="EV"><Source>request</Source></ExtractVariables>`, loadErr: "nothing to extract"},
		{name: "pattern without a variable", policy: `<ExtractVariables name="EV"><Header name="h"><Pattern>Bearer</Pattern></Header></ExtractVariables>`, loadErr: "no {variable}"},
		{name: "undeclared XPath prefix", policy: `<ExtractVariables name="EV"><XMLPayload><Variable name="n"><XPath>/p:a</XPath></Variable></XMLPayload></ExtractVariables>`, loadErr: "AP401"},
		{name: "duplicate namespace prefix", policy: `<ExtractVariables name="EV"><XMLPayload><Namespaces><Namespace prefix="p">u1</Namespace><Namespace prefix="p">u2</Namespace></Namespaces><Variable name="n"><XPath>/p:a</XPath></Variable></XMLPayload></ExtractVariables>`, loadErr: "twice"},
		{
			name:   "empty payload elements extract nothing",
			policy: `<ExtractVariables name="EV"><FaultRules/><JSONPayload/><XMLPayload/><QueryParam name="q"><Pattern>{q}</Pattern></QueryParam></ExtractVariables>`,
			method: "POST", path: "/?q=1", body: "{", headers: []string{"Content-Type", "application/json"},
			vars: map[string]string{"q": "1"},
		},
		{name: "bad JSONPath is a load error", policy: `<ExtractVariables name="EV"><JSONPayload><Variable name="n"><JSONPath>user.name</JSONPath></Variable></JSONPayload></ExtractVariables>`, loadErr: "AP401"},
		{name: "bad XPath is a load error", policy: `<ExtractVariables name="EV"><XMLPayload><Variable name="n"><XPath>//[</XPath></Variable></XMLPayload></ExtractVariables>`, loadErr: "AP401"},
		{name: "unknown element", policy: `<ExtractVariables name="EV"><Bogus/></ExtractVariables>`, loadErr: "AP103"},
		{name: "adjacent captures", policy: `<ExtractVariables name="EV"><Header name="h"><Pattern>{a}{b}</Pattern></Header></ExtractVariables>`, loadErr: "AP401"},
		{name: "pattern needed", policy: `<ExtractVariables name="EV"><Header name="h"/></ExtractVariables>`, loadErr: "AP104"},
		{name: "bad type", policy: `<ExtractVariables name="EV"><JSONPayload><Variable name="n" type="date"><JSONPath>$.a</JSONPath></Variable></JSONPayload></ExtractVariables>`, loadErr: "AP401"},
	})
}
