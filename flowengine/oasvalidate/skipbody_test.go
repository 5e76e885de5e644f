package oasvalidate

import (
	"context"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

// skipSpec has an operation with a required JSON body and a typed query
// parameter, and a JSON response.
const skipSpec = `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    post:
      parameters: [{name: n, in: query, schema: {type: integer}}]
      requestBody:
        required: true
        content: {application/json: {schema: {type: object, required: [x]}}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {type: object, required: [y]}}}
`

func TestSkipBody(t *testing.T) {
	d, errs := apidef.Parse("skip.yaml", []byte(skipSpec))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	v, errs := CompileUpstream(d)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	cases := []struct {
		name     string
		query    string
		body     string
		bodyRead bool
		skip     bool
		want     string // "" = valid, else a substring of the info
	}{
		{name: "body checked", body: `{}`, bodyRead: true, want: "x"},
		{name: "body skipped", body: `{}`, bodyRead: true, skip: true},
		{name: "body skipped, not read", skip: true},
		{name: "body not read fails closed", want: "body was not read"},
		{name: "parameters still checked when skipped", query: "n=abc", skip: true, want: "n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := d.Match("POST", "/a")
			in := RequestInput{Path: m.Path, Op: m.Op, Method: "POST", RawPath: "/a", Query: c.query, ContentType: "application/json",
				Headers: []Header{{Name: "content-type", Value: "application/json"}}, Body: []byte(c.body), BodyRead: c.bodyRead, SkipBody: c.skip}
			res := v.ValidateRequest(context.Background(), in)
			got := describe(res)
			if c.want == "" && res.Error != nil || c.want != "" && (res.Error == nil || !strings.Contains(got, c.want)) {
				t.Errorf("got %s, want %q", got, c.want)
			}
		})
	}
	m := d.Match("POST", "/a")
	reqIn := RequestInput{Path: m.Path, Op: m.Op, Method: "POST", RawPath: "/a"}
	resp := ResponseInput{Request: reqIn, Status: 200, ContentType: "application/json",
		Headers: []Header{{Name: "content-type", Value: "application/json"}}, Body: []byte(`{}`)}
	if res := v.ValidateResponse(context.Background(), resp); res.Error == nil {
		t.Errorf("response body {} passed, want the missing y reported")
	}
	resp.SkipBody = true
	if res := v.ValidateResponse(context.Background(), resp); res.Error != nil {
		t.Errorf("SkipBody response: %s", describe(res))
	}
	resp.Status = 404
	if res := v.ValidateResponse(context.Background(), resp); res.Error == nil {
		t.Errorf("SkipBody still checks the status: 404 passed")
	}
}
