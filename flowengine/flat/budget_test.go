package flat

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/diag"
)

const budgetSwagger = "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /a:\n    x-flat-flow: a.xml\n"

// TestRunLimits checks that each exceeded limit answers FLAT's system
// error document with its stable code.
func TestRunLimits(t *testing.T) {
	var bomb bytes.Buffer
	w, _ := flate.NewWriter(&bomb, flate.BestCompression)
	_, _ = w.Write(make([]byte, 1<<20))
	_ = w.Close()
	tests := []struct {
		name   string
		flow   string
		body   []byte
		limits budget.Limits
		status int
		code   int
	}{
		{"steps", `<flow><set-status code="201"/><set-status code="202"/><set-status code="203"/></flow>`, nil,
			budget.Limits{Steps: 2}, 500, 5010},
		{"regex", `<flow><template>{"m": {{ matches("aaaaaaaaaa", "(a)\1b") }}}</template></flow>`, nil,
			budget.Limits{RegexWork: 5}, 500, 5011},
		{"decoded (inflate bomb)", `<flow><template>{"n": {{ string-length(apply-codecs($body, 'inflate')) }}}</template></flow>`, bomb.Bytes(),
			budget.Limits{DecodedBytes: 64 << 10}, 413, 5012},
		{"output", `<flow><template>{"a": "0123456789"}</template></flow>`, nil,
			budget.Limits{OutputBytes: 5}, 500, 5013},
		{"within limits", `<flow><template>{"n": {{ string-length(apply-codecs($body, 'inflate')) }}}</template></flow>`, bomb.Bytes(),
			budget.Limits{}, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{"swagger.yaml": budgetSwagger, "a.xml": tt.flow})
			p, errs := Load(dir, Options{Logger: quietLogger, Limits: tt.limits})
			if p == nil {
				t.Fatalf("load: %v", errs)
			}
			out := p.Run(context.Background(), &flowengine.Request{Method: "POST", Path: "/api/a", ID: "id"}, &fakeHost{body: tt.body})
			status, code := outcomeError(t, out)
			if status != tt.status || code != tt.code {
				t.Fatalf("status %d code %d, want %d %d; body %s", status, code, tt.status, tt.code, out.Body)
			}
		})
	}
}

// outcomeError returns the answer's status and the code of its error
// document (0 when it is not one).
func outcomeError(t *testing.T, out *flowengine.Outcome) (int, int) {
	t.Helper()
	var doc struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(out.Body, &doc)
	status := out.Status
	if status == 0 {
		status = 200
	}
	return status, doc.Error.Code
}

// TestFileConfinement checks that flows, templates and in= files must
// stay inside the project directory (FP109), also through symbolic links,
// and that json-doc at run time answers without leaking server paths.
func TestFileConfinement(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "t.json"), []byte(`{"secret": "s3cr3t"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		flow string
		link string // name of a symlink in the project to outside/t.json
		code diag.Code
	}{
		{"template ../ escape", `<flow><template src="../t.json"/></flow>`, "", diag.OutsideProject},
		{"template absolute", `<flow><template src="` + filepath.Join(outside, "t.json") + `"/></flow>`, "", diag.MissingFile}, // joined to the flow's directory
		{"template symlink out", `<flow><template src="t.json"/></flow>`, "t.json", diag.OutsideProject},
		{"in= symlink out", `<flow><template in="t.json">{}</template></flow>`, "t.json", diag.OutsideProject},
		{"sub-flow escape", `<flow><sub-flow src="../x.xml"/></flow>`, "", diag.OutsideProject},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{"swagger.yaml": budgetSwagger, "a.xml": tt.flow})
			if tt.link != "" {
				if err := os.Symlink(filepath.Join(outside, "t.json"), filepath.Join(dir, tt.link)); err != nil {
					t.Skip(err)
				}
			}
			p, errs := Load(dir, Options{Logger: quietLogger})
			if p != nil || len(errs) != 1 || errs[0].Code != tt.code {
				t.Fatalf("errs = %v, want one %s", errs, tt.code)
			}
		})
	}
	// A symbolic link that stays inside the project is fine.
	dir := writeProject(t, map[string]string{"swagger.yaml": budgetSwagger, "a.xml": `<flow><template src="l.json"/></flow>`, "conf/t.json": `{"ok": true}`})
	if err := os.Symlink(filepath.Join("conf", "t.json"), filepath.Join(dir, "l.json")); err != nil {
		t.Skip(err)
	}
	if p, errs := Load(dir, Options{Logger: quietLogger}); p == nil {
		t.Fatalf("symlink inside: %v", errs)
	}
	// json-doc at run time: the error names only the relative path.
	dir = writeProject(t, map[string]string{"swagger.yaml": budgetSwagger,
		"a.xml": `<flow><template>{"s": {{ json-doc('l.json')/secret }}}</template></flow>`})
	if err := os.Symlink(filepath.Join(outside, "t.json"), filepath.Join(dir, "l.json")); err != nil {
		t.Skip(err)
	}
	p, errs := Load(dir, Options{Logger: quietLogger})
	if p == nil {
		t.Fatalf("load: %v", errs)
	}
	out := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/api/a", ID: "id"}, &fakeHost{})
	if status, code := outcomeError(t, out); status != 500 || code != 5000 {
		t.Fatalf("status %d code %d: %s", status, code, out.Body)
	}
	for _, leak := range []string{outside, dir, "s3cr3t"} {
		if strings.Contains(string(out.Body), leak) {
			t.Fatalf("answer %s leaks %q", out.Body, leak)
		}
	}
	if !strings.Contains(string(out.Body), `json-doc \"l.json\"`) {
		t.Fatalf("answer %s does not name the file", out.Body)
	}
}
