package projects_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	_ "github.com/flowproc/flowproc/flowengine/frontends"
	"github.com/flowproc/flowproc/flowengine/projects"
)

func writeProject(t *testing.T, root, name, basePath string, flow string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	def := "swagger: \"2.0\"\n"
	if basePath != "" {
		def += "basePath: " + basePath + "\n"
	}
	def += "paths:\n  /**:\n    x-flat-flow: f.xml\n"
	if err := os.WriteFile(filepath.Join(dir, "swagger.yaml"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f.xml"), []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestResolve(t *testing.T) {
	root := t.TempDir()
	dirs := []string{
		writeProject(t, root, "api", "/api", "<flow><echo>api</echo></flow>"),
		writeProject(t, root, "apiv2", "/api/v2", "<flow><echo>v2</echo></flow>"),
		writeProject(t, root, "site", "", "<flow><echo>site</echo></flow>"),
		writeProject(t, root, "broken", "/broken", "<flow><nope/></flow>"),
	}
	set, err := projects.Load(dirs, "site", projects.LoadOptions{Env: []string{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, meta, path string
		wantProject      string
		wantOK           bool
		wantStatus       int
		wantBody         string
	}{
		{"metadata wins over base path", "site", "/api/x", "site", true, 200, "site"},
		{"unknown metadata name", "nope", "/api/x", "", false, 0, ""},
		{"base path", "", "/api/x", "api", true, 200, "api"},
		{"longest base path", "", "/api/v2/x", "apiv2", true, 200, "v2"},
		{"base path itself with query", "", "/api?x=1", "api", true, 200, "api"},
		{"prefix that is not a segment", "", "/apix", "site", true, 200, "site"},
		{"default project", "", "/elsewhere", "site", true, 200, "site"},
		{"broken project answers 503", "", "/broken/x", "broken", true, 503, `"code":5030`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, name, ok := set.Resolve(tt.meta, tt.path)
			if ok != tt.wantOK || name != tt.wantProject {
				t.Fatalf("Resolve = %q %v, want %q %v", name, ok, tt.wantProject, tt.wantOK)
			}
			if !ok {
				return
			}
			out := r.Run(context.Background(), &flowengine.Request{Method: "GET", Path: tt.path, ID: "id", BodyKnownEmpty: true}, nil)
			if out.Status != tt.wantStatus || !strings.Contains(string(out.Body), tt.wantBody) {
				t.Errorf("run = %d %s, want %d containing %s", out.Status, out.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	if got := strings.Join(set.Names(), ","); got != "api,apiv2,site,broken" {
		t.Errorf("Names = %s", got)
	}
	if e := set.Entries()[3]; len(e.Errors) == 0 || strings.Join(e.BasePaths, ",") != "/broken" || e.Kind != "flat" {
		t.Errorf("broken entry: errors %v, base path %q", e.Errors, e.BasePaths)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := projects.New([]*projects.Entry{{Name: "a"}, {Name: "a"}}, ""); err == nil || !strings.Contains(err.Error(), `two projects are named "a"`) {
		t.Errorf("duplicate names: %v", err)
	}
	if _, err := projects.New([]*projects.Entry{{Name: "a"}}, "b"); err == nil || !strings.Contains(err.Error(), `default project "b"`) {
		t.Errorf("unknown default: %v", err)
	}
	s, err := projects.New(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.Resolve("", "/x"); ok {
		t.Error("empty set resolved a request")
	}
}
