package deploy

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

// helmChartDir is the Helm chart of the sidecar pod.
const helmChartDir = "helm/flowproc"

// helm is not installable here, so the tests render the chart themselves:
// text/template (which Helm's templates are) with the values, .Release,
// .Chart and .Files objects and only the template functions below. A chart
// template that uses another function fails to parse here, so the chart
// stays inside this documented subset (docs/deploy.md, "Helm"):
//
//	include NAME DATA   execute a named template ({{ define }}) to a string
//	quote V             V as a double-quoted string
//	toYaml V            V as YAML, without the trailing newline
//	nindent N S         a newline, then S with every line indented by N spaces
//	add A B ...         the integer sum
//	dict K V ...        a map from alternating keys and values
//
// plus .Files.Get NAME and (.Files.Glob PATTERN).AsConfig, as Helm defines
// them. Helm's own defaults are kept where they matter: a missing value is
// an error here (Helm renders it empty), which is stricter.
var helmFuncNames = []string{"include", "quote", "toYaml", "nindent", "add", "dict"}

// chartFiles is the .Files object: the chart's files by slash path.
type chartFiles map[string][]byte

// Get returns a file's content ("" when absent, as Helm does).
func (f chartFiles) Get(name string) string { return string(f[name]) }

// Glob returns the files matching pattern.
func (f chartFiles) Glob(pattern string) chartFiles {
	out := chartFiles{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

// AsConfig renders the files as ConfigMap data: base name → content, YAML.
func (f chartFiles) AsConfig() (string, error) {
	m := map[string]string{}
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	b, err := yaml.Marshal(m)
	return strings.TrimSuffix(string(b), "\n"), err
}

// toInt64 converts a template number (YAML numbers arrive as float64).
func toInt64(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("add: %v (%T) is not a number", v, v)
}

// renderChart renders the chart in dir with its values.yaml merged with
// set (a nested map, like helm's --set), and returns the manifests as one
// multi-document YAML stream, each preceded by "# Source: <template>".
func renderChart(t *testing.T, dir string, set map[string]any) []byte {
	t.Helper()
	out, err := renderHelmChart(dir, set)
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	return out
}

func renderHelmChart(dir string, set map[string]any) ([]byte, error) {
	var chart map[string]any
	if err := readYAML(filepath.Join(dir, "Chart.yaml"), &chart); err != nil {
		return nil, err
	}
	values := map[string]any{}
	if err := readYAML(filepath.Join(dir, "values.yaml"), &values); err != nil {
		return nil, err
	}
	mergeValues(values, set)
	files := chartFiles{}
	err := filepath.WalkDir(filepath.Join(dir, "files"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("chart files: %w", err)
	}
	root := template.New(chart["name"].(string)).Option("missingkey=error")
	funcs := template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var b bytes.Buffer
			err := root.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"quote": func(v any) string { return strconv.Quote(fmt.Sprint(v)) },
		"toYaml": func(v any) (string, error) {
			b, err := yaml.Marshal(v)
			return strings.TrimSuffix(string(b), "\n"), err
		},
		"nindent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"add": func(vs ...any) (int64, error) {
			var sum int64
			for _, v := range vs {
				n, err := toInt64(v)
				if err != nil {
					return 0, err
				}
				sum += n
			}
			return sum, nil
		},
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m, nil
		},
	}
	if got := slices.Sorted(maps.Keys(funcs)); !slices.Equal(got, slices.Sorted(slices.Values(helmFuncNames))) {
		return nil, fmt.Errorf("renderer functions %v differ from the documented subset %v", got, helmFuncNames)
	}
	root.Funcs(funcs)
	tmpls, err := filepath.Glob(filepath.Join(dir, "templates", "*"))
	if err != nil {
		return nil, err
	}
	slices.Sort(tmpls)
	for _, p := range tmpls {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if _, err := root.New(path.Join(chart["name"].(string), "templates", filepath.Base(p))).Parse(string(data)); err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
	}
	top := map[string]any{
		"Values":  values,
		"Release": map[string]any{"Name": values["name"], "Namespace": "default", "Service": "Helm", "IsInstall": true},
		"Chart":   map[string]any{"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
		"Files":   files,
	}
	var out bytes.Buffer
	for _, p := range tmpls {
		base := filepath.Base(p)
		if strings.HasPrefix(base, "_") { // helpers: definitions only, as in Helm
			continue
		}
		name := path.Join(chart["name"].(string), "templates", base)
		var b bytes.Buffer
		if err := root.ExecuteTemplate(&b, name, top); err != nil {
			return nil, fmt.Errorf("execute: %w", err)
		}
		if strings.TrimSpace(b.String()) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, strings.TrimRight(b.String(), "\n"))
	}
	return out.Bytes(), nil
}

// mergeValues merges set into values, recursively for maps.
func mergeValues(values, set map[string]any) {
	for k, v := range set {
		if sub, ok := v.(map[string]any); ok {
			if cur, ok := values[k].(map[string]any); ok {
				mergeValues(cur, sub)
				continue
			}
		}
		values[k] = v
	}
}

func readYAML(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// TestHelmChartFilesMatchSources keeps the chart's copies (files/envoy.yaml,
// files/project/) equal to envoy/sidecar.yaml and deploy/projects/example/
// (Helm cannot read files outside the chart). -update copies them.
func TestHelmChartFilesMatchSources(t *testing.T) {
	var values struct {
		Flowproc struct {
			Project string `json:"project"`
		} `json:"flowproc"`
	}
	mustYAML(t, "values.yaml", mustRead(t, filepath.Join(helmChartDir, "values.yaml")), &values)
	pairs := map[string]string{filepath.Join(helmChartDir, "files", "envoy.yaml"): sidecarConfigPath}
	src := filepath.Join(projectsDir, values.Flowproc.Project)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pairs[filepath.Join(helmChartDir, "files", "project", e.Name())] = filepath.Join(src, e.Name())
	}
	copies, _ := filepath.Glob(filepath.Join(helmChartDir, "files", "project", "*"))
	for _, c := range copies {
		if _, ok := pairs[c]; !ok {
			if *update {
				if err := os.Remove(c); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("%s has no source in %s; run go test ./deploy -run %s -update", c, src, t.Name())
		}
	}
	for dst, from := range pairs {
		want := mustRead(t, from)
		if *update {
			if err := os.WriteFile(dst, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; run go test ./deploy -run %s -update", dst, from, t.Name())
		}
	}
}

// TestHelmChartRendersConfigMapsFromFiles: the rendered ConfigMaps hold the
// chart's files byte for byte.
func TestHelmChartRendersConfigMapsFromFiles(t *testing.T) {
	p := loadSidecarPodFrom(t, splitManifests(t, helmChartDir, renderChart(t, helmChartDir, nil)))
	ec := p.containers["envoy"]
	key, cm := p.configMapFile(t, ec, flagValue(ec.Args, "-c"))
	if got, want := cm.Data[key], string(mustRead(t, filepath.Join(helmChartDir, "files", "envoy.yaml"))); got != want {
		t.Errorf("ConfigMap %s key %s differs from files/envoy.yaml", cm.Metadata.Name, key)
	}
	fc := p.containers["flowproc"]
	dirs := parseServeArgs(t, fc.Args).dirs
	if len(dirs) != 1 {
		t.Fatalf("flowproc serves %v, want one project", dirs)
	}
	copies, _ := filepath.Glob(filepath.Join(helmChartDir, "files", "project", "*"))
	for _, c := range copies {
		key, cm := p.configMapFile(t, fc, dirs[0]+"/"+filepath.Base(c))
		if cm.Data[key] != string(mustRead(t, c)) {
			t.Errorf("ConfigMap %s key %s differs from %s", cm.Metadata.Name, key, c)
		}
	}
}

// TestHelmChartValues: values change what they promise, and the hooks and
// grace period follow the drain time (the checks of the raw manifests still
// pass), while a value the chart does not know fails the render.
func TestHelmChartValues(t *testing.T) {
	set := map[string]any{
		"name":     "shop",
		"replicas": 3,
		"envoy":    map[string]any{"drainSeconds": 30},
		"flowproc": map[string]any{"image": "registry.example/flowproc:1.2.3", "shutdownGraceSeconds": 20, "extraArgs": []any{"-log-level", "debug"}},
	}
	objs := splitManifests(t, helmChartDir, renderChart(t, helmChartDir, set))
	p := loadSidecarPodFrom(t, objs)
	if got := p.containers["flowproc"].Image; got != "registry.example/flowproc:1.2.3" {
		t.Errorf("flowproc image %q", got)
	}
	if got := flagValue(p.containers["flowproc"].Args, "-log-level"); got != "debug" {
		t.Errorf("extraArgs not passed: %q", p.containers["flowproc"].Args)
	}
	if got := *p.deployment.Template.Spec.TerminationGracePeriodSeconds; got != 30+10+20+5 {
		t.Errorf("terminationGracePeriodSeconds %d, want 65", got)
	}
	for _, o := range objs {
		if o.Metadata.Name != "shop" && o.Kind != "ConfigMap" {
			t.Errorf("%s named %q, want shop", o.Kind, o.Metadata.Name)
		}
	}
	checkPortsProbesAndVolumes(t, p)
	checkEnvoySidecarConfig(t, p)
	checkFlowprocProbes(t, p.containers["flowproc"], parseServeArgs(t, p.containers["flowproc"].Args))

	tmp := t.TempDir()
	copyTree(t, helmChartDir, tmp)
	if err := os.WriteFile(filepath.Join(tmp, "templates", "extra.yaml"), []byte("x: {{ .Values.nope.missing }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := renderHelmChart(tmp, nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a missing value rendered without error: %v", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "templates", "extra.yaml"), []byte("x: {{ upper \"a\" }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := renderHelmChart(tmp, nil); err == nil || !strings.Contains(err.Error(), "upper") {
		t.Errorf("a function outside the subset parsed: %v", err)
	}
}

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
