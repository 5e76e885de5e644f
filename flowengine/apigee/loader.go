// Package apigee is the Apigee Edge front end: it registers the project
// loader of kind "apigee" (proxy bundles with their shared flows) and links
// every policy type flowproc runs.
package apigee

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/projects"

	// The policy types register themselves.
	"github.com/flowproc/flowproc/flowengine/apigee/policies"
)

// Kind is the project kind of Apigee bundles.
const Kind = "apigee"

func init() { projects.Register(loader{}) }

type loader struct{}

func (loader) Kind() string { return Kind }

func (loader) Describe() string {
	return "an Apigee bundle (a folder holding apiproxy/, an apiproxy/ or sharedflowbundle/ folder itself, or a bundle zip)"
}

// Detect reports whether dir holds an Apigee project: an apiproxy/
// folder, a zip with one, or shared flow bundles.
func (loader) Detect(dir string) bool {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return strings.HasSuffix(strings.ToLower(dir), ".zip")
	}
	for _, sub := range []string{"apiproxy", "proxies", "sharedflows"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err == nil && st.IsDir() {
			return true
		}
	}
	if zips, _ := filepath.Glob(filepath.Join(dir, "*.zip")); len(zips) > 0 {
		return true
	}
	sf, _ := filepath.Glob(filepath.Join(dir, "sharedflows", "*", "sharedflowbundle"))
	return len(sf) > 0
}

func (loader) Load(dir string, opts projects.LoadOptions) (projects.Project, diag.List) {
	p, errs := engine.Load(dir, engine.Options{Name: opts.Name, MaxBodyBytes: opts.MaxBodyBytes, Logger: opts.Logger, Limits: opts.Limits, Upstream: opts.Upstream, State: opts.State})
	if p == nil {
		return nil, errs
	}
	return project{p}, nil
}

// BasePaths reads the ProxyEndpoints' base paths even when the bundle does
// not compile, so its routes answer 503 rather than reaching another
// project.
func (loader) BasePaths(dir string) []string {
	root := filepath.Join(dir, "apiproxy")
	if st, err := os.Stat(filepath.Join(dir, "proxies")); err == nil && st.IsDir() {
		root = dir
	}
	b, _ := bundle.Load(os.DirFS(root))
	if b == nil {
		return nil
	}
	var out []string
	for _, pe := range b.Proxies {
		bp := strings.TrimSuffix(pe.BasePath, "/")
		if bp == "" {
			bp = "/"
		}
		out = append(out, bp)
	}
	return out
}

// project adapts an engine project to projects.Project.
type project struct{ *engine.Project }

func (project) Kind() string { return Kind }

var _ projects.Project = project{}

// RegisterMetrics registers the Apigee front end's Prometheus collectors
// (StatisticsCollector's metrics) on reg; registering twice is harmless.
func RegisterMetrics(reg prometheus.Registerer) error {
	return policies.RegisterStatisticsMetrics(reg)
}
