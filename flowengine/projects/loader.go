package projects

import (
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Project is one loaded project of any kind (a FLAT app, an Apigee bundle):
// an immutable, fully compiled Runner that knows where it serves.
type Project interface {
	flowengine.Runner
	// Name is the project's name (its directory's base name by default).
	Name() string
	// Kind names the front end that loaded it ("flat", "apigee").
	Kind() string
	// Dir is the project's directory.
	Dir() string
	// BasePaths are the path prefixes the project serves (a FLAT basePath;
	// one per Apigee ProxyEndpoint); empty when it serves everything it is
	// chosen for by name or as the default.
	BasePaths() []string
	// Summary is one line for `flowproc validate` (e.g. "3 flows").
	Summary() string
}

// LoadOptions are the front-end-neutral options every project is loaded
// with.
type LoadOptions struct {
	// Name is the project name (default: the directory's base name).
	Name string
	// MaxBodyBytes bounds bodies a run reads (0: the front end's default).
	MaxBodyBytes int64
	// Env is the environment projects see (nil: os.Environ at load).
	Env []string
	// Logger receives runtime warnings (nil: slog.Default()).
	Logger *slog.Logger
	// Limits bound the work of each run (zero fields: budget defaults).
	Limits budget.Limits
	// Upstream makes the side calls of runs (FLAT request/requests); nil
	// means the process-wide HTTP client (upstream.Shared).
	Upstream upstream.Client
	// State is the state that outlives a request (counters, KV maps,
	// caches, tokens), shared by every project of the process: memory or
	// Redis (store.OpenConfig). nil means the process-wide memory stores.
	State *store.Stores
}

// Loader loads the projects of one kind. Front ends register one in their
// init function (see Register); package flowengine/frontends imports them
// all.
type Loader interface {
	// Kind names the front end ("flat").
	Kind() string
	// Describe says what a project of this kind looks like, for the error
	// when a directory holds none ("a FLAT app (swagger.yaml, …)").
	Describe() string
	// Detect reports whether dir holds a project of this kind. dir may be
	// a regular file (a bundle zip); loaders that only take directories
	// return false for it.
	Detect(dir string) bool
	// Load reads and compiles the project in dir. It returns every
	// diagnostic; the project is nil when there is any.
	Load(dir string, opts LoadOptions) (Project, diag.List)
	// BasePaths returns, best effort, the base paths of the project in dir
	// even when it does not load, so that its routes answer 503 rather than
	// falling through to another project.
	BasePaths(dir string) []string
}

var (
	loadersMu sync.RWMutex
	loaders   []Loader
)

// Register adds a front end's loader. Registering a kind twice is a
// programming error and panics.
func Register(l Loader) {
	loadersMu.Lock()
	defer loadersMu.Unlock()
	for _, o := range loaders {
		if o.Kind() == l.Kind() {
			panic(fmt.Sprintf("projects: loader %q registered twice", l.Kind()))
		}
	}
	loaders = append(loaders, l)
	sort.Slice(loaders, func(i, j int) bool { return loaders[i].Kind() < loaders[j].Kind() })
}

// Loaders returns the registered loaders, by kind.
func Loaders() []Loader {
	loadersMu.RLock()
	defer loadersMu.RUnlock()
	return append([]Loader(nil), loaders...)
}

// Detect returns the loader for the project in dir: the one registered
// loader whose Detect accepts it. A directory that does not exist, that no
// loader accepts, or that more than one accepts is an FP100 diagnostic.
func Detect(dir string) (Loader, *diag.Error) {
	st, err := os.Stat(dir)
	switch {
	case err != nil && os.IsNotExist(err):
		return nil, diag.Errorf(dir, 0, 0, diag.NoDefinition, "no such directory: %s", dir)
	case err != nil:
		return nil, diag.Errorf(dir, 0, 0, diag.NoDefinition, "cannot read %s: %v", dir, err)
	case !st.IsDir():
		// A file is a project only when a loader takes it (an Apigee
		// bundle zip).
		for _, l := range Loaders() {
			if l.Detect(dir) {
				return l, nil
			}
		}
		return nil, diag.Errorf(dir, 0, 0, diag.NoDefinition, "%s is not a directory", dir)
	}
	var found []Loader
	all := Loaders()
	for _, l := range all {
		if l.Detect(dir) {
			found = append(found, l)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		want := make([]string, len(all))
		for i, l := range all {
			want[i] = l.Describe()
		}
		return nil, diag.Errorf(dir, 0, 0, diag.NoDefinition, "no project found in %s: expected %s", dir, strings.Join(want, " or "))
	}
	kinds := make([]string, len(found))
	for i, l := range found {
		kinds[i] = l.Kind()
	}
	return nil, diag.Errorf(dir, 0, 0, diag.NoDefinition, "%s holds projects of several kinds (%s); give each its own directory", dir, strings.Join(kinds, ", "))
}

// LoadProject detects the kind of the project in dir and loads it. It
// returns the loader's kind ("" when none matched), the project (nil on
// any error) and every diagnostic.
func LoadProject(dir string, opts LoadOptions) (string, Project, diag.List) {
	l, derr := Detect(dir)
	if derr != nil {
		return "", nil, diag.List{derr}
	}
	p, errs := l.Load(dir, opts)
	if len(errs) > 0 {
		return l.Kind(), nil, errs
	}
	return l.Kind(), p, nil
}
