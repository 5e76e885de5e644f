package oasvalidate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

func TestParseSetting(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want string // "req/resp" with "-" for inherited, or the error
	}{
		{"true", true, "true/true"},
		{"false", false, "false/false"},
		{"report-only", "report-only", "report-only/report-only"},
		{"string true", "TRUE", "true/true"},
		{"object", map[string]any{"request": true}, "true/-"},
		{"object both", map[string]any{"request": "report-only", "response": false}, "report-only/false"},
		{"empty object", map[string]any{}, "-/-"},
		{"unknown key", map[string]any{"requests": true}, `unknown key "requests" (known: request, response)`},
		{"bad switch", map[string]any{"response": "yes"}, `response: invalid value "yes" (want true, false or report-only)`},
		{"null switch", map[string]any{"request": nil}, "request: missing value (want true, false or report-only)"},
		{"number", 1.0, "invalid value of type float64 (want true, false or report-only)"},
		{"list", []any{true}, "invalid value of type []interface {} (want true, false or report-only)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := parseSetting(c.in)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = show(s.req, s.hasReq) + "/" + show(s.resp, s.hasResp)
			}
			if got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func show(m Mode, set bool) string {
	if !set {
		return "-"
	}
	return m.String()
}

// writeApp writes a one-file app and returns its directory.
func writeApp(t *testing.T, name, doc string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestModesInheritance checks the FLAT docs example (validation.md): the
// most specific setting wins per direction.
func TestModesInheritance(t *testing.T) {
	const doc = `swagger: "2.0"
x-flat-validate:
  request: report-only
paths:
  /relaxed:
  /strict:
    x-flat-validate:
      request: true
    post:
      x-flat-validate:
        response: report-only
    get:
      x-flat-validate:
        response: true
  /experimental:
    x-flat-validate:
      request: false
      response: false
  /all:
    x-flat-validate: true
    put:
      x-flat-validate: {request: false}
`
	d, v := compileDir(t, writeApp(t, "swagger.yaml", doc))
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/relaxed", "report-only/false"},
		{"POST", "/strict", "true/report-only"},
		{"GET", "/strict", "true/true"},
		{"GET", "/experimental", "false/false"},
		{"PUT", "/all", "false/true"},
	} {
		m := d.Match(c.method, c.path)
		req, resp := v.Modes(m.Path, m.Op)
		if got := req.String() + "/" + resp.String(); got != c.want {
			t.Errorf("%s %s: got %s, want %s", c.method, c.path, got, c.want)
		}
	}
	if req, resp := v.Modes(nil, nil); req != Off || resp != Off {
		t.Errorf("unknown path: %v/%v", req, resp)
	}
}

func TestPathsLevelSetting(t *testing.T) {
	for _, name := range []string{"swagger.yaml", "openapi.yaml"} {
		head := "swagger: \"2.0\"\n"
		if name == "openapi.yaml" {
			head = "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\n"
		}
		d, v := compileDir(t, writeApp(t, name, head+"x-flat-validate: false\npaths:\n  x-flat-validate: {request: true}\n  /p:\n"))
		m := d.Match("GET", "/p")
		if req, resp := v.Modes(m.Path, m.Op); req != On || resp != Off {
			t.Errorf("%s: got %v/%v, want true/false", name, req, resp)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	const v2 = "swagger: \"2.0\"\n"
	for _, c := range []struct {
		name, doc string
		want      []string // "line:col CODE message-part"
	}{
		{"bad top-level value", v2 + "x-flat-validate: yes\n", []string{`2:1 FP102 x-flat-validate: invalid value "yes"`}},
		{"unknown key on a path", v2 + "paths:\n  /p:\n    x-flat-validate: {reqest: true}\n", []string{`4:5 FP102 x-flat-validate: unknown key "reqest"`}},
		{"bad value on an operation", v2 + "paths:\n  /p:\n    get:\n      x-flat-validate: {response: 2}\n", []string{`5:7 FP102 x-flat-validate: response: invalid value of type float64`}},
		{"bad value under paths", v2 + "paths:\n  x-flat-validate: [true]\n", []string{`3:3 FP102 x-flat-validate: invalid value of type []interface {}`}},
		{"misplaced in a response", v2 + "paths:\n  /p:\n    get:\n      responses:\n        200:\n          description: ok\n          x-flat-validate: true\n", []string{`8:11 FP102 x-flat-validate is only allowed at the top level, on a path or on an operation`}},
		{"misplaced in info", "openapi: 3.0.3\ninfo: {title: t, version: \"1\", x-flat-validate: true}\npaths: {}\n", []string{`2:32 FP102 x-flat-validate is only allowed`}},
		{"data is not a setting", v2 + "definitions:\n  A:\n    type: object\n    example: {x-flat-validate: 1}\n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "swagger.yaml"
			if strings.HasPrefix(c.doc, "openapi") {
				name = "openapi.yaml"
			}
			d, errs := apidef.Load(writeApp(t, name, c.doc))
			if len(errs) > 0 {
				t.Fatalf("load: %v", errs)
			}
			_, errs = Compile(d)
			if len(errs) != len(c.want) {
				t.Fatalf("got %d diagnostics, want %d: %v", len(errs), len(c.want), errs)
			}
			for i, e := range errs {
				got := itoa(e.Line) + ":" + itoa(e.Col) + " " + string(e.Code) + " " + e.Msg
				if !strings.HasPrefix(got, c.want[i]) {
					t.Errorf("got %s\nwant prefix %s", got, c.want[i])
				}
				if e.File != d.File {
					t.Errorf("file %q, want %q", e.File, d.File)
				}
			}
		})
	}
	if _, errs := Compile(nil); len(errs) != 1 {
		t.Errorf("Compile(nil): %v", errs)
	}
}
