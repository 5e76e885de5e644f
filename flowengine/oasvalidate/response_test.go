package oasvalidate

import (
	"strings"
	"testing"
)

// responseCase is one response to a request and the expected describe(Result).
type responseCase struct {
	name, target string
	status       int
	headers      []string
	ct, body     string
	want         string
}

func runResponseCases(t *testing.T, dir string, reqHeaders []string, cases []responseCase) {
	d, v := compileDir(t, dir)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ResponseInput{Request: req(t, d, c.target, reqHeaders, "", ""), Status: c.status, ContentType: c.ct, Body: []byte(c.body)}
			for _, h := range c.headers {
				n, val, _ := strings.Cut(h, ":")
				in.Headers = append(in.Headers, Header{Name: strings.ToLower(strings.TrimSpace(n)), Value: strings.TrimSpace(val)})
			}
			got := describe(v.ValidateResponse(bg, in))
			if got != c.want {
				t.Errorf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestValidateResponseSwagger2(t *testing.T) {
	runResponseCases(t, "testdata/v2", []string{"X-Req: 1"}, []responseCase{
		{"valid", "GET /api/hello/de", 200, nil, "application/json", `{"url":"https://raw.githubusercontent.com/x"}`, "true"},
		{"pattern (FLAT tutorial)", "GET /api/hello/de", 200, nil, "application/json", `{"url":"https://flaw.githubusercontent.com/x"}`, `true 500 3210 Client response validation failed | Pattern constraint violated in body for url: 'https://flaw.githubusercontent.com/x' does not match the pattern '^https://raw.githubusercontent.com/'.`},
		{"undefined status", "GET /api/hello/de", 404, nil, "application/json", `{}`, `true 500 3210 Client response validation failed | No definition for status code 404 and no 'default'.`},
		{"body type", "GET /api/hello/de", 200, nil, "application/json", `"x"`, `true 500 3210 Client response validation failed | Type constraint violated in body: String value found, but an object is required.`},
		{"invalid JSON", "GET /api/hello/de", 200, nil, "application/json", `{`, `true 500 3210 Client response validation failed | Syntax error in body: unexpected EOF.`},
		{"wrong content type", "GET /api/hello/de", 200, nil, "text/html", `<p>`, `true 500 3210 Client response validation failed | Invalid content type 'text/html' (allowed: application/json).`},
		{"readOnly allowed in responses", "POST /api/users", 201, nil, "application/json", `{"userName":"ann","id":"7"}`, "true"},
		{"no content", "POST /api/form", 204, nil, "", "", "true"},
		{"default response", "POST /api/nodes", 500, nil, "text/plain", "oops", "true"},
		{"slimline path has no responses", "GET /api/slim", 200, nil, "", "", `true 500 3210 Client response validation failed | No definition for status code 200 and no 'default'.`},
		{"response validation off", "GET /api/off?q=1", 418, nil, "", "", "false"},
		{"HEAD uses GET, no body", "HEAD /api/hello/de", 200, nil, "application/json", ``, "true"},
	})
}

func TestValidateResponseOpenAPI30(t *testing.T) {
	runResponseCases(t, "testdata/v30", []string{"Cookie: session=abc"}, []responseCase{
		{"valid", "PUT /accounts/1", 200, []string{"X-Rate: 5"}, "application/json", `{"name":"a","id":1}`, "true"},
		{"writeOnly in response", "PUT /accounts/1", 200, []string{"X-Rate: 5"}, "application/json", `{"name":"a","password":"p"}`, `true 500 3210 Client response validation failed | WriteOnly constraint violated in body: The property password is write-only and must not be sent in a response.`},
		{"missing response header", "PUT /accounts/1", 200, nil, "application/json", `{"name":"a"}`, `true 500 3210 Client response validation failed | Required constraint violated in header for x-rate: The property x-rate is required.`},
		{"bad response header", "PUT /accounts/1", 200, []string{"X-Rate: many"}, "application/json", `{"name":"a"}`, `true 500 3210 Client response validation failed | Type constraint violated in header for x-rate: 'many' is an invalid integer.`},
		{"status range", "PUT /accounts/1", 404, nil, "application/json", `{"error":"gone"}`, "true"},
		{"status range body", "PUT /accounts/1", 409, nil, "application/json", `{"error":{"x":1}}`, `true 500 3210 Client response validation failed | Type constraint violated in body for error: Object value found, but a string is required.`},
		{"undefined status", "PUT /accounts/1", 500, nil, "application/json", `{}`, `true 500 3210 Client response validation failed | No definition for status code 500 and no 'default'.`},
		{"charset parameter", "PUT /accounts/1", 200, []string{"X-Rate: 5"}, "application/json; charset=utf-8", `{"name":"a"}`, "true"},
	})
}

func TestValidateResponseOpenAPI31(t *testing.T) {
	runResponseCases(t, "testdata/v31", nil, []responseCase{
		{"valid", "POST /items", 201, nil, "application/json", `{"name":"A","price":1.5}`, "report-only"},
		{"report-only", "POST /items", 201, nil, "application/json", `{"name":"A","price":-1}`, `report-only 500 3210 Client response validation failed | Minimum constraint violated in body for price: Must have a minimum value greater than 0.`},
	})
}
