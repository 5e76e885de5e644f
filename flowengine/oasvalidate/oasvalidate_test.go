package oasvalidate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

func TestNeedsRequestBody(t *testing.T) {
	d, v := compileDir(t, "testdata/v2")
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/users", true},       // body parameter
		{"POST", "/api/form", true},        // formData
		{"GET", "/api/hello/de", false},    // parameters only
		{"GET", "/api/off", false},         // validation off
		{"DELETE", "/api/slim", false},     // slimline
		{"GET", "/api/files/x/y/z", false}, // wildcard
	} {
		m := d.Match(c.method, c.path)
		if got := v.NeedsRequestBody(m.Path, m.Op); got != c.want {
			t.Errorf("%s %s: got %v, want %v", c.method, c.path, got, c.want)
		}
		if op := v.Lookup(m.Path, m.Op); op == nil || op.NeedsRequestBody() != c.want {
			t.Errorf("%s %s: Lookup gives %v", c.method, c.path, op)
		}
	}
	if v.NeedsRequestBody(nil, nil) {
		t.Error("unknown path needs a body")
	}
}

// TestFailClosed checks requests that cannot be validated.
func TestFailClosed(t *testing.T) {
	d, v := compileDir(t, "testdata/v2")
	in := req(t, d, "POST /api/users", nil, "application/json", `{"userName":"ann"}`)
	in.BodyRead = false
	r := v.ValidateRequest(bg, in)
	want := "true 400 3204 Input Validation Failed | The request could not be validated: the request body was not read."
	if got := describe(r); got != want || !r.Failed() {
		t.Errorf("body not read:\n got %s\nwant %s", got, want)
	}

	other := &apidef.Path{Pattern: "/elsewhere"}
	r = v.ValidateRequest(bg, RequestInput{Path: other, Method: "GET", RawPath: "/api/elsewhere"})
	want = "true 400 3204 Input Validation Failed | The request could not be validated: path /elsewhere was not compiled for validation."
	if got := describe(r); got != want {
		t.Errorf("unknown path:\n got %s\nwant %s", got, want)
	}
	r = v.ValidateResponse(bg, ResponseInput{Request: RequestInput{Path: other}, Status: 200})
	want = "true 500 3210 Client response validation failed | The response could not be validated: path /elsewhere was not compiled for validation."
	if got := describe(r); got != want {
		t.Errorf("unknown path response:\n got %s\nwant %s", got, want)
	}

	// Outside BasePath or NotFound: nothing to validate (routing answers).
	if r := v.ValidateRequest(bg, RequestInput{Method: "GET", RawPath: "/x"}); r.Mode != Off || r.Error != nil {
		t.Errorf("no path: %s", describe(r))
	}
	if r := v.ValidateResponse(bg, ResponseInput{Status: 200}); r.Mode != Off || r.Error != nil {
		t.Errorf("no path response: %s", describe(r))
	}
}

func TestResultFailed(t *testing.T) {
	e := &Error{Status: 400}
	for _, c := range []struct {
		r    Result
		want bool
	}{
		{Result{Mode: On, Error: e}, true},
		{Result{Mode: ReportOnly, Error: e}, false},
		{Result{Mode: On}, false},
		{Result{}, false},
	} {
		if got := c.r.Failed(); got != c.want {
			t.Errorf("%+v: got %v", c.r, got)
		}
	}
	if Mode(9).String() != "Mode(9)" {
		t.Error(Mode(9).String())
	}
}

// TestUnsupportedBody checks that a body whose media type cannot be decoded
// fails closed instead of passing unchecked.
func TestUnsupportedBody(t *testing.T) {
	const doc = "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\nx-flat-validate: true\npaths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/xml:\n            schema: {type: object}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/xml:\n              schema: {type: object}\n"
	d, v := compileDir(t, writeApp(t, "openapi.yaml", doc))
	in := req(t, d, "POST /x", nil, "application/xml", "<a/>")
	want := "true 400 3204 Input Validation Failed | Unsupported content type in body: its schema cannot be checked."
	if got := describe(v.ValidateRequest(bg, in)); got != want {
		t.Errorf("request:\n got %s\nwant %s", got, want)
	}
	r := v.ValidateResponse(bg, ResponseInput{Request: in, Status: 200, ContentType: "application/xml", Body: []byte("<a/>")})
	want = "true 500 3210 Client response validation failed | Unsupported content type in body: its schema cannot be checked."
	if got := describe(r); got != want {
		t.Errorf("response:\n got %s\nwant %s", got, want)
	}
}
