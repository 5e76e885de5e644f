package flat

import (
	"bytes"
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// TestRequestDocSizedOnce checks that $request's tree is built in one go:
// the builder's size hints cover a typical request (nine headers with a
// host to add, a query, cookies, a path parameter), so the node slice and the text are allocated once and
// never grow. Allocations are counted, not timed: the url concatenation,
// the nodes, the text, the Tree and the Doc.
func TestRequestDocSizedOnce(t *testing.T) {
	req := &flowengine.Request{
		Method: "GET", Scheme: "https", Authority: "api.example.com:8443",
		Path: "/api/upstream/items/42?page=2&size=10&sort=name",
		ID:   "0f8fad5b-d9cb-469f-a165-70867728950e",
		Headers: []flowengine.Header{
			{Name: "user-agent", Value: "Mozilla/5.0 (X11; Linux x86_64) flowproc-bench/1.0"},
			{Name: "accept", Value: "application/json, text/plain, */*"},
			{Name: "accept-encoding", Value: "gzip, deflate, br"},
			{Name: "accept-language", Value: "en-US,en;q=0.9"},
			{Name: "authorization", Value: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig"},
			{Name: "x-forwarded-for", Value: "203.0.113.7"},
			{Name: "x-forwarded-proto", Value: "https"},
			{Name: "x-envoy-expected-rq-timeout-ms", Value: "15000"},
			{Name: "cookie", Value: "session=abc; theme=dark"},
		},
	}
	p := &Project{}
	params := []paramKV{{"id", "42"}}
	allocs := testing.AllocsPerRun(100, func() {
		r := &run{p: p}
		r.x.Req = req
		r.x.ID = req.ID
		r.reqPath, r.reqQuery = "/api/upstream/items/42", "page=2&size=10&sort=name"
		r.params = params
		r.endpoint = "/api/upstream/items/42"
		r.requestDoc()
	})
	// The run, the url, the nodes, the text, the Tree and the Doc: one
	// more means the node slice or the text grew.
	if allocs > 6 {
		t.Errorf("building $request took %.0f allocations, want at most 6 (a slice grew: raise the size hints)", allocs)
	}

	r := &run{p: p}
	r.x.Start(context.Background(), req, nil)
	r.reqPath, r.reqQuery = "/api/upstream/items/42", "page=2&size=10&sort=name"
	var b bytes.Buffer
	if err := r.requestDoc().Tree().WriteJSON(&b, 0); err != nil {
		t.Fatal(err)
	}
	want := `{"method":"GET","purpose":"main","debug":null,"host":"api.example.com","port":8443,"id":"0f8fad5b-d9cb-469f-a165-70867728950e",` +
		`"url":"https://api.example.com:8443/api/upstream/items/42?page=2&size=10&sort=name","path":"/api/upstream/items/42","query":"page=2&size=10&sort=name",` +
		`"headers":{"host":"api.example.com:8443","user-agent":"Mozilla/5.0 (X11; Linux x86_64) flowproc-bench/1.0","accept":"application/json, text/plain, */*",` +
		`"accept-encoding":"gzip, deflate, br","accept-language":"en-US,en;q=0.9","authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig",` +
		`"x-forwarded-for":"203.0.113.7","x-forwarded-proto":"https","x-envoy-expected-rq-timeout-ms":"15000","cookie":"session=abc; theme=dark"},` +
		`"get":{"page":"2","size":"10","sort":"name"},"post":{},"cookies":{"session":"abc","theme":"dark"},"params":{},"endpoint":""}`
	if b.String() != want {
		t.Errorf("$request\n got %s\nwant %s", b.String(), want)
	}
}
