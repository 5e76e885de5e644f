package oasvalidate

import "testing"

// BenchmarkValidateRequest validates a small JSON body with a path
// parameter, a cookie and a query parameter (OpenAPI 3.0).
func BenchmarkValidateRequest(b *testing.B) {
	d, v := compileDir(b, "testdata/v30")
	in := req(b, d, "PUT /accounts/7?ids=1&ids=2", []string{"Cookie: session=abcd"}, "application/json",
		`{"name":"ann","password":"x","kind":"a","tree":{"children":[{"leaf":true}]}}`)
	if r := v.ValidateRequest(bg, in); r.Error != nil {
		b.Fatal(describe(r))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := v.ValidateRequest(bg, in); r.Error != nil {
			b.Fatal(describe(r))
		}
	}
}

// BenchmarkValidateRequestOff is the cost of a request whose validation is
// off: one map lookup.
func BenchmarkValidateRequestOff(b *testing.B) {
	d, v := compileDir(b, "testdata/v2")
	in := req(b, d, "GET /api/off", nil, "", "")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.ValidateRequest(bg, in)
	}
}

// BenchmarkValidateResponse validates a small JSON response body.
func BenchmarkValidateResponse(b *testing.B) {
	d, v := compileDir(b, "testdata/v30")
	in := ResponseInput{Request: req(b, d, "PUT /accounts/7", nil, "", ""), Status: 200, ContentType: "application/json",
		Headers: []Header{{"x-rate", "5"}}, Body: []byte(`{"name":"ann","id":3,"kind":"a"}`)}
	if r := v.ValidateResponse(bg, in); r.Error != nil {
		b.Fatal(describe(r))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := v.ValidateResponse(bg, in); r.Error != nil {
			b.Fatal(describe(r))
		}
	}
}

// BenchmarkValidateRequest31 validates a small JSON body against an
// OpenAPI 3.1 schema (JSON Schema 2020-12).
func BenchmarkValidateRequest31(b *testing.B) {
	d, v := compileDir(b, "testdata/v31")
	in := req(b, d, "POST /items?q=ab", nil, "application/json", `{"name":"A","price":1,"parent":{"name":null,"price":2}}`)
	if r := v.ValidateRequest(bg, in); r.Error != nil {
		b.Fatal(describe(r))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := v.ValidateRequest(bg, in); r.Error != nil {
			b.Fatal(describe(r))
		}
	}
}
