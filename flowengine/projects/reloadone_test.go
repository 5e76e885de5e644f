package projects_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/projects"
)

// TestReloadProject reloads one project at a time through edits of several
// projects: only the named project changes, a broken project keeps its last
// good version (or keeps answering 503) without affecting the others, and
// the others keep their very entries even when their own files changed.
func TestReloadProject(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{
		"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("a1"),
		"b/swagger.yaml": swagger("/b", "f.xml"), "b/f.xml": echo("b1"),
		"c/swagger.yaml": swagger("/c", "f.xml"), "c/f.xml": broken,
	})
	dirs := []string{filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")}
	reg, err := projects.NewRegistry(dirs, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(name string) *projects.Entry {
		for _, e := range reg.Set().Entries() {
			if e.Name == name {
				return e
			}
		}
		t.Fatalf("no project %s", name)
		return nil
	}
	type want struct {
		status int
		body   string
	}
	steps := []struct {
		name    string
		files   map[string]*string
		reload  string
		outcome projects.Outcome
		errSub  string
		want    map[string]want // what each project answers afterwards
		same    []string        // projects whose entry must be untouched
	}{
		{
			name:   "a good edit of b reloads b only; a's pending edit waits",
			files:  map[string]*string{"a/f.xml": echo("a2"), "b/f.xml": echo("b2")},
			reload: "b", outcome: projects.Reloaded,
			want: map[string]want{"a": {200, "a1"}, "b": {200, "b2"}, "c": {503, "failed to load"}},
			same: []string{"a", "c"},
		},
		{
			name:   "a broken a keeps its last good version; b is unaffected",
			files:  map[string]*string{"a/f.xml": broken},
			reload: "a", outcome: projects.KeptLastGood, errSub: "FP202",
			want: map[string]want{"a": {200, "a1"}, "b": {200, "b2"}, "c": {503, "failed to load"}},
			same: []string{"b", "c"},
		},
		{
			name:   "b reloads fine while a stays broken",
			files:  map[string]*string{"b/f.xml": echo("b3")},
			reload: "b", outcome: projects.Reloaded,
			want: map[string]want{"a": {200, "a1"}, "b": {200, "b3"}, "c": {503, "failed to load"}},
			same: []string{"a", "c"},
		},
		{
			name:   "c, broken from the start, still fails",
			reload: "c", outcome: projects.Failing, errSub: "FP202",
			want: map[string]want{"a": {200, "a1"}, "b": {200, "b3"}, "c": {503, "failed to load"}},
			same: []string{"a", "b"},
		},
		{
			name:   "c fixed loads",
			files:  map[string]*string{"c/f.xml": echo("c1")},
			reload: "c", outcome: projects.Reloaded,
			want: map[string]want{"a": {200, "a1"}, "b": {200, "b3"}, "c": {200, "c1"}},
			same: []string{"a", "b"},
		},
	}
	for _, st := range steps {
		writeFiles(t, root, st.files)
		before := map[string]*projects.Entry{}
		for _, n := range st.same {
			before[n] = entry(n)
		}
		rep, err := reg.ReloadProject(context.Background(), st.reload)
		if err != nil {
			t.Fatalf("%s: ReloadProject: %v", st.name, err)
		}
		if len(rep.Projects) != 1 || rep.Projects[0].Name != st.reload || rep.Projects[0].Outcome != st.outcome {
			t.Fatalf("%s: report %+v, want %s %s", st.name, rep.Projects, st.reload, st.outcome)
		}
		if got := rep.Projects[0].Errors.Error(); !strings.Contains(got, st.errSub) || (st.errSub == "") != (len(rep.Projects[0].Errors) == 0) {
			t.Errorf("%s: diagnostics %q, want %q", st.name, got, st.errSub)
		}
		if last := reg.LastReload(); last == nil || last.Err != nil || len(last.Report.Projects) != 1 || last.Report.Projects[0].Name != st.reload {
			t.Errorf("%s: LastReload = %+v, want this reload", st.name, last)
		}
		for n, e := range before {
			if entry(n) != e {
				t.Errorf("%s: project %s was swapped, want its entry untouched", st.name, n)
			}
		}
		for n, w := range st.want {
			status, body := get(t, reg, "/"+n+"/x")
			if status != w.status || !strings.Contains(body, w.body) {
				t.Errorf("%s: %s answers %d %q, want %d %q", st.name, n, status, body, w.status, w.body)
			}
		}
		if names := strings.Join(reg.Names(), ","); names != "a,b,c" {
			t.Errorf("%s: names %s, want the load order kept", st.name, names)
		}
	}
	// The state the API reports: a keeps its last good version with the
	// diagnostics of its failed reload.
	if e := entry("a"); len(e.ReloadErrors) == 0 || len(e.Errors) != 0 {
		t.Errorf("a: Errors %v ReloadErrors %v, want only reload errors", e.Errors, e.ReloadErrors)
	}
}

// TestReloadProjectErrors: an unknown name and a cancelled context load and
// swap nothing.
func TestReloadProjectErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v1")})
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a")}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	set := reg.Set()
	writeFiles(t, root, map[string]*string{"a/f.xml": echo("v2")})
	if _, err := reg.ReloadProject(context.Background(), "nope"); !errors.Is(err, projects.ErrUnknownProject) {
		t.Errorf("unknown project: err %v, want ErrUnknownProject", err)
	}
	if reg.LastReload() != nil {
		t.Error("an unknown project was recorded as a reload")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := reg.ReloadProject(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v, want context.Canceled", err)
	}
	if reg.Set() != set {
		t.Error("a failed ReloadProject swapped the set")
	}
	if last := reg.LastReload(); last == nil || last.Err == nil {
		t.Errorf("LastReload = %+v, want the cancelled reload's error", last)
	}
}
