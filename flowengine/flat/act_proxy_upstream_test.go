package flat

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// TestUpstreamTreeHeaders checks $upstream/main/headers against the
// general rule (one member per name, case-insensitively, in first-seen
// order, with every value joined), for the lists upstreamTree takes its
// ASCII fast path on and for those it does not.
func TestUpstreamTreeHeaders(t *testing.T) {
	many := make([]flowengine.Header, 20)
	for i := range many {
		many[i] = flowengine.Header{Name: fmt.Sprintf("x-h%d", i%7), Value: fmt.Sprint(i)}
	}
	tests := []struct {
		name string
		hs   []flowengine.Header
	}{
		{"none", nil},
		{"distinct", []flowengine.Header{{Name: "content-type", Value: "application/json"}, {Name: "x-up", Value: "one"}}},
		{"repeated", []flowengine.Header{{Name: "set-cookie", Value: "a=1"}, {Name: "x", Value: "y"}, {Name: "set-cookie", Value: "b=2"}}},
		{"cookie joins with a semicolon", []flowengine.Header{{Name: "cookie", Value: "a=1"}, {Name: "Cookie", Value: "b=2"}}},
		{"mixed case", []flowengine.Header{{Name: "X-Up", Value: "1"}, {Name: "x-up", Value: "2"}, {Name: "X-UP", Value: "3"}}},
		{"non-ASCII name", []flowengine.Header{{Name: "x-\u212a", Value: "kelvin"}, {Name: "x-k", Value: "k"}, {Name: "X-K", Value: "K"}}},
		{"more than the stack buffer", many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{}
			d := r.upstreamTree("http://up/x", &flowengine.Response{Status: 201, Headers: tt.hs})
			var got bytes.Buffer
			if err := d.Tree().WriteJSON(&got, 0); err != nil {
				t.Fatal(err)
			}
			want := `{"main":{"url":"http://up/x","status":201,"cacheHit":false,"headers":{` + wantHeaders(tt.hs) + `}}}`
			if got.String() != want {
				t.Errorf("got  %s\nwant %s", got.String(), want)
			}
		})
	}
}

// wantHeaders is the reference: names folded with strings.EqualFold,
// values joined by joinValues.
func wantHeaders(hs []flowengine.Header) string {
	var parts []string
	for i, h := range hs {
		name := strings.ToLower(h.Name)
		if seenBefore(hs[:i], name) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%q:%q", name, joinValues(hs, name)))
	}
	return strings.Join(parts, ",")
}

// TestUpstreamBuiltWhenRead: a forward leaves $upstream pending, and the
// tree is built only when the flow reads more of it than the scalars of
// main a ScalarScope gives (status, url, cacheHit).
func TestUpstreamBuiltWhenRead(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /plain:\n    x-flat-flow: plain.xml\n  /status:\n    x-flat-flow: status.xml\n  /header:\n    x-flat-flow: header.xml\n  /whole:\n    x-flat-flow: whole.xml\n",
		"plain.xml":    `<flow><proxy-request>{"origin": "http://up"}</proxy-request></flow>`,
		"status.xml": `<flow>
  <proxy-request>{"origin": "http://up"}</proxy-request>
  <if test="$upstream/main/status >= 500"><error status="502"/></if>
  <set-response-headers>{ "X-Status": {{ $upstream/main/status }}, "X-Url": {{ $upstream/main/url }} }</set-response-headers>
</flow>`,
		"header.xml": `<flow>
  <proxy-request>{"origin": "http://up"}</proxy-request>
  <set-response-headers>{ "X-Status": {{ $upstream/main/headers/x-up }} }</set-response-headers>
</flow>`,
		"whole.xml": `<flow>
  <proxy-request>{"origin": "http://up"}</proxy-request>
  <set-response-headers>{ "X-Status": {{ $upstream/main/status[. > 0] }} }</set-response-headers>
</flow>`,
	})
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	for _, tt := range []struct {
		path    string
		built   bool
		xStatus string
	}{
		{"/api/plain", false, ""},
		{"/api/status", false, "204"},
		{"/api/header", true, "up-204"},
		{"/api/whole", true, "204"},
	} {
		req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: tt.path, ID: "id", BodyKnownEmpty: true}
		o := p.Run(context.Background(), req, &fakeHost{resp: &flowengine.Response{Status: 204, Headers: []flowengine.Header{{Name: "X-Up", Value: "up-204"}}, BodyKnownEmpty: true}})
		if o.Recycle == nil {
			t.Fatalf("%s: run not recyclable", tt.path)
		}
		r := o.Recycle.(*run)
		i := r.varIndex("upstream")
		if i < 0 {
			t.Fatalf("%s: no $upstream after the forward", tt.path)
		}
		if d := r.vars[i].doc; (d != pendingUpstream) != tt.built || (r.upDoc != nil) != tt.built {
			t.Errorf("%s: $upstream built %v, want %v", tt.path, d != pendingUpstream, tt.built)
		}
		if got, _ := headerValue(o.SetHeaders, "x-status"); got != tt.xStatus {
			t.Errorf("%s: X-Status %q, want %q", tt.path, got, tt.xStatus)
		}
		if tt.path == "/api/status" {
			if got, _ := headerValue(o.SetHeaders, "x-url"); got != "http://up/api/status" {
				t.Errorf("%s: X-Url %q", tt.path, got)
			}
		}
		o.Recycle.Recycle()
	}
}

// TestUpstreamScalarsMatchTree: what the run's ScalarScope answers for
// $upstream/main/... before the tree exists is what the same expressions
// give once it is built (a first read of a header builds it), for every
// status class, in comparisons and written by templates.
func TestUpstreamScalarsMatchTree(t *testing.T) {
	const reads = `<template>{
    "status": {{ $upstream/main/status }},
    "url": {{ $upstream/main/url }},
    "hit": {{ $upstream/main/cacheHit }},
    "ge500": {{ $upstream/main/status >= 500 }},
    "lt300": {{ 300 > $upstream/main/status }},
    "urlNum": {{ $upstream/main/url &lt; 1 }},
    "hitNum": {{ $upstream/main/cacheHit >= 0 }},
    "missing": {{ $upstream/main/nothing }}
  }</template>`
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /pending:\n    x-flat-flow: pending.xml\n  /built:\n    x-flat-flow: built.xml\n",
		"pending.xml":  `<flow><proxy-request>{"origin": "http://up"}</proxy-request>` + reads + `</flow>`,
		"built.xml": `<flow><proxy-request>{"origin": "http://up"}</proxy-request>
  <set-response-headers>{ "X-Up": {{ $upstream/main/headers/x-up }} }</set-response-headers>` + reads + `</flow>`,
	})
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	body := func(path string, status int) string {
		t.Helper()
		req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: path, ID: "id", BodyKnownEmpty: true}
		o := p.Run(context.Background(), req, &fakeHost{resp: &flowengine.Response{Status: status, Headers: []flowengine.Header{{Name: "X-Up", Value: "1"}}, BodyKnownEmpty: true}})
		if o.Error != "" {
			t.Fatalf("%s: error %s: %s", path, o.Error, o.Body)
		}
		return strings.ReplaceAll(string(o.Body), path, "PATH")
	}
	for _, status := range []int{100, 200, 204, 302, 404, 500, 503, 599} {
		pending, built := body("/api/pending", status), body("/api/built", status)
		if pending != built {
			t.Errorf("status %d: pending $upstream gave\n%s\nthe built tree\n%s", status, pending, built)
		}
		if !strings.Contains(pending, fmt.Sprintf(`"status": %d,`, status)) {
			t.Errorf("status %d: body %s", status, pending)
		}
	}
}

// BenchmarkUpstreamTree builds $upstream for a response with the headers
// an upstream behind Envoy typically sends, in a recycled run's arena.
func BenchmarkUpstreamTree(b *testing.B) {
	resp := &flowengine.Response{Status: 200, Headers: []flowengine.Header{
		{Name: "content-type", Value: "application/json"}, {Name: "content-length", Value: "27"},
		{Name: "date", Value: "Sun, 06 Dec 2026 23:40:00 GMT"}, {Name: "server", Value: "envoy"},
		{Name: "x-envoy-upstream-service-time", Value: "3"}, {Name: "vary", Value: "Accept-Encoding"},
	}}
	r := &run{}
	r.slab.objects().kept = true
	b.ReportAllocs()
	for b.Loop() {
		r.upstreamTree("http://upstream/v2/x", resp)
		r.slab.obj.trees.Reset()
	}
}
