package flat

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/tracetree"
)

// TestRunRecycle: a plain run's Outcome offers Recycle and a recycled run
// comes back from the pool cleared but for its object scratch; a traced
// run and a run that made a side call are never offered
// (TestRunRecycleSideCall).
func TestRunRecycle(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\nx-flat-cors:\n  allowed-origins: [\"https://a.example\"]\npaths:\n  /x:\n    x-flat-flow: x.xml\n",
		"x.xml": `<flow>
  <set-response-headers>{ "X-Id": {{ $request/id }} }</set-response-headers>
  <log>{ "path": {{ $request/path }} }</log>
</flow>`,
	})
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	do := func(id string, trace flowengine.Tracer, headers ...flowengine.Header) *flowengine.Outcome {
		req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: "/api/x", ID: id, BodyKnownEmpty: true, Trace: trace, Headers: headers, AccessLog: true}
		return p.Run(context.Background(), req, &fakeHost{})
	}

	o := do("first", nil)
	if o.Recycle == nil {
		t.Fatal("a plain run is not offered for recycling")
	}
	r := o.Recycle.(*run)
	o.Recycle.Recycle()
	if r.p != nil || r.x.Req != nil || len(r.vars) != 0 || r.logFields != nil || r.x.Resp.Headers != nil || r.x.ID != "" {
		t.Fatalf("recycled run not cleared: %+v", r)
	}
	if r.slab.obj == nil {
		t.Fatal("the object scratch was not kept")
	}
	if lf := r.slab.obj.log.entries; len(lf) != 0 || (cap(lf) > 0 && lf[:1][0].key != "") {
		t.Fatalf("recycled <log> fields not cleared: %+v", lf)
	}
	if px := r.slab.obj.proxy; px != nil && (px.target != nil || len(px.headers) != 0 || px.query.t != nil) {
		t.Fatalf("recycled proxy spec not cleared: %+v", px)
	}
	for i, id := range []string{"second", "third"} {
		o := do(id, nil)
		if got, _ := headerValue(o.SetHeaders, "x-id"); got != id || string(o.Log) != `{"path":"/api/x"}` {
			t.Fatalf("run %d after recycling: X-Id %q, log %s (headers %v)", i, got, o.Log, o.SetHeaders)
		}
		o.Recycle.Recycle()
	}

	if o := do("traced", &tracetree.Collector{}); o.Recycle != nil {
		t.Error("a traced run was offered for recycling")
	}
	// CORS headers are side state of the run's own: recycled with it.
	o = do("cors", nil, flowengine.Header{Name: "origin", Value: "https://a.example"})
	if got, _ := headerValue(o.SetHeaders, "access-control-allow-origin"); got != "https://a.example" || o.Recycle == nil {
		t.Errorf("CORS run: allow-origin %q, recyclable %v", got, o.Recycle != nil)
	}
}

// TestOutcomeLogOnlyWhenAsked: Outcome.Log is serialized only for a host
// that writes an access log (Request.AccessLog); without it the log
// actions still run and get-log() still sees their fields.
func TestOutcomeLogOnlyWhenAsked(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /x:\n    x-flat-flow: x.xml\n",
		"x.xml": `<flow>
  <log>{ "path": {{ $request/path }} }</log>
  <set-response-headers>{ "X-Logged": {{ get-log()/path }} }</set-response-headers>
</flow>`,
	})
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	for _, asked := range []bool{true, false} {
		req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: "/api/x", BodyKnownEmpty: true, AccessLog: asked}
		o := p.Run(context.Background(), req, &fakeHost{})
		if got, _ := headerValue(o.SetHeaders, "x-logged"); got != "/api/x" {
			t.Errorf("AccessLog %v: get-log()/path = %q, want /api/x", asked, got)
		}
		want := ""
		if asked {
			want = `{"path":"/api/x"}`
		}
		if string(o.Log) != want {
			t.Errorf("AccessLog %v: Outcome.Log = %s, want %q", asked, o.Log, want)
		}
	}
}

// TestRunRecycleSideCall: a run that made a side call is not offered for
// recycling, whatever the call's result.
func TestRunRecycleSideCall(t *testing.T) {
	body := `{"ok":true}`
	side := newSideServer(t, []*sideRoute{{Path: "/user", Status: 200, Body: &body}})
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /x:\n    x-flat-flow: x.xml\n",
		"x.xml": `<flow>
  <request content="$user">{ "url": {{ concat($env/SIDE, "/user") }} }</request>
</flow>`,
	})
	p, errs := Load(dir, Options{Env: []string{"SIDE=" + side.URL()}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: "/api/x", ID: "side", BodyKnownEmpty: true}
	o := p.Run(context.Background(), req, &fakeHost{})
	if o.Status != 200 || len(side.take()) != 1 {
		t.Fatalf("status %d, body %s", o.Status, o.Body)
	}
	if o.Recycle != nil {
		t.Error("a run that made a side call was offered for recycling")
	}
}
