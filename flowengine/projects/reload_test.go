package projects_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	_ "github.com/flowproc/flowproc/flowengine/frontends"
	"github.com/flowproc/flowproc/flowengine/projects"
)

// quiet are engine options for tests: no environment, no log output.
var quiet = projects.LoadOptions{Env: []string{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

// writeFiles writes files (path relative to root → content) below root; a
// nil content removes the path.
func writeFiles(t *testing.T, root string, files map[string]*string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if content == nil {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(*content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func str(s string) *string { return &s }

// swagger is a definition routing everything under basePath to flow.
func swagger(basePath, flow string) *string {
	return str("swagger: \"2.0\"\nbasePath: " + basePath + "\npaths:\n  /**:\n    x-flat-flow: " + flow + "\n")
}

// echo is a flow answering body.
func echo(body string) *string { return str("<flow><echo>" + body + "</echo></flow>") }

// broken is a flow with an unknown action (FP202).
var broken = str("<flow><nope/></flow>")

// run sends a GET for path through runner.
func run(r flowengine.Runner, path string) (int, string) {
	out := r.Run(context.Background(), &flowengine.Request{Method: "GET", Path: path, ID: "id", BodyKnownEmpty: true}, nil)
	return out.Status, string(out.Body)
}

// get resolves path on res and runs it.
func get(t *testing.T, res interface {
	Resolve(string, string) (flowengine.Runner, string, bool)
}, path string) (int, string) {
	t.Helper()
	r, _, ok := res.Resolve("", path)
	if !ok {
		t.Fatalf("no project for %s", path)
	}
	return run(r, path)
}

// TestRegistryReload walks projects through edits and checks, after each
// reload, every project's outcome, its diagnostics and what a request sees.
func TestRegistryReload(t *testing.T) {
	type want struct {
		outcome   projects.Outcome
		errSubstr string // in the report's diagnostics ("" = none expected)
		status    int
		body      string // substring of the response
	}
	type step struct {
		files map[string]*string
		want  map[string]want // by project name
	}
	tests := []struct {
		name     string
		projects []string // directory names below the root, loaded in this order
		initial  map[string]*string
		// initialWant: project → status and body substring right after NewRegistry.
		initialWant map[string]want
		steps       []step
	}{
		{
			name:        "a good edit replaces the old version",
			projects:    []string{"a"},
			initial:     map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v1")},
			initialWant: map[string]want{"a": {status: 200, body: "v1"}},
			steps: []step{
				{files: map[string]*string{"a/f.xml": echo("v2")}, want: map[string]want{"a": {projects.Reloaded, "", 200, "v2"}}},
				{files: map[string]*string{"a/swagger.yaml": swagger("/a", "g.xml"), "a/g.xml": echo("from g")},
					want: map[string]want{"a": {projects.Reloaded, "", 200, "from g"}}},
			},
		},
		{
			name:        "a broken edit keeps the last good version until fixed",
			projects:    []string{"a"},
			initial:     map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v1")},
			initialWant: map[string]want{"a": {status: 200, body: "v1"}},
			steps: []step{
				{files: map[string]*string{"a/f.xml": broken}, want: map[string]want{"a": {projects.KeptLastGood, "f.xml:1:7: FP202: unknown action <nope>", 200, "v1"}}},
				{files: map[string]*string{"a/swagger.yaml": str("swagger: [")}, want: map[string]want{"a": {projects.KeptLastGood, "swagger.yaml", 200, "v1"}}},
				{files: map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v3")}, want: map[string]want{"a": {projects.Reloaded, "", 200, "v3"}}},
			},
		},
		{
			name:        "a project deleted from disk keeps its last good version",
			projects:    []string{"a"},
			initial:     map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v1")},
			initialWant: map[string]want{"a": {status: 200, body: "v1"}},
			steps: []step{
				{files: map[string]*string{"a": nil}, want: map[string]want{"a": {projects.KeptLastGood, "FP100", 200, "v1"}}},
			},
		},
		{
			name:        "a project broken from the start answers 503 until fixed",
			projects:    []string{"a"},
			initial:     map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": broken},
			initialWant: map[string]want{"a": {status: 503, body: `"code":5030`}},
			steps: []step{
				{files: map[string]*string{"a/f.xml": str("<flow><nope2/></flow>")}, want: map[string]want{"a": {projects.Failing, "unknown action <nope2>", 503, "Project a failed to load"}}},
				{files: map[string]*string{"a/f.xml": echo("fixed")}, want: map[string]want{"a": {projects.Reloaded, "", 200, "fixed"}}},
			},
		},
		{
			name:     "one project's failure does not affect another",
			projects: []string{"a", "b", "c"},
			initial: map[string]*string{
				"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("a1"),
				"b/swagger.yaml": swagger("/b", "f.xml"), "b/f.xml": echo("b1"),
				"c/swagger.yaml": swagger("/c", "f.xml"), "c/f.xml": broken,
			},
			initialWant: map[string]want{"a": {status: 200, body: "a1"}, "b": {status: 200, body: "b1"}, "c": {status: 503, body: "5030"}},
			steps: []step{
				{files: map[string]*string{"a/f.xml": echo("a2"), "b/f.xml": broken},
					want: map[string]want{"a": {projects.Reloaded, "", 200, "a2"}, "b": {projects.KeptLastGood, "FP202", 200, "b1"}, "c": {projects.Failing, "FP202", 503, "5030"}}},
				{files: map[string]*string{"a/f.xml": broken, "b/f.xml": echo("b2"), "c/f.xml": echo("c1")},
					want: map[string]want{"a": {projects.KeptLastGood, "FP202", 200, "a2"}, "b": {projects.Reloaded, "", 200, "b2"}, "c": {projects.Reloaded, "", 200, "c1"}}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.initial)
			dirs := make([]string, len(tc.projects))
			for i, p := range tc.projects {
				dirs[i] = filepath.Join(root, p)
			}
			var logs bytes.Buffer
			reg, err := projects.NewRegistry(dirs, projects.RegistryOptions{Load: quiet, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range tc.initialWant {
				if code, body := get(t, reg, "/"+name+"/x"); code != w.status || !strings.Contains(body, w.body) {
					t.Errorf("initially %s answers %d %s, want %d containing %s", name, code, body, w.status, w.body)
				}
			}
			for i, st := range tc.steps {
				writeFiles(t, root, st.files)
				logs.Reset()
				rep, err := reg.Reload(context.Background())
				if err != nil {
					t.Fatalf("step %d: Reload: %v", i, err)
				}
				if len(rep.Projects) != len(tc.projects) {
					t.Fatalf("step %d: report has %d projects, want %d", i, len(rep.Projects), len(tc.projects))
				}
				allOK := true
				for j, pr := range rep.Projects {
					if pr.Name != tc.projects[j] {
						t.Errorf("step %d: report[%d] is %s, want %s (load order)", i, j, pr.Name, tc.projects[j])
					}
					w := st.want[pr.Name]
					allOK = allOK && w.outcome == projects.Reloaded
					if pr.Outcome != w.outcome {
						t.Errorf("step %d: %s outcome %v, want %v (errors %v)", i, pr.Name, pr.Outcome, w.outcome, pr.Errors)
					}
					if (w.errSubstr == "") != (len(pr.Errors) == 0) || !strings.Contains(pr.Errors.Error(), w.errSubstr) {
						t.Errorf("step %d: %s errors %q, want them to contain %q", i, pr.Name, pr.Errors.Error(), w.errSubstr)
					}
					if !strings.Contains(logs.String(), "project="+pr.Name) {
						t.Errorf("step %d: no log record for %s:\n%s", i, pr.Name, logs.String())
					}
					code, body := get(t, reg, "/"+pr.Name+"/x")
					if code != w.status || !strings.Contains(body, w.body) {
						t.Errorf("step %d: %s answers %d %s, want %d containing %s", i, pr.Name, code, body, w.status, w.body)
					}
					// A broken project's answer names it and nothing else:
					// no diagnostics, no server paths.
					for _, e := range pr.Errors {
						if code == 503 && (strings.Contains(body, e.Msg) || strings.Contains(body, root)) {
							t.Errorf("step %d: %s's 503 shows load details: %s", i, pr.Name, body)
						}
					}
					e := projects.EntryByName(reg.Set(), pr.Name)
					switch pr.Outcome {
					case projects.KeptLastGood:
						if len(e.Errors) != 0 || len(e.ReloadErrors) == 0 {
							t.Errorf("step %d: kept entry %s: Errors %v, ReloadErrors %v", i, pr.Name, e.Errors, e.ReloadErrors)
						}
					case projects.Failing:
						if len(e.Errors) == 0 {
							t.Errorf("step %d: failing entry %s has no Errors", i, pr.Name)
						}
					}
				}
				if rep.OK() != allOK {
					t.Errorf("step %d: OK() = %v, want %v", i, rep.OK(), allOK)
				}
			}
		})
	}
}

// TestReloadInFlightRunKeepsItsVersion: a Runner resolved before a reload
// keeps answering with its version; new requests see the new one.
func TestReloadInFlightRunKeepsItsVersion(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("old")})
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a")}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := reg.Resolve("a", "/a")
	writeFiles(t, root, map[string]*string{"a/f.xml": echo("new")})
	if _, err := reg.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, body := run(before, "/a"); body != "old" {
		t.Errorf("runner resolved before the reload answers %q, want old", body)
	}
	if _, body := get(t, reg, "/a"); body != "new" {
		t.Errorf("after the reload: %q, want new", body)
	}
}

// TestReloadCancelledSwapsNothing: a reload whose context has ended returns
// the context error and leaves the current set in place.
func TestReloadCancelledSwapsNothing(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v1")})
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a")}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	set := reg.Set()
	writeFiles(t, root, map[string]*string{"a/f.xml": echo("v2")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := reg.Reload(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reload = %v, want context.Canceled", err)
	}
	if reg.Set() != set {
		t.Error("a cancelled reload swapped the set")
	}
}

// TestNewRegistryConfigErrors: configuration errors (not project errors)
// fail NewRegistry.
func TestNewRegistryConfigErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{
		"x/a/swagger.yaml": swagger("/a", "f.xml"), "x/a/f.xml": echo("1"),
		"y/a/swagger.yaml": swagger("/b", "f.xml"), "y/a/f.xml": echo("2"),
	})
	tests := []struct {
		name string
		dirs []string
		def  string
		want string
	}{
		{"duplicate names", []string{filepath.Join(root, "x/a"), filepath.Join(root, "y/a")}, "", `two projects are named "a"`},
		{"unknown default", []string{filepath.Join(root, "x/a")}, "b", `default project "b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := projects.NewRegistry(tc.dirs, projects.RegistryOptions{Default: tc.def, Load: quiet}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewRegistry = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestReloadConcurrentResolve resolves and runs requests on several
// goroutines while reloads swap versions; run with -race. Every answer must
// be one of the versions on disk at some point.
func TestReloadConcurrentResolve(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{
		"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v0"),
		"b/swagger.yaml": swagger("/b", "f.xml"), "b/f.xml": echo("b"),
	})
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a"), filepath.Join(root, "b")}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served atomic.Int64
	bad := make(chan string, 1)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, path := range []string{"/a/x", "/b/x"} {
					r, _, ok := reg.Resolve("", path)
					if !ok {
						continue
					}
					code, body := run(r, path)
					if code != 200 || (body != "b" && (len(body) < 2 || body[0] != 'v')) {
						select {
						case bad <- path + ": " + body:
						default:
						}
					}
					served.Add(1)
				}
			}
		}()
	}
	for i := 1; i <= 20; i++ {
		content := echo("v" + string(rune('0'+i%10)))
		if i%5 == 0 {
			content = broken // kept last good: answers stay 200
		}
		writeFiles(t, root, map[string]*string{"a/f.xml": content})
		if _, err := reg.Reload(context.Background()); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case b := <-bad:
		t.Errorf("unexpected answer during reloads: %s", b)
	default:
	}
	if served.Load() == 0 {
		t.Error("no request ran during the reloads")
	}
}

// TestWatchReloadsOnChange drives the file watcher: edits in a
// subdirectory, a broken edit, a newly created subdirectory and a project
// directory replaced as a whole each lead to a reload.
func TestWatchReloadsOnChange(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{
		"a/swagger.yaml": swagger("/a", "flows/deep/f.xml"), "a/flows/deep/f.xml": echo("v1"),
		"b/swagger.yaml": swagger("/b", "f.xml"), "b/f.xml": echo("b1"),
	})
	var logs syncBuffer
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a"), filepath.Join(root, "b")},
		projects.RegistryOptions{Load: quiet, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan projects.ReloadReport, 100)
	done, err := reg.Watch(ctx, projects.WatchOptions{Debounce: 20 * time.Millisecond, OnReload: func(r projects.ReloadReport, err error) {
		if err != nil {
			t.Errorf("reload: %v", err)
		}
		reports <- r
	}})
	if err != nil {
		t.Fatal(err)
	}

	// waitFor polls path until its answer contains body and, when outcome is
	// given, a reload reported it for project a.
	waitFor := func(t *testing.T, path, body string, outcome *projects.Outcome) {
		t.Helper()
		sawOutcome := outcome == nil
		deadline := time.After(5 * time.Second)
		for {
			select {
			case r := <-reports:
				if outcome != nil && r.Projects[0].Outcome == *outcome {
					sawOutcome = true
				}
			case <-deadline:
				t.Fatalf("%s never answered %q (outcome seen: %v); logs:\n%s", path, body, sawOutcome, logs.String())
			case <-time.After(10 * time.Millisecond):
			}
			if _, got := get(t, reg, path); sawOutcome && strings.Contains(got, body) {
				return
			}
		}
	}
	reloaded, kept := projects.Reloaded, projects.KeptLastGood
	steps := []struct {
		name    string
		change  func(t *testing.T)
		path    string
		body    string
		outcome *projects.Outcome
	}{
		{"edit in a subdirectory", func(t *testing.T) {
			writeFiles(t, root, map[string]*string{"a/flows/deep/f.xml": echo("v2")})
		}, "/a/x", "v2", &reloaded},
		{"broken edit keeps the last good version", func(t *testing.T) {
			writeFiles(t, root, map[string]*string{"a/flows/deep/f.xml": broken})
		}, "/a/x", "v2", &kept},
		{"new subdirectory", func(t *testing.T) {
			writeFiles(t, root, map[string]*string{"a/added/g.xml": echo("g1"), "a/swagger.yaml": swagger("/a", "added/g.xml")})
		}, "/a/x", "g1", &reloaded},
		{"edit in the new subdirectory", func(t *testing.T) {
			writeFiles(t, root, map[string]*string{"a/added/g.xml": echo("g2")})
		}, "/a/x", "g2", &reloaded},
		{"other project edited", func(t *testing.T) {
			writeFiles(t, root, map[string]*string{"b/f.xml": echo("b2")})
		}, "/b/x", "b2", nil},
		{"project directory replaced as a whole", func(t *testing.T) {
			writeFiles(t, root, map[string]*string{"a.new/swagger.yaml": swagger("/a", "f.xml"), "a.new/f.xml": echo("replaced")})
			if err := os.Rename(filepath.Join(root, "a"), filepath.Join(root, "a.old")); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(root, "a.new"), filepath.Join(root, "a")); err != nil {
				t.Fatal(err)
			}
		}, "/a/x", "replaced", &reloaded},
		{"edit in the replaced directory", func(t *testing.T) {
			writeFiles(t, root, map[string]*string{"a/f.xml": echo("replaced again")})
		}, "/a/x", "replaced again", &reloaded},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for len(reports) > 0 { // reports of earlier steps prove nothing here
				<-reports
			}
			st.change(t)
			waitFor(t, st.path, st.body, st.outcome)
		})
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not stop after cancel")
	}
}

// TestWatchReloadsDuringContinuousChanges: changes that never pause for the
// debounce period still reload (after 10 × Debounce).
func TestWatchReloadsDuringContinuousChanges(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v0")})
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a")}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reloaded := make(chan struct{}, 10)
	done, err := reg.Watch(ctx, projects.WatchOptions{Debounce: 100 * time.Millisecond, OnReload: func(projects.ReloadReport, error) { reloaded <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(20 * time.Millisecond) // well inside the debounce period
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for i := 1; ; i++ {
		select {
		case <-reloaded:
			if _, body := get(t, reg, "/a/x"); !strings.HasPrefix(body, "v") || body == "v0" {
				t.Errorf("after the reload: %q, want a later version", body)
			}
			cancel()
			<-done
			return
		case <-deadline:
			t.Fatal("no reload while files kept changing")
		case <-tick.C:
			// Replace the file atomically: a reload never sees it half written.
			tmp := filepath.Join(root, "f.xml.tmp")
			writeFiles(t, root, map[string]*string{"f.xml.tmp": echo("v" + strings.Repeat("i", i))})
			if err := os.Rename(tmp, filepath.Join(root, "a", "f.xml")); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestQuietReloadsLogNothing: with QuietReloads the Registry logs no
// per-project records (the caller prints the report).
func TestQuietReloadsLogNothing(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": broken})
	tests := []struct {
		quiet   bool
		wantLog bool
	}{{false, true}, {true, false}}
	for _, tc := range tests {
		var logs bytes.Buffer
		reg, err := projects.NewRegistry([]string{filepath.Join(root, "a")},
			projects.RegistryOptions{Load: quiet, Logger: slog.New(slog.NewTextHandler(&logs, nil)), QuietReloads: tc.quiet})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := reg.Reload(context.Background())
		if err != nil || rep.Projects[0].Outcome != projects.Failing {
			t.Fatalf("Reload = %+v, %v", rep, err)
		}
		if got := strings.Contains(logs.String(), "FP202"); got != tc.wantLog {
			t.Errorf("QuietReloads=%v: log holds the error: %v, want %v; log:\n%s", tc.quiet, got, tc.wantLog, logs.String())
		}
	}
}

// TestWatchConfigMapUpdate: a Kubernetes ConfigMap volume updates its files
// by swapping the ..data symlink in the mounted directory; the watcher
// reloads on that.
func TestWatchConfigMapUpdate(t *testing.T) {
	root := t.TempDir()
	mount := filepath.Join(root, "shop")
	writeFiles(t, mount, map[string]*string{"..v1/swagger.yaml": swagger("/shop", "f.xml"), "..v1/f.xml": echo("v1")})
	for _, link := range [][2]string{{"..v1", "..data"}, {"..data/swagger.yaml", "swagger.yaml"}, {"..data/f.xml", "f.xml"}} {
		if err := os.Symlink(link[0], filepath.Join(mount, link[1])); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := projects.NewRegistry([]string{mount}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, reg, "/shop/x"); body != "v1" {
		t.Fatalf("initially %q", body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan projects.ReloadReport, 10)
	done, err := reg.Watch(ctx, projects.WatchOptions{Debounce: 20 * time.Millisecond, OnReload: func(r projects.ReloadReport, _ error) { reports <- r }})
	if err != nil {
		t.Fatal(err)
	}
	// The kubelet's update: new timestamped directory, new ..data symlink
	// renamed over the old one, old directory removed.
	writeFiles(t, mount, map[string]*string{"..v2/swagger.yaml": swagger("/shop", "f.xml"), "..v2/f.xml": echo("v2")})
	if err := os.Symlink("..v2", filepath.Join(mount, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(mount, "..data_tmp"), filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, mount, map[string]*string{"..v1": nil})
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-reports:
		case <-deadline:
			t.Fatal("the ConfigMap update was not reloaded")
		case <-time.After(10 * time.Millisecond):
		}
		if _, body := get(t, reg, "/shop/x"); body == "v2" {
			cancel()
			<-done
			return
		}
	}
}

// TestWatchSurvivesCallbackPanic: a panicking OnReload is logged and the
// next change still reloads.
func TestWatchSurvivesCallbackPanic(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v0")})
	var logs syncBuffer
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a")}, projects.RegistryOptions{Load: quiet, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	second := make(chan struct{})
	done, err := reg.Watch(ctx, projects.WatchOptions{Debounce: 20 * time.Millisecond, OnReload: func(projects.ReloadReport, error) {
		switch calls.Add(1) {
		case 1:
			panic("callback bug")
		case 2:
			close(second)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, root, map[string]*string{"a/f.xml": echo("v1")})
	for deadline := time.Now().Add(5 * time.Second); calls.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no reload after the first change")
		}
	}
	writeFiles(t, root, map[string]*string{"a/f.xml": echo("v2")})
	select {
	case <-second:
	case <-time.After(5 * time.Second):
		t.Fatalf("no reload after the callback panicked; logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "reload callback panicked") {
		t.Errorf("panic not logged:\n%s", logs.String())
	}
	cancel()
	<-done
}

// TestWatchRelevant checks which events lead to a reload.
func TestReportStrings(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": str("<flow><nope/><nope2/></flow>")})
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a")}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		got, want string
	}{
		{rep.Projects[0].String(), "project a: load failed, no good version: its routes answer 503 (2 errors)"},
		{projects.ProjectReport{Name: "b", Outcome: projects.Reloaded}.String(), "project b: reloaded"},
		{projects.ProjectReport{Name: "c", Outcome: projects.KeptLastGood, Errors: rep.Projects[0].Errors[:1]}.String(),
			"project c: load failed, keeping the last good version (1 error)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// syncBuffer is a goroutine-safe bytes.Buffer for logs written by the
// watcher goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
