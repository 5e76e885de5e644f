package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/projects"
)

// writeTree writes files (path below root → content).
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// projectFiles is a project answering body on every path under basePath.
func projectFiles(name, basePath, body string) map[string]string {
	return map[string]string{
		name + "/swagger.yaml": "swagger: \"2.0\"\nbasePath: " + basePath + "\npaths:\n  /**:\n    x-flat-flow: f.xml\n",
		name + "/f.xml":        "<flow><echo>" + body + "</echo></flow>",
	}
}

var quietFlat = projects.LoadOptions{Env: []string{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

// TestReloadNowPrintsEveryProject: the function SIGHUP calls reloads and
// prints one line per project with its outcome, and each load error below
// it as file:line:col: CODE: message.
func TestReloadNowPrintsEveryProject(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, projectFiles("good", "/good", "g1"))
	writeTree(t, root, projectFiles("flaky", "/flaky", "f1"))
	writeTree(t, root, map[string]string{"bad/swagger.yaml": "swagger: \"2.0\"\npaths:\n  /x:\n    x-flat-flow: x.xml\n", "bad/x.xml": "<flow><nosuchaction/></flow>"})
	var loadErrs []string
	reg, extracted, err := loadRegistry([]string{filepath.Join(root, "good"), filepath.Join(root, "flaky"), filepath.Join(root, "bad")},
		projects.RegistryOptions{Load: quietFlat}, func(err error) { loadErrs = append(loadErrs, err.Error()) })
	if err != nil || extracted != "" {
		t.Fatalf("loadRegistry: %v (extracted %q)", err, extracted)
	}
	if len(loadErrs) != 1 || !strings.Contains(loadErrs[0], "project bad failed to load") || !strings.Contains(loadErrs[0], "x.xml:1:7: FP202") {
		t.Errorf("initial load errors = %q", loadErrs)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []string // the printed lines, in order
	}{
		{"unchanged", nil, []string{
			"reload (SIGHUP): project good: reloaded",
			"reload (SIGHUP): project flaky: reloaded",
			"reload (SIGHUP): project bad: load failed, no good version: its routes answer 503 (1 error)",
			"  " + filepath.Join(root, "bad") + "/x.xml:1:7: FP202: unknown action <nosuchaction>",
		}},
		{"broken edit, fixed project", map[string]string{"flaky/f.xml": "<flow><if/></flow>", "bad/x.xml": "<flow><echo>ok</echo></flow>"}, []string{
			"reload (SIGHUP): project good: reloaded",
			"reload (SIGHUP): project flaky: load failed, keeping the last good version (1 error)",
			"  " + filepath.Join(root, "flaky") + "/f.xml:1:7: FP204: <if> needs attribute \"test\"",
			"reload (SIGHUP): project bad: reloaded",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			writeTree(t, root, tc.files)
			var out bytes.Buffer
			reloadNow(context.Background(), reg, "SIGHUP", reloadHooks{reloaded: func(trigger string, rep projects.ReloadReport, err error) {
				writeReload(&out, "", trigger, rep, err)
			}})
			if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("printed:\n%s\nwant:\n%s", out.String(), strings.Join(tc.want, "\n"))
			}
		})
	}
	var out bytes.Buffer
	writeReload(&out, "x: ", "SIGHUP", projects.ReloadReport{}, errors.New("boom"))
	if out.String() != "x: reload (SIGHUP) failed, the previous projects keep serving: boom\n" {
		t.Errorf("failed reload printed %q", out.String())
	}
}

// TestStartReloading: file changes reload only when watching was asked for,
// and stop returns once the watcher has ended.
func TestStartReloading(t *testing.T) {
	tests := []struct {
		name  string
		watch bool
	}{
		{"watching", true},
		{"SIGHUP only", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, projectFiles("p", "/p", "v1"))
			reg, _, err := loadRegistry([]string{filepath.Join(root, "p")}, projects.RegistryOptions{Load: quietFlat}, nil)
			if err != nil {
				t.Fatal(err)
			}
			triggers := make(chan string, 10)
			stop, watching := startReloading(context.Background(), reg, true, tc.watch, reloadHooks{
				reloaded: func(trigger string, _ projects.ReloadReport, _ error) { triggers <- trigger },
				warn:     func(err error) { t.Errorf("warn: %v", err) },
			})
			if watching != tc.watch {
				t.Errorf("watching = %v, want %v", watching, tc.watch)
			}
			if tc.watch {
				writeTree(t, root, map[string]string{"p/f.xml": "<flow><echo>v2</echo></flow>"})
				select {
				case tr := <-triggers:
					if tr != "file change" {
						t.Errorf("trigger %q, want file change", tr)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no reload after a file change")
				}
				r, _, _ := reg.Resolve("p", "/p")
				if out := r.Run(context.Background(), testRequest("/p"), nil); string(out.Body) != "v2" {
					t.Errorf("after the reload: %q, want v2", out.Body)
				}
			}
			stopped := make(chan struct{})
			go func() { stop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(5 * time.Second):
				t.Fatal("stop did not return")
			}
		})
	}
}

// testRequest is a GET for path without a body.
func testRequest(path string) *flowengine.Request {
	return &flowengine.Request{Method: "GET", Path: path, ID: "test", BodyKnownEmpty: true}
}
