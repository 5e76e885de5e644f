package flat

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// TestQuietLog: which <log> actions can have no effect but their fields,
// and so are skipped by a run whose fields nobody reads.
func TestQuietLog(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		quiet     bool
	}{
		{"paths of variables", `<log>{ "service": {{ $cfg/service }}, "id": {{ $request/id }} }</log>`, true},
		{"alternatives, literals, comparisons", `<log>{ "stage": {{ $cfg/stage ?? "dev" }}, "n": 1, "big": {{ $cfg/n > 3 }} }</log>`, true},
		{"nested object", `<log>{ "env": { "stage": {{ $cfg/stage }} } }</log>`, true},
		{"input variable", `<log in="$cfg">{ "s": {{ $cfg/service }} }</log>`, true},
		{"a context path", `<log>{ "s": {{ service }} }</log>`, false},
		{"a function", `<log>{ "s": {{ tolower($cfg/service) }} }</log>`, false},
		{"fit-log", `<log>{ "s": {{ fit-log("x") }} }</log>`, false},
		{"a system field", `<log>{ "type": {{ $cfg/service }} }</log>`, false},
		{"a side call's content", `<log in="fit://request/content/user">{ "s": {{ $cfg/service }} }</log>`, false},
		{"not an object", `<log>[ {{ $cfg/service }} ]</log>`, false},
		{"a loop", `<log>{ "s": [ {{loop $cfg/*}}1{{end}} ] }</log>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loadLogProject(t, tc.log)
			var got []bool
			for _, f := range p.flows {
				for _, s := range f.body {
					if a, ok := s.Act.(*logAction); ok {
						got = append(got, a.quiet)
					}
				}
			}
			if len(got) != 1 || got[0] != tc.quiet {
				t.Errorf("quiet = %v, want [%v]", got, tc.quiet)
			}
		})
	}
}

func loadLogProject(t *testing.T, flow string) *Project {
	t.Helper()
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /x:\n    x-flat-flow: x.xml\n",
		"x.xml":        "<flow>\n" + flow + "\n</flow>\n",
	})
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	return p
}

// TestQuietLogSkipped: a quiet <log> is skipped only when nothing could
// read its fields. The access record gets them when it is written, and
// get-log() anywhere in the project sees them with the record off, even
// from another flow. A <log> that is not quiet runs with the record off:
// its errors and warnings stay.
func TestQuietLogSkipped(t *testing.T) {
	const quiet = `<log>{ "path": {{ $request/path }} }</log>`
	run := func(p *Project, accessLog bool) *flowengine.Outcome {
		req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "example.com", Path: "/api/x", BodyKnownEmpty: true, AccessLog: accessLog}
		return p.Run(context.Background(), req, &fakeHost{})
	}
	t.Run("record on", func(t *testing.T) {
		if o := run(loadLogProject(t, quiet), true); string(o.Log) != `{"path":"/api/x"}` {
			t.Errorf("Outcome.Log = %s", o.Log)
		}
	})
	t.Run("record off", func(t *testing.T) {
		p := loadLogProject(t, quiet+`<set-response-headers>{ "X-Seen": {{ count($request/*) > 0 }} }</set-response-headers>`)
		o := run(p, false)
		if o.Log != nil || o.Status != 200 {
			t.Errorf("status %d, Outcome.Log = %s", o.Status, o.Log)
		}
		if got, _ := headerValue(o.SetHeaders, "x-seen"); got != "true" {
			t.Errorf("the flow did not go on after the skipped log: X-Seen %q", got)
		}
	})
	t.Run("get-log in another flow", func(t *testing.T) {
		dir := writeProject(t, map[string]string{
			"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\nx-flat-init: init.xml\npaths:\n  /x:\n    x-flat-flow: x.xml\n",
			"init.xml":     "<flow>" + quiet + "</flow>",
			"x.xml":        `<flow><set-response-headers>{ "X-Logged": {{ get-log()/path }} }</set-response-headers></flow>`,
		})
		p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
		if p == nil {
			t.Fatal(errs)
		}
		if got, _ := headerValue(run(p, false).SetHeaders, "x-logged"); got != "/api/x" {
			t.Errorf("get-log()/path = %q, want /api/x", got)
		}
	})
	t.Run("not quiet: its error stays", func(t *testing.T) {
		o := run(loadLogProject(t, `<log>[ {{ $request/path }} ]</log>`), false)
		if o.Status != 500 {
			t.Errorf("status %d, want the log action's error (500)", o.Status)
		}
	})
	t.Run("not quiet: its warning stays", func(t *testing.T) {
		var buf bytes.Buffer
		dir := writeProject(t, map[string]string{
			"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /x:\n    x-flat-flow: x.xml\n",
			"x.xml":        `<flow><log>{ "type": {{ $request/path }} }</log></flow>`,
		})
		p, errs := Load(dir, Options{Env: []string{}, Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if p == nil {
			t.Fatal(errs)
		}
		run(p, false)
		if !strings.Contains(buf.String(), "system field cannot be overridden") {
			t.Errorf("no warning with the record off; log: %s", buf.String())
		}
	})
}
