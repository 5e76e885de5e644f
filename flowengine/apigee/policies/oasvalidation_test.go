package policies

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// oasSpec is the OpenAPI 3 specification of the OASValidation tests. Its
// server path (/v1) is ignored: proxy.pathsuffix is matched against paths.
const oasSpec = `openapi: 3.0.3
info: {title: pets, version: "1"}
servers:
  - url: https://api.example.com/v1
paths:
  /pets:
    get:
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, maximum: 100}}
        - {name: x-trace, in: header, schema: {type: string}}
        - {name: session, in: cookie, schema: {type: string}}
      responses:
        "200":
          description: ok
          headers:
            x-rate: {required: true, schema: {type: integer}}
          content:
            application/json:
              schema:
                type: array
                items: {type: object, required: [name], properties: {name: {type: string}}}
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}, age: {type: integer}}}
      responses:
        "201": {description: created}
  /pets/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200": {description: ok}
`

var oasResources = map[string]string{"resources/oas/pets.yaml": oasSpec}

// oasPolicy is an OASValidation policy named OAS with inner XML.
func oasPolicy(inner string) string {
	return `<OASValidation name="OAS">` + inner + `</OASValidation>`
}

// oasBody is a policy that validates the message body too.
func oasBody(extra string) string {
	return oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Options><ValidateMessageBody>true</ValidateMessageBody></Options>` + extra)
}

// oasFault is the faultstring of a Failed fault with one reason.
func oasFault(msg string) string {
	return `OASValidation OAS with resource "oas://pets.yaml": failed with reason: "[ERROR - ` + msg + `: []]"`
}

// oasResponse is a response with status, Content-Type, body and extra
// header pairs.
func oasResponse(status int, ct, body string, headers ...string) *engine.Message {
	m := engine.NewResponse()
	m.SetStatus(status)
	if ct != "" {
		m.SetHeader("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		m.AddHeader(headers[i], headers[i+1])
	}
	m.SetContent([]byte(body))
	return m
}

func TestOASValidation(t *testing.T) {
	plain := oasPolicy(`<OASResource>oas://pets.yaml</OASResource>`)
	ctJSON := []string{"Content-Type", "application/json"}
	failed := "steps.oasvalidation.Failed"
	runCases(t, []pcase{
		{name: "valid GET", policy: plain, resources: oasResources, path: "/base/pets?limit=5", suffix: "/pets"},
		{name: "path parameter matches the template", policy: plain, resources: oasResources, path: "/base/pets/7", suffix: "/pets/7"},
		{
			name: "missing required query parameter", policy: plain, resources: oasResources,
			path: "/base/pets", suffix: "/pets", fault: failed,
			check: oasStatus(plain, 400, "limit"),
		},
		{
			name: "query parameter of the wrong type", policy: plain, resources: oasResources,
			path: "/base/pets?limit=abc", suffix: "/pets", fault: failed, check: oasStatus(plain, 400, "limit"),
		},
		{
			name: "query parameter above maximum", policy: plain, resources: oasResources,
			path: "/base/pets?limit=500", suffix: "/pets", fault: failed, check: oasStatus(plain, 400, "limit"),
		},
		{
			name: "path parameter of the wrong type", policy: plain, resources: oasResources,
			path: "/base/pets/x", suffix: "/pets/x", fault: failed, check: oasStatus(plain, 400, "id"),
		},
		{
			name: "unknown path", policy: plain, resources: oasResources, path: "/base/cats", suffix: "/cats",
			fault: failed, faultMsg: oasFault("No API path found that matches request '/cats'."),
		},
		{
			name: "spec base path is not part of the match", policy: plain, resources: oasResources,
			path: "/base/v1/pets?limit=1", suffix: "/v1/pets",
			fault: failed, faultMsg: oasFault("No API path found that matches request '/v1/pets'."),
		},
		{
			name: "verb not defined on the path", policy: plain, resources: oasResources, method: "DELETE",
			path: "/base/pets/1", suffix: "/pets/1",
			fault: failed, faultMsg: oasFault("DELETE operation not allowed on path '/pets/1'."),
		},
		{
			name: "body is not checked without ValidateMessageBody", policy: plain, resources: oasResources,
			method: "POST", path: "/base/pets", suffix: "/pets", body: `{"age":"x"}`, headers: ctJSON,
		},
		{
			name: "valid JSON body", policy: oasBody(""), resources: oasResources,
			method: "POST", path: "/base/pets", suffix: "/pets", body: `{"name":"rex","age":3}`, headers: ctJSON,
		},
		{
			name: "body violates the schema", policy: oasBody(""), resources: oasResources,
			method: "POST", path: "/base/pets", suffix: "/pets", body: `{"age":"x"}`, headers: ctJSON,
			fault: failed, check: oasStatus(oasBody(""), 400, "name"),
		},
		{
			name: "body that is not JSON content passes unchecked", policy: oasBody(""), resources: oasResources,
			method: "POST", path: "/base/pets", suffix: "/pets", body: `age=x`,
			headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
		},
		{
			name: "unspecified query parameter allowed by default", policy: plain, resources: oasResources,
			path: "/base/pets?limit=1&extra=2", suffix: "/pets",
		},
		{
			name: "unspecified query parameter rejected", resources: oasResources,
			policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Options><AllowUnspecifiedParameters><Query>false</Query></AllowUnspecifiedParameters></Options>`),
			path:   "/base/pets?limit=1&extra=2", suffix: "/pets",
			fault: failed, faultMsg: oasFault("Query parameter 'extra' is unexpected on path '/pets'."),
		},
		{
			name: "unspecified header rejected, declared and standard headers pass", resources: oasResources,
			policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Options><AllowUnspecifiedParameters><Header>false</Header></AllowUnspecifiedParameters></Options>`),
			path:   "/base/pets?limit=1", suffix: "/pets", headers: []string{"X-Trace", "a", "Accept", "*/*", "X-Other", "b"},
			fault: failed, faultMsg: oasFault("Header parameter 'X-Other' is unexpected on path '/pets'."),
		},
		{
			name: "unspecified cookie rejected", resources: oasResources,
			policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Options><AllowUnspecifiedParameters><Cookie>false</Cookie></AllowUnspecifiedParameters></Options>`),
			path:   "/base/pets?limit=1", suffix: "/pets", headers: []string{"Cookie", "session=1; tracker=2"},
			fault: failed, faultMsg: oasFault("Cookie parameter 'tracker' is unexpected on path '/pets'."),
		},
		{
			name: "valid response", policy: oasBody(`<Source>response</Source>`), resources: oasResources,
			seg: engine.ProxyResponse, path: "/base/pets?limit=1", suffix: "/pets",
			response: oasResponse(200, "application/json", `[{"name":"rex"}]`, "x-rate", "10"),
		},
		{
			name: "response body violates the schema", policy: oasBody(`<Source>response</Source>`), resources: oasResources,
			seg: engine.ProxyResponse, path: "/base/pets?limit=1", suffix: "/pets",
			response: oasResponse(200, "application/json", `[{"name":1}]`, "x-rate", "10"),
			fault:    failed, check: oasStatus(oasBody(`<Source>response</Source>`), 500, "name"),
		},
		{
			name: "response status not defined", policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource>`), resources: oasResources,
			seg: engine.ProxyResponse, path: "/base/pets?limit=1", suffix: "/pets",
			response: oasResponse(404, "", ""), fault: failed, check: oasStatus(oasPolicy(`<OASResource>oas://pets.yaml</OASResource>`), 500, "404"),
		},
		{
			name: "message in the response flow is the response", policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource>`), resources: oasResources,
			seg: engine.ProxyResponse, path: "/base/pets?limit=1", suffix: "/pets",
			response: oasResponse(200, "application/json", `{}`), fault: failed, check: oasStatus(oasPolicy(`<OASResource>oas://pets.yaml</OASResource>`), 500, "x-rate"),
		},
		{
			name: "response source not available in the request flow", policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Source>response</Source>`), resources: oasResources,
			path: "/base/pets?limit=1", suffix: "/pets", fault: "steps.oasvalidation.SourceMessageNotAvailable",
			faultMsg: "response message is not available for OASValidation policy OAS",
		},
		{
			name: "source variable that is not a message", policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Source>myvar</Source>`), resources: oasResources,
			path: "/base/pets?limit=1", suffix: "/pets", setup: func(r *engine.Run) { _ = r.Set("myvar", "text") },
			fault: "steps.oasvalidation.NotMessageVariable", faultMsg: "Variable myvar does not resolve to a Message",
		},
		{
			name: "a built request message is matched by its own path", policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Source>myreq</Source>`), resources: oasResources,
			path: "/base/pets?limit=1", suffix: "/pets", setup: func(r *engine.Run) {
				m := engine.NewRequest()
				m.SetPath("/pets/x")
				r.SetMessage("myreq", m)
			},
			fault: failed, faultMsg: oasFault("Type constraint violated in path for id: 'x' is an invalid integer."),
		},
		{name: "missing OASResource element", policy: oasPolicy(``), loadErr: "AP104"},
		{name: "missing resource file", policy: oasPolicy(`<OASResource>oas://nope.yaml</OASResource>`), resources: oasResources, loadErr: "AP204"},
		{name: "dynamic resource", policy: oasPolicy(`<OASResource>oas://{spec}.yaml</OASResource>`), resources: oasResources, loadErr: "variable is not supported"},
		{name: "wrong resource type", policy: oasPolicy(`<OASResource>jsc://pets.yaml</OASResource>`), resources: oasResources, loadErr: "AP401"},
		{name: "wrong extension", policy: oasPolicy(`<OASResource>oas://pets.txt</OASResource>`), resources: map[string]string{"resources/oas/pets.txt": oasSpec}, loadErr: ".json, .yaml or .yml"},
		{
			name: "spec that does not parse", policy: oasPolicy(`<OASResource>oas://bad.yaml</OASResource>`),
			resources: map[string]string{"resources/oas/bad.yaml": "openapi: 3.0.0\npaths: [\n"}, loadErr: "does not load",
		},
		{
			name: "invalid spec", policy: oasPolicy(`<OASResource>oas://bad.yaml</OASResource>`),
			resources: map[string]string{"resources/oas/bad.yaml": "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: nonsense}}}}}\n"},
			loadErr:   `unsupported 'type' value "nonsense"`,
		},
		{
			name: "external reference refused", policy: oasPolicy(`<OASResource>oas://ext.yaml</OASResource>`),
			resources: map[string]string{"resources/oas/ext.yaml": "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {$ref: 'other.yaml#/r'}}\n"},
			loadErr:   "cannot reference other files",
		},
		{
			name: "swagger 2.0 refused", policy: oasPolicy(`<OASResource>oas://s2.yaml</OASResource>`),
			resources: map[string]string{"resources/oas/s2.yaml": "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {description: ok}}\n"},
			loadErr:   "OpenAPI 3",
		},
		{name: "unknown option", policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Options><Strict>true</Strict></Options>`), resources: oasResources, loadErr: "AP103"},
		{name: "bad boolean", policy: oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Options><ValidateMessageBody>yes please</ValidateMessageBody></Options>`), resources: oasResources, loadErr: `"yes please" is not true or false`},
	})
}

// oasStatus checks a Failed fault's status and that its faultstring names
// want: it runs the case's policy src once more on the run (runCases
// checks only the fault code) and inspects Execute's error.
func oasStatus(src string, status int, want string) func(t *testing.T, r *engine.Run) {
	return func(t *testing.T, r *engine.Run) {
		t.Helper()
		pol, errs := engine.TestPolicy(src, oasResources, nil)
		if len(errs) > 0 {
			t.Fatalf("load: %v", errs)
		}
		var f *engine.Fault
		if err := pol.Execute(r); !errors.As(err, &f) {
			t.Fatalf("Execute = %v, want a fault", err)
		}
		if f.Status != status || !strings.Contains(f.Message, want) || !strings.HasPrefix(f.Message, `OASValidation OAS with resource "oas://pets.yaml": failed with reason: "[ERROR - `) {
			t.Errorf("fault %d %q, want status %d naming %q", f.Status, f.Message, status, want)
		}
	}
}

// BenchmarkOASValidation measures one request validation with its body
// (the run's construction included).
func BenchmarkOASValidation(b *testing.B) {
	pol, errs := engine.TestPolicy(oasBody(""), oasResources, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	body := []byte(`{"name":"rex","age":3}`)
	b.ReportAllocs()
	for b.Loop() {
		r := engine.TestRun(context.Background(), engine.ProxyRequest, "POST", "/base/pets", body, nil, "Content-Type", "application/json")
		r.SetTestProxyPath("/base", "/pets")
		if err := pol.Execute(r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOASValidationInABundle runs the policy through the engine: a valid
// request reaches the response flow, an invalid one answers 400 with
// Apigee's fault body after a FaultRule saw oasvalidation.<p>.failed.
func TestOASValidationInABundle(t *testing.T) {
	p := loadBundle(t, nil, map[string]string{
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow">
    <Request><Step><Name>OAS</Name></Step></Request>
    <Response><Step><Name>AM-Answer</Name></Step></Response>
  </PreFlow>
  <FaultRules>
    <FaultRule name="bad">
      <Step><Name>AM-Fault</Name></Step>
      <Condition>oasvalidation.OAS.failed = true</Condition>
    </FaultRule>
  </FaultRules>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
		"policies/OAS.xml":        oasPolicy(`<OASResource>oas://pets.yaml</OASResource><Source>request</Source>`),
		"resources/oas/pets.yaml": oasSpec,
		"policies/AM-Fault.xml":   `<AssignMessage name="AM-Fault"><Set><Headers><Header name="X-Fault">{fault.name}</Header></Headers></Set></AssignMessage>`,
		"policies/AM-Answer.xml":  `<AssignMessage name="AM-Answer"><Remove><Headers/></Remove><Set><Payload contentType="text/plain">ok</Payload></Set></AssignMessage>`,
	})
	run := func(path string) string {
		return answer(p.Run(context.Background(), &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: path, ID: "r1", BodyKnownEmpty: true}, noTargetHost{}))
	}
	if got, want := run("/v1/pets?limit=3"), "|200\ncontent-type: text/plain\n\nok"; got != want {
		t.Errorf("valid:\n got %q\nwant %q", got, want)
	}
	want := "Failed|400\ncontent-type: application/json\nx-fault: Failed\n\n" +
		`{"fault":{"faultstring":"OASValidation OAS with resource \"oas://pets.yaml\": failed with reason: \"[ERROR - No API path found that matches request '/cats'.: []]\"","detail":{"errorcode":"steps.oasvalidation.Failed"}}}`
	if got := run("/v1/cats"); got != want {
		t.Errorf("invalid:\n got %q\nwant %q", got, want)
	}
}
