package oasvalidate

import (
	"strings"
	"testing"
)

// requestCase is one client request and the expected describe(Result).
type requestCase struct {
	name, target string
	headers      []string
	ct, body     string
	want         string
}

func runRequestCases(t *testing.T, dir string, cases []requestCase) {
	d, v := compileDir(t, dir)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := req(t, d, c.target, c.headers, c.ct, c.body)
			got := describe(v.ValidateRequest(bg, in))
			if got != c.want {
				t.Errorf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestValidateRequestSwagger2(t *testing.T) {
	hreq := []string{"X-Req: 1"}
	runRequestCases(t, "testdata/v2", []requestCase{
		{"valid parameters", "GET /api/hello/de?limit=3&sort=asc&day=2024-01-31", hreq, "", "", "true"},
		{"path pattern (FLAT tutorial)", "GET /api/hello/..%2fswagger.yaml%23", hreq, "", "", `true 400 3204 Input Validation Failed | Pattern constraint violated in path for language: '../swagger.yaml#' does not match the pattern '^[a-zA-Z0-9]+$'.`},
		{"query integer out of range", "GET /api/hello/de?limit=11", hreq, "", "", `true 400 3204 Input Validation Failed | Maximum constraint violated in query for limit: Must have a maximum value of 10.`},
		{"query below minimum", "GET /api/hello/de?limit=0", hreq, "", "", `true 400 3204 Input Validation Failed | Minimum constraint violated in query for limit: Must have a minimum value of 1.`},
		{"query not an integer", "GET /api/hello/de?limit=ten", hreq, "", "", `true 400 3204 Input Validation Failed | Type constraint violated in query for limit: 'ten' is an invalid integer.`},
		{"csv array item", "GET /api/hello/de?ids=1,x", hreq, "", "", `true 400 3204 Input Validation Failed | Type constraint violated in query for ids[1]: 'x' is an invalid integer.`},
		{"query enum", "GET /api/hello/de?sort=up", hreq, "", "", `true 400 3204 Input Validation Failed | Enum constraint violated in query for sort: Does not have a value in the enumeration ["asc","desc"].`},
		{"query format", "GET /api/hello/de?day=31.01.2024", hreq, "", "", `true 400 3204 Input Validation Failed | Format constraint violated in query for day: Invalid date '31.01.2024'.`},
		{"missing required header", "GET /api/hello/de", nil, "", "", `true 400 3204 Input Validation Failed | Required constraint violated in header for X-Req: The property X-Req is required.`},
		{"several violations", "GET /api/hello/a-b?limit=99&sort=x", nil, "", "", `true 400 3204 Input Validation Failed | Pattern constraint violated in path for language: 'a-b' does not match the pattern '^[a-zA-Z0-9]+$'. | Maximum constraint violated in query for limit: Must have a maximum value of 10. | Enum constraint violated in query for sort: Does not have a value in the enumeration ["asc","desc"]. | Required constraint violated in header for X-Req: The property X-Req is required.`},
		{"bad query escape", "GET /api/hello/de?limit=%zz", hreq, "", "", `true 400 3204 Input Validation Failed | Invalid query string: invalid escape "%zz".`},
		{"valid body", "POST /api/users", nil, "application/json", `{"userName":"ann","age":3,"tags":["ab"]}`, "true"},
		{"required property (FLAT doc)", "POST /api/users", nil, "application/json", `{"friend":{"age":1}}`, `true 400 3204 Input Validation Failed | Required constraint violated in body for friend: The property userName is required. | Required constraint violated in body: The property userName is required.`},
		{"body type", "POST /api/users", nil, "application/json", `"ann"`, `true 400 3204 Input Validation Failed | Type constraint violated in body: String value found, but an object is required.`},
		{"nested violations", "POST /api/users", nil, "application/json", `{"userName":"Ann","age":-1,"tags":["a","bb","cc"]}`, `true 400 3204 Input Validation Failed | Minimum constraint violated in body for age: Must have a minimum value of 0. | MaxItems constraint violated in body for tags: There must be a maximum of 2 items in the array. | MinLength constraint violated in body for tags[0]: Must be at least 2 characters long. | Pattern constraint violated in body for userName: 'Ann' does not match the pattern '^[a-z]+$'.`},
		{"readOnly in request", "POST /api/users", nil, "application/json", `{"userName":"ann","id":"7"}`, `true 400 3204 Input Validation Failed | ReadOnly constraint violated in body: The property id is read-only and must not be sent in a request.`},
		{"missing body", "POST /api/users", nil, "application/json", ``, `true 400 3204 Input Validation Failed | Required constraint violated in body: The request body is required.`},
		{"wrong content type", "POST /api/users", nil, "text/plain", `x`, `true 400 3204 Input Validation Failed | Invalid content type 'text/plain' (allowed: application/json).`},
		{"invalid JSON", "POST /api/users", nil, "application/json", `{"userName":`, `true 400 3204 Input Validation Failed | Syntax error in body: unexpected EOF.`},
		{"formData valid", "POST /api/form", nil, "application/x-www-form-urlencoded", `name=ann&count=2`, "true"},
		{"formData violations", "POST /api/form", nil, "application/x-www-form-urlencoded", `name=annabel&count=x`, `true 400 3204 Input Validation Failed | Type constraint violated in formData for count: 'x' is an invalid integer.`},
		{"formData missing", "POST /api/form", nil, "application/x-www-form-urlencoded", `count=2`, `true 400 3204 Input Validation Failed | Required constraint violated in formData: The property name is required.`},
		{"recursive schema", "POST /api/nodes", nil, "application/json", `{"next":{"next":{"next":{"v":"x"}}}}`, `true 400 3204 Input Validation Failed | Type constraint violated in body for next.next.next.v: String value found, but an integer is required.`},
		{"validation off on the path", "GET /api/off", nil, "", "", "false"},
		{"report-only on the operation", "GET /api/report", nil, "", "", `report-only 400 3204 Input Validation Failed | Required constraint violated in query for q: The property q is required.`},
		{"wildcard path", "GET /api/files/a/b", nil, "", "", "true"},
		{"slimline path, any method", "DELETE /api/slim", nil, "", "", "true"},
	})
}

func TestValidateRequestOpenAPI30(t *testing.T) {
	ck := []string{"Cookie: session=abcd"}
	runRequestCases(t, "testdata/v30", []requestCase{
		{"valid", "PUT /accounts/7?ids=1&ids=2", ck, "application/json", `{"name":"ann","password":"x","kind":"a","tree":{"children":[{"leaf":true}]}}`, "true"},
		{"nullable", "PUT /accounts/7", ck, "application/json", `{"name":null}`, "true"},
		{"path parameter minimum", "PUT /accounts/0", ck, "application/json", `{"name":"a"}`, `true 400 3204 Input Validation Failed | Minimum constraint violated in path for id: Must have a minimum value of 1.`},
		{"missing cookie", "PUT /accounts/7", nil, "application/json", `{"name":"a"}`, `true 400 3204 Input Validation Failed | Required constraint violated in cookie for session: The property session is required.`},
		{"short cookie", "PUT /accounts/7", []string{"Cookie: session=ab"}, "application/json", `{"name":"a"}`, `true 400 3204 Input Validation Failed | MinLength constraint violated in cookie for session: Must be at least 3 characters long.`},
		{"unique items", "PUT /accounts/7?ids=1&ids=1", ck, "application/json", `{"name":"a"}`, `true 400 3204 Input Validation Failed | UniqueItems constraint violated in query for ids: There are no duplicates allowed in the array.`},
		{"additional property", "PUT /accounts/7", ck, "application/json", `{"name":"a","extra":1}`, `true 400 3204 Input Validation Failed | AdditionalProperties constraint violated in body: The property extra is not defined and the definition does not allow additional properties.`},
		{"readOnly", "PUT /accounts/7", ck, "application/json", `{"name":"a","id":3}`, `true 400 3204 Input Validation Failed | ReadOnly constraint violated in body: The property id is read-only and must not be sent in a request.`},
		{"oneOf", "PUT /accounts/7", ck, "application/json", `{"name":"a","kind":7}`, `true 400 3204 Input Validation Failed | OneOf constraint violated in body for kind: Failed to match exactly one schema.`},
		{"maxLength and recursion", "PUT /accounts/7", ck, "application/json", `{"name":"annabel","tree":{"children":[{"children":[{"leaf":"no"}]}]}}`, `true 400 3204 Input Validation Failed | MaxLength constraint violated in body for name: Must be at most 4 characters long. | Type constraint violated in body for tree.children[0].children[0].leaf: String value found, but a boolean is required.`},
	})
}

func TestValidateRequestOpenAPI31(t *testing.T) {
	runRequestCases(t, "testdata/v31", []requestCase{
		{"valid", "POST /items?q=ab", nil, "application/json", `{"name":"A","price":1,"parent":{"name":null,"price":2}}`, "true"},
		{"no body (optional)", "POST /items", nil, "", "", "true"},
		{"query maxLength", "POST /items?q=abcd", nil, "", "", `true 400 3204 Input Validation Failed | MaxLength constraint violated in query for q: Must be at most 3 characters long.`},
		{"2020-12 keywords", "POST /items", nil, "application/json", `{"name":"a","price":0}`, `true 400 3204 Input Validation Failed | Pattern constraint violated in body for name: 'a' does not match the pattern '^[A-Z]'. | Minimum constraint violated in body for price: Must have a minimum value greater than 0.`},
		{"required", "POST /items", nil, "application/json", `{"parent":{"name":"A"}}`, `true 400 3204 Input Validation Failed | Required constraint violated in body: The property name is required. | Required constraint violated in body for parent: The property price is required. | Required constraint violated in body: The property price is required.`},
		{"2020-12 validator: valid", "POST /tuples", nil, "application/json", `{"kind":"tuple","pair":["a",2],"label":null}`, "true"},
		{"2020-12 validator: const and prefixItems", "POST /tuples", nil, "application/json", `{"kind":"triple","pair":[1,0]}`, `true 400 3204 Input Validation Failed | Const constraint violated in body for kind: Does not have a value equal to "tuple". | Type constraint violated in body for pair[0]: Integer value found, but a string is required. | Minimum constraint violated in body for pair[1]: Must have a minimum value of 1.`},
		{"2020-12 validator: required and additional", "POST /tuples", nil, "application/json", `{"label":"long","x":1}`, `true 400 3204 Input Validation Failed | AdditionalProperties constraint violated in body: The property x is not defined and the definition does not allow additional properties. | Required constraint violated in body: The property kind is required. | MaxLength constraint violated in body for label: Must be at most 3 characters long.`},
		{"type list", "POST /items", nil, "application/json", `{"name":5,"price":"1"}`, `true 400 3204 Input Validation Failed | Type constraint violated in body for name: Integer value found, but a string or a null is required. | Type constraint violated in body for price: String value found, but a number is required.`},
	})
}

// TestDeepRecursion validates a value nested far deeper than any unwrapping
// bound through a recursive schema: the violation at the bottom is found
// and reported, for both schema dialects.
func TestDeepRecursion(t *testing.T) {
	for _, c := range []struct{ dir, target, open, leaf, close, want string }{
		{"testdata/v31", "POST /items", `{"name":"A","price":1,"parent":`, `{"name":"A","price":-1}`, `}`, "Minimum constraint violated in body for "},
		{"testdata/v2", "POST /api/nodes", `{"next":`, `{"v":"x"}`, `}`, "Type constraint violated in body for "},
	} {
		d, v := compileDir(t, c.dir)
		body := strings.Repeat(c.open, 300) + c.leaf + strings.Repeat(c.close, 300)
		r := v.ValidateRequest(bg, req(t, d, c.target, nil, "application/json", body))
		if r.Error == nil || len(r.Error.Info) != 1 || !strings.HasPrefix(r.Error.Info[0], c.want) {
			t.Errorf("%s: %s", c.dir, describe(r))
		}
	}
}
