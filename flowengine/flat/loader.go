package flat

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/projects"
)

// FLAT registers itself as the project loader of kind "flat".
func init() { projects.Register(loader{}) }

// Kind is the project kind of FLAT apps.
const Kind = "flat"

type loader struct{}

func (loader) Kind() string { return Kind }

func (loader) Describe() string {
	return "a FLAT app (swagger.yaml, swagger.json, openapi.yaml/.yml/.json or conf/config.xml)"
}

// Detect reports whether dir holds a FLAT app: an API definition or a
// conf/config.xml, as the flat CLI decides (FLAT docs: project layout and request lifecycle).
func (loader) Detect(dir string) bool {
	for _, name := range append(apidef.DefinitionNames(), filepath.Join("conf", "config.xml")) {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}

func (loader) Load(dir string, opts projects.LoadOptions) (projects.Project, diag.List) {
	p, errs := Load(dir, Options{Name: opts.Name, MaxBodyBytes: opts.MaxBodyBytes, Env: opts.Env, Logger: opts.Logger, Limits: opts.Limits, Upstream: opts.Upstream})
	if p == nil {
		return nil, errs
	}
	return p, errs
}

// BasePaths reads the definition's basePath even when the project does not
// compile, so a broken app's routes answer 503.
func (loader) BasePaths(dir string) []string {
	def, _ := apidef.Load(dir)
	if def == nil || def.BasePath == "" {
		return nil
	}
	return []string{def.BasePath}
}

// Kind implements projects.Project.
func (p *Project) Kind() string { return Kind }

// BasePaths implements projects.Project: the definition's basePath.
func (p *Project) BasePaths() []string {
	if p.def.BasePath == "" {
		return nil
	}
	return []string{p.def.BasePath}
}

// Summary implements projects.Project.
func (p *Project) Summary() string {
	n := len(p.Flows())
	if n == 1 {
		return "1 flow"
	}
	return strconv.Itoa(n) + " flows"
}

var _ projects.Project = (*Project)(nil)
