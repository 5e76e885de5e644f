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
// tree is built only when the flow reads it.
func TestUpstreamBuiltWhenRead(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /plain:\n    x-flat-flow: plain.xml\n  /reads:\n    x-flat-flow: reads.xml\n",
		"plain.xml":    `<flow><proxy-request>{"origin": "http://up"}</proxy-request></flow>`,
		"reads.xml": `<flow>
  <proxy-request>{"origin": "http://up"}</proxy-request>
  <set-response-headers>{ "X-Status": {{ $upstream/main/status }} }</set-response-headers>
</flow>`,
	})
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	upstreamDoc := func(path string) (*run, *flowengine.Outcome) {
		t.Helper()
		req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: path, ID: "id", BodyKnownEmpty: true}
		o := p.Run(context.Background(), req, &fakeHost{resp: &flowengine.Response{Status: 204, BodyKnownEmpty: true}})
		if o.Recycle == nil {
			t.Fatalf("%s: run not recyclable", path)
		}
		r := o.Recycle.(*run)
		if i := r.varIndex("upstream"); i < 0 {
			t.Fatalf("%s: no $upstream after the forward", path)
		}
		return r, o
	}
	r, o := upstreamDoc("/api/plain")
	if d := r.vars[r.varIndex("upstream")].doc; d != pendingUpstream || r.upDoc != nil {
		t.Errorf("/api/plain: $upstream built though nothing read it")
	}
	o.Recycle.Recycle()
	r, o = upstreamDoc("/api/reads")
	if d := r.vars[r.varIndex("upstream")].doc; d == pendingUpstream || d != r.upDoc {
		t.Errorf("/api/reads: $upstream not built when read")
	}
	if got, _ := headerValue(o.SetHeaders, "x-status"); got != "204" {
		t.Errorf("/api/reads: X-Status %q, want 204", got)
	}
	o.Recycle.Recycle()
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
