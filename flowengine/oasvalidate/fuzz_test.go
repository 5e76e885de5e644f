package oasvalidate

import (
	"encoding/json"
	"testing"
)

// FuzzParseSetting feeds arbitrary JSON values to the x-flat-validate
// parser: it must return a setting or an error, never panic, and accept
// only values whose switches are valid.
func FuzzParseSetting(f *testing.F) {
	for _, s := range []string{`true`, `false`, `"report-only"`, `{"request":true}`, `{"request":"x"}`, `{"response":null}`, `[1]`, `3`, `{"a":{"b":1}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var v any
		if json.Unmarshal([]byte(src), &v) != nil {
			return
		}
		s, err := parseSetting(v)
		if err != nil {
			return
		}
		for _, m := range []Mode{s.req, s.resp} {
			if m != Off && m != On && m != ReportOnly {
				t.Fatalf("%s: mode %d", src, m)
			}
		}
		if _, isMap := v.(map[string]any); !isMap && (!s.hasReq || !s.hasResp) {
			t.Fatalf("%s: a scalar must set both directions", src)
		}
	})
}

// FuzzValidateRequest sends arbitrary queries, headers and bodies through
// the request and response validators: they must never panic, and a
// failure always carries at least one info string.
func FuzzValidateRequest(f *testing.F) {
	d, v := compileDir(f, "testdata/v30")
	f.Add("ids=1&ids=2", "session=abc", "application/json", `{"name":"a","tree":{"children":[{"leaf":true}]}}`, 200)
	f.Add("ids=%zz", "", "text/plain", `x`, 404)
	f.Add("", "session=", "application/json", `{"name":[1,{"a":null}],"kind":1e400}`, 200)
	f.Add("ids=a,b", "a=b; session=abc", "application/json; charset=latin1", `{"tree":{"children":[{"children":[{"children":[]}]}]}}`, 409)
	f.Fuzz(func(t *testing.T, query, cookie, ct, body string, status int) {
		m := d.Match("PUT", "/accounts/5")
		in := RequestInput{Path: m.Path, Op: m.Op, Params: m.Params, Method: "PUT", RawPath: "/accounts/5", Query: query,
			Headers: []Header{{"cookie", cookie}, {"content-type", ct}}, ContentType: ct, Body: []byte(body), BodyRead: true}
		check := func(r Result) {
			if r.Error != nil && len(r.Error.Info) == 0 {
				t.Fatalf("error without info: %+v", r.Error)
			}
		}
		check(v.ValidateRequest(bg, in))
		check(v.ValidateResponse(bg, ResponseInput{Request: in, Status: status, ContentType: ct, Headers: []Header{{"x-rate", cookie}}, Body: []byte(body)}))
	})
}
