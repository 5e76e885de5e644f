package flat

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// FuzzFlow feeds arbitrary bytes to the flow parser and compiler as a path
// flow. Loading must never panic: it either fails with diagnostics or
// yields a project, and a loaded project must run a request without
// panicking (Run's own recover would hide a panic, so Panicked is checked).
func FuzzFlow(f *testing.F) {
	seeds := []string{
		`<flow><echo>hi</echo></flow>`,
		`<flow><if test="$request/get/a = 1"><template>{"a": {{ $request/get/a }}}</template></if><else><error status="404"/></else></flow>`,
		`<flow><eval out="$x">count($request/headers/*)</eval><set-status code="{$x + 200}"/></flow>`,
		`<flow><proxy-request>{"origin": "http://up", "headers": {"x": {{ $request/id }}}}</proxy-request><set-response-headers>{"s": {{ $upstream/main/status }}}</set-response-headers></flow>`,
		`<flow><sub-flow src="a.xml" if="false()"/><log>{"a": 1}</log><break/></flow>`,
		`<flow><template in="$body">{ {{: *}} }</template></flow>`,
		`<flaw/>`, `<flow><if>`, `<flow><echo nope="1"/></flow>`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, flow []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "swagger.yaml"), []byte("swagger: \"2.0\"\npaths:\n  /a:\n    x-flat-flow: a.xml\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a.xml"), flow, 0o644); err != nil {
			t.Fatal(err)
		}
		p, errs := Load(dir, Options{Env: []string{}, Logger: logger})
		if p == nil {
			if len(errs) == 0 {
				t.Fatal("load failed without a diagnostic")
			}
			for _, e := range errs {
				if e.Code == "" {
					t.Fatalf("diagnostic without a code: %v", e)
				}
			}
			return
		}
		req := &flowengine.Request{Method: "POST", Scheme: "http", Authority: "h", Path: "/a?a=1", ID: "id",
			Headers: []flowengine.Header{{Name: "content-type", Value: "application/json"}}}
		out := p.Run(context.Background(), req, &fakeHost{body: []byte(`{"a":[1,{"b":2}]}`), resp: &flowengine.Response{Status: 200}})
		if out == nil || out.Panicked {
			t.Fatalf("run panicked or returned nil for flow %q", flow)
		}
	})
}
