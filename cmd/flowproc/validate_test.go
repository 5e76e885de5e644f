package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	bad := t.TempDir()
	files := map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /a:\n    x-flat-flow: a.xml\n  /b:\n    x-flat-flow: missing.xml\n",
		"a.xml":        "<flow>\n  <echo if=\"((\">x</echo>\n  <tmplate/>\n</flow>\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(bad, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"example is valid", []string{"../../examples/hello"}, 0, []string{"examples/hello: flat project hello, 5 flows", "ok: 1 project(s) compiled, no errors"}},
		{"missing directory", []string{"../../examples/nope"}, 1, []string{"no such directory", "1 error(s) in 1 of 1 project(s)"}},
		{"not a project", []string{"../../docs"}, 1, []string{"FP100", "no project found in ../../docs: expected an Apigee bundle", "or a FLAT app"}},
		{"every error reported", []string{bad}, 1, []string{
			"a.xml:2:", "FP300",
			"a.xml:3:3: FP202: unknown action <tmplate> (did you mean <template>?)",
			"swagger.yaml:6:", "FP103",
			"3 error(s) in 1 of 1 project(s)",
		}},
		{"mixed", []string{"../../examples/hello", bad}, 1, []string{"error(s) in 1 of 2 project(s)"}},
		{"no args", nil, 2, nil},
		{"duplicate names, as serve says", []string{"../../examples/hello", "../../examples/hello/"}, 1, []string{`two projects are named "hello"`, "1 error(s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runValidate(context.Background(), tt.args, &out, &errb)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out.String(), errb.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
