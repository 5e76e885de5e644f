package flat

import (
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/cors"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/jwtauth"
	"github.com/flowproc/flowproc/flowengine/oasvalidate"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Options tune a project's runtime limits.
type Options struct {
	// Name is the project name (default: the directory's base name).
	Name string
	// MaxBodyBytes bounds request bodies a flow reads (default 1 MiB);
	// larger bodies are answered 413.
	MaxBodyBytes int64
	// MaxJSONDepth bounds nesting of parsed JSON (default 512).
	MaxJSONDepth int
	// Env is the environment exposed as $env (default os.Environ at load).
	Env []string
	// Logger receives runtime warnings (default slog.Default()).
	Logger *slog.Logger
	// Limits bound the work of each run (zero fields: the budget
	// package's defaults); going over one answers a FLAT error 5010-5013.
	Limits budget.Limits
	// Upstream makes the flows' side calls (request, requests); nil means
	// upstream.Shared().
	Upstream upstream.Client
}

// DefaultMaxBodyBytes is the default request body limit.
const DefaultMaxBodyBytes = 1 << 20

func (o *Options) maxBody() int64 {
	if o.MaxBodyBytes > 0 {
		return o.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (o *Options) maxDepth() int {
	if o.MaxJSONDepth > 0 {
		return o.MaxJSONDepth
	}
	return 512
}

// Project is a loaded, fully compiled FLAT app. It is immutable after Load
// and safe for concurrent runs.
type Project struct {
	name string
	dir  string
	root *os.Root // dir; every file read goes through it
	def  *apidef.Definition
	opts Options

	flows       map[string]*Flow // by absolute path
	init        *Flow
	errorFlow   *Flow
	defaultFlow *Flow
	proxies     map[*apidef.Proxy]*proxyAction
	upDefaults  upstream.Defaults // side-call defaults from the FLAT_* variables
	debug       debugConfig       // FLAT_DEBUG, the Debug header, debug="…" tags
	validator   *oasvalidate.Validator
	validating  bool             // some operation validates requests or responses
	cors        *cors.Policy     // x-flat-cors (nil: off)
	jwt         *jwtauth.Checker // set when some operation has JWT requirements
	ldap        *ldapSettings    // conf/config.xml <ldap>
	upDefs      *upstreamDefs    // upstream definitions of side calls, compiled on first use
	// allowMocking is FLAT_ALLOW_MOCKING=true: "Mock: true" requests are
	// answered from the definition's examples.
	allowMocking bool

	env       *dom.Node
	server    *dom.Node
	envSet    expr.Value // $env as a boxed NodeSet, shared read-only by all runs
	serverSet expr.Value // $server, boxed likewise
	// envIndex finds $env's members by name (run.MemberNode); read-only.
	envIndex memberIndex
	// getLog: an expression of the project calls get-log(), which reads
	// the fields of <log> actions (logAction.quiet).
	getLog bool
}

// Name returns the project's name.
func (p *Project) Name() string { return p.name }

// Version is the definition's info.version ("" without one); the status
// API reports it.
func (p *Project) Version() string {
	if p.def == nil {
		return ""
	}
	return p.def.APIVersion
}

// Dir returns the project's directory.
func (p *Project) Dir() string { return p.dir }

// BasePath returns the API base path ("" for none).
func (p *Project) BasePath() string { return p.def.BasePath }

// Flows returns the relative paths of every compiled flow file, sorted.
func (p *Project) Flows() []string {
	out := make([]string, 0, len(p.flows))
	for _, f := range p.flows {
		out = append(out, f.File)
	}
	sort.Strings(out)
	return out
}

func (p *Project) logger() *slog.Logger {
	if p.opts.Logger != nil {
		return p.opts.Logger
	}
	return slog.Default()
}

// Load reads, validates and compiles the FLAT app in dir. It returns every
// diagnostic of the project; the project is nil when there is any.
func Load(dir string, opts Options) (*Project, diag.List) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, diag.List{diag.Errorf(dir, 0, 0, diag.MissingFile, "%v", err)}
	}
	def, errs := apidef.Load(abs)
	if def == nil {
		return nil, errs
	}
	if opts.Name == "" {
		opts.Name = filepath.Base(abs)
	}
	root, err := openRoot(abs)
	if err != nil {
		return nil, diag.List{diag.Errorf(dir, 0, 0, diag.MissingFile, "%v", err)}
	}
	p := &Project{
		name:    opts.Name,
		dir:     abs,
		root:    root,
		def:     def,
		opts:    opts,
		flows:   map[string]*Flow{},
		proxies: map[*apidef.Proxy]*proxyAction{},
		upDefs:  &upstreamDefs{},
	}
	c := &compiler{p: p, errs: errs}
	p.upDefaults, err = upstream.DefaultsFromEnv(getenvIn(opts.Env))
	if err != nil {
		c.errs.Addf(abs, 0, 0, diag.BadConfig, "environment: %v", err)
	}
	if err := p.loadDebugConfig(getenvIn(opts.Env)); err != nil {
		c.errs.Addf(abs, 0, 0, diag.BadConfig, "environment: %v", err)
	}
	for _, ref := range def.Flows() {
		c.flow(ref.Path, ref.At)
	}
	if def.Init != nil {
		p.init = p.flows[def.Init.Path]
	}
	if def.ErrorFlow != nil {
		p.errorFlow = p.flows[def.ErrorFlow.Path]
	}
	if def.DefaultFlow != nil {
		p.defaultFlow = p.flows[def.DefaultFlow.Path]
	}
	for _, px := range collectProxies(def) {
		pa := c.proxyConfig(px)
		if pa != nil {
			p.proxies[px] = pa
		}
	}
	p.compileValidation(c)
	p.compileCORS(c)
	p.compileLDAP(c)
	p.compileSecurity(c, getenvIn(opts.Env))
	p.allowMocking = getenvIn(opts.Env)("FLAT_ALLOW_MOCKING") == "true"
	c.checkCycles()
	p.env = envNode(opts.Env)
	p.server = serverNode(p.env)
	p.envSet, p.serverSet = expr.Value(expr.NodeSet{p.env}), expr.Value(expr.NodeSet{p.server})
	p.envIndex = indexMembers(p.env)
	if len(c.errs) > 0 {
		c.errs.Sort()
		return nil, c.errs
	}
	return p, nil
}

func collectProxies(def *apidef.Definition) []*apidef.Proxy {
	var out []*apidef.Proxy
	if def.FallbackProxy != nil {
		out = append(out, def.FallbackProxy)
	}
	for _, pth := range def.Paths {
		if pth.Proxy != nil {
			out = append(out, pth.Proxy)
		}
		for _, op := range pth.Ops {
			if op.Proxy != nil {
				out = append(out, op.Proxy)
			}
		}
	}
	return out
}

// getenvIn looks variables up in env ("K=V" pairs; nil: the process
// environment).
func getenvIn(env []string) func(string) string {
	if env == nil {
		return os.Getenv
	}
	return func(k string) string {
		for _, kv := range env {
			if name, v, ok := strings.Cut(kv, "="); ok && name == k {
				return v
			}
		}
		return ""
	}
}

func envNode(env []string) *dom.Node {
	if env == nil {
		env = os.Environ()
	}
	n := oxn.NewObject("env")
	seen := map[string]bool{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || seen[k] {
			continue
		}
		seen[k] = true
		oxn.AddMember(n, k, oxn.NewString(k, v))
	}
	return n
}

func serverNode(env *dom.Node) *dom.Node {
	role := "devel"
	for c := env.FirstChild; c != nil; c = c.NextSibling {
		if memberName(c) == "FLAT_SERVER_ROLE" {
			role = c.StringValue()
		}
	}
	n := oxn.NewObject("server")
	n.AppendChild(oxn.NewString("role", role))
	return n
}

// rel returns path relative to the project dir for messages.
func (p *Project) rel(path string) string {
	if r, err := filepath.Rel(p.dir, path); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return path
}
