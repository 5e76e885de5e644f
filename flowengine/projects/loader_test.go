package projects_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/projects"
)

// marker is a second project kind for the tests: a directory with a
// MARKER file whose lines are its base paths; "broken" in it fails the load.
type marker struct{}

func (marker) Kind() string     { return "marker" }
func (marker) Describe() string { return "a marker project (MARKER)" }
func (marker) Detect(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "MARKER"))
	return err == nil
}
func (marker) BasePaths(d string) []string { return readBases(d) }
func (marker) Load(dir string, _ projects.LoadOptions) (projects.Project, diag.List) {
	data, _ := os.ReadFile(filepath.Join(dir, "MARKER"))
	if strings.Contains(string(data), "broken") {
		return nil, diag.List{diag.Errorf(filepath.Join(dir, "MARKER"), 1, 1, "MK001", "secret detail %s", dir)}
	}
	return &markerProject{dir: dir, bases: readBases(dir)}, nil
}

func readBases(dir string) []string {
	data, _ := os.ReadFile(filepath.Join(dir, "MARKER"))
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(l, "/") {
			out = append(out, l)
		}
	}
	return out
}

type markerProject struct {
	dir   string
	bases []string
}

func (p *markerProject) Name() string        { return filepath.Base(p.dir) }
func (p *markerProject) Kind() string        { return "marker" }
func (p *markerProject) Dir() string         { return p.dir }
func (p *markerProject) BasePaths() []string { return p.bases }
func (p *markerProject) Summary() string     { return "marker" }
func (p *markerProject) Run(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
	return &flowengine.Outcome{Kind: flowengine.Answered, Flow: "marker"}
}

func init() { projects.Register(marker{}) }

func TestLoaderSelection(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{
		"multi/MARKER":         str("/v1/things\n/v2/things\n"),
		"flatapp/swagger.yaml": swagger("/v1", "f.xml"),
		"flatapp/f.xml":        str("<flow><echo>flat</echo></flow>"),
		"both/MARKER":          str("/both\n"),
		"both/swagger.yaml":    swagger("/both", "f.xml"),
		"empty/README":         str("nothing here"),
		"bad/MARKER":           str("/bad\nbroken\n"),
	})
	dir := func(n string) string { return filepath.Join(root, n) }

	tests := []struct {
		dir     string
		kind    string
		errCode string
		errSub  string
	}{
		{dir("multi"), "marker", "", ""},
		{dir("flatapp"), "flat", "", ""},
		{dir("both"), "", "FP100", "several kinds (flat, marker)"},
		{dir("empty"), "", "FP100", "no project found in"},
		{dir("missing"), "", "FP100", "no such directory"},
		{dir("bad"), "marker", "MK001", "secret detail"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.dir), func(t *testing.T) {
			kind, p, errs := projects.LoadProject(tt.dir, projects.LoadOptions{})
			if kind != tt.kind {
				t.Errorf("kind = %q, want %q", kind, tt.kind)
			}
			if tt.errCode == "" {
				if p == nil || len(errs) > 0 {
					t.Fatalf("not loaded: %v", errs)
				}
				return
			}
			if p != nil || len(errs) != 1 || string(errs[0].Code) != tt.errCode || !strings.Contains(errs[0].Error(), tt.errSub) {
				t.Errorf("got %v, %v; want one %s containing %q", p, errs, tt.errCode, tt.errSub)
			}
		})
	}
	ls := projects.Loaders()
	for i := 1; i < len(ls); i++ {
		if ls[i-1].Kind() >= ls[i].Kind() {
			t.Errorf("loaders are not sorted by kind: %q before %q", ls[i-1].Kind(), ls[i].Kind())
		}
	}
}

func TestResolveAcrossKindsAndBasePaths(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{
		"multi/MARKER":         str("/v1/things\n/v2/things\n"),
		"flatapp/swagger.yaml": swagger("/v1", "f.xml"),
		"flatapp/f.xml":        str("<flow><echo>flat</echo></flow>"),
		"bad/MARKER":           str("/v1/bad\nbroken\n"),
	})
	set, err := projects.Load([]string{filepath.Join(root, "flatapp"), filepath.Join(root, "multi"), filepath.Join(root, "bad")}, "", quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/v1/things/1", "multi"}, // longest base path across projects
		{"/v2/things", "multi"},   // a project's second base path
		{"/v1/other", "flatapp"},
		{"/v1/bad/x", "bad"}, // a broken project keeps its base paths: 503, not another project
		{"/elsewhere", "flatapp"},
	} {
		_, name, ok := set.Resolve("", tc.path)
		if !ok || name != tc.want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", tc.path, name, ok, tc.want)
		}
	}
	runner, _, _ := set.Resolve("", "/v1/bad/x")
	o := runner.Run(context.Background(), &flowengine.Request{ID: "rid"}, nil)
	if o.Status != 503 || strings.Contains(string(o.Body), "secret") || strings.Contains(string(o.Body), root) {
		t.Errorf("broken project answers %d %s", o.Status, o.Body)
	}
	if e := set.Entries()[1]; e.Kind != "marker" || strings.Join(e.BasePaths, ",") != "/v1/things,/v2/things" {
		t.Errorf("entry %+v", e)
	}
}
