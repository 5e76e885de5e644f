package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/cond"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"github.com/flowproc/flowproc/flowengine/store"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Options are what a bundle project is loaded with.
type Options struct {
	Name         string
	MaxBodyBytes int64
	Logger       *slog.Logger
	Limits       budget.Limits
	Upstream     upstream.Client
	// State holds counters, KV maps, caches and tokens (nil: the
	// process-wide memory stores, store.MemoryStores()).
	State *store.Stores
	// NoHealthProbes keeps HealthMonitors from probing (the bundle test
	// runner, whose targets are mocks): they are still checked at load,
	// and a server out of rotation then stays out.
	NoHealthProbes bool
}

// Project is a compiled Apigee bundle with its shared flows: immutable and
// safe for concurrent runs.
type Project struct {
	name, dir  string
	bundleName string
	revision   string // the manifest's revision attribute
	opts       Options
	dep        *Deployment
	prefix     string // bundle directory relative to dir, with a slash
	proxies    []*proxyEP
	targets    map[string]*targetEP
	shared     map[string]*SharedFlow
	hooks      map[string]*SharedFlow // flow hook name → shared flow
	basePaths  []string
	chained    map[string]*Project // by manifest name and folder name
	products   store.Products      // developers, apps, API products (deployment.yaml products:)
	nPolicies  int
	monitors   monitors // HealthMonitor probes (healthmonitor.go)
}

// SharedFlow is a compiled shared flow bundle's "default" flow.
type SharedFlow struct {
	Name  string
	steps []runtime.Step[*Run]
	ready bool
}

type flow struct {
	name     string
	cond     *cond.Expr
	req      []runtime.Step[*Run]
	resp     []runtime.Step[*Run]
	reqName  string // trace labels
	respName string
	label    string // outcome label "<endpoint>/<flow>"
}

type faultRule struct {
	name   string
	cond   *cond.Expr
	steps  []runtime.Step[*Run]
	always bool
	label  string
}

type endpoint struct {
	name        string
	pre, post   *flow
	flows       []*flow
	faultRules  []*faultRule
	defaultRule *faultRule
}

type proxyEP struct {
	endpoint
	basePath   string
	routes     []*route
	postClient []runtime.Step[*Run]
}

type route struct {
	name   string
	cond   *cond.Expr
	target *targetEP
	url    string
	u      *url.URL
}

type targetEP struct {
	endpoint
	url          string
	u            *url.URL
	path         string
	lb           *loadBalancer // nil without a LoadBalancer
	successCodes codeSet
	ioTimeout    string // io.timeout.millis, sent as x-envoy-upstream-rq-timeout-ms
	local        bool
	chain        *Project // the proxy a LocalTargetConnection runs
	chainPath    string   // its base path (or the connection's Path)
}

// condOf adapts a compiled Apigee condition to the runtime's Cond.
type condOf struct{ e *cond.Expr }

func (c condOf) Eval(r *Run) (bool, error) { return c.e.Eval(r) }
func (c condOf) Source() string            { return c.e.Source() }

// Load reads and compiles the project in dir: dir/apiproxy (or a bundle
// zip in dir), dir/sharedflows/*/sharedflowbundle and the deployment
// settings.
func Load(dir string, opts Options) (*Project, diag.List) {
	return load(dir, opts, nil, 0)
}

// maxChainDepth bounds proxies chained through LocalTargetConnection.
const maxChainDepth = 4

func load(dir string, opts Options, parentDep *Deployment, depth int) (*Project, diag.List) {
	var errs diag.List
	p := &Project{name: opts.Name, dir: dir, opts: opts, targets: map[string]*targetEP{}, shared: map[string]*SharedFlow{}, hooks: map[string]*SharedFlow{}}
	if p.name == "" {
		p.name = strings.TrimSuffix(filepath.Base(dir), ".zip")
	}
	if p.opts.Logger == nil {
		p.opts.Logger = slog.Default()
	}
	if p.opts.Upstream == nil {
		p.opts.Upstream = upstream.Shared()
	}
	if p.opts.State == nil {
		p.opts.State = store.MemoryStores()
	}
	dep := parentDep
	if dep == nil {
		var err error
		depDir := dir
		if st, err := os.Stat(dir); err == nil && !st.IsDir() {
			depDir = filepath.Dir(dir) // a bundle zip: the settings sit beside it
		}
		dep, err = LoadDeployment(filepath.Join(depDir, DeploymentFile))
		if err != nil {
			errs.Addf(DeploymentFile, 0, 0, diag.APBadDeployment, "%v", err)
			return nil, errs
		}
	}
	p.dep = dep
	if dep.Products != "" && parentDep == nil {
		pdir := dep.Products
		if !filepath.IsAbs(pdir) {
			pdir = filepath.Join(dir, pdir)
		}
		prods, err := store.LoadFileProducts(context.Background(), pdir, store.FileOptions{Org: dep.Organization, KV: p.opts.State.KV})
		if err != nil {
			code := diag.APBadDeployment
			if errors.Is(err, store.ErrNoKVMKey) {
				code = diag.APNoKVMKey
			}
			errs.Addf(DeploymentFile, 0, 0, code, "products: %v", err)
			return nil, errs
		}
		p.products = prods
	}
	// Proxies this one chains to (LocalTargetConnection) live in
	// chained-proxies/<name>/apiproxy and run in-process.
	if depth < maxChainDepth {
		chained, _ := filepath.Glob(filepath.Join(dir, "chained-proxies", "*"))
		for _, cd := range chained {
			if st, err := os.Stat(filepath.Join(cd, "apiproxy")); err != nil || !st.IsDir() {
				continue
			}
			sub, serrs := load(cd, Options{Name: filepath.Base(cd), MaxBodyBytes: opts.MaxBodyBytes, Logger: opts.Logger, Limits: opts.Limits, Upstream: opts.Upstream, State: p.opts.State, NoHealthProbes: opts.NoHealthProbes}, dep, depth+1)
			if sub != nil {
				sub.products = p.products
			}
			rel, _ := filepath.Rel(dir, cd)
			errs = append(errs, prefixed(filepath.ToSlash(rel)+"/", serrs)...)
			if sub != nil {
				if p.chained == nil {
					p.chained = map[string]*Project{}
				}
				p.chained[sub.bundleName] = sub
				p.chained[filepath.Base(cd)] = sub
			}
		}
	}
	src, closeFn, derr := openBundle(dir)
	if derr != nil {
		return nil, diag.List{derr}
	}
	if closeFn != nil {
		defer closeFn()
	}
	sharedDirs, _ := filepath.Glob(filepath.Join(dir, "sharedflows", "*", "sharedflowbundle"))
	if st, err := os.Stat(filepath.Join(dir, "sharedflows")); err == nil && st.IsDir() && len(sharedDirs) == 0 {
		if _, err := os.Stat(filepath.Join(dir, "sharedflows", "default.xml")); err == nil {
			sharedDirs = []string{dir} // dir is a sharedflowbundle folder itself
		}
	}
	sharedBundles := map[string]*bundle.Bundle{}
	sharedPrefix := map[string]string{}
	sharedAlias := map[string]string{} // manifest name → folder name
	for _, sd := range sharedDirs {
		sb, serrs := bundle.LoadShared(os.DirFS(sd))
		rel, _ := filepath.Rel(dir, sd)
		prefix := filepath.ToSlash(rel) + "/"
		if rel == "." {
			prefix = ""
		}
		errs = append(errs, prefixed(prefix, serrs)...)
		// A shared flow is called by the name it is deployed under: its
		// folder's name (samples deploy it so) or its manifest's name
		// (which samples sometimes leave copied from another bundle).
		name := filepath.Base(filepath.Dir(sd))
		if sd == dir {
			name = filepath.Base(dir)
		}
		sharedBundles[name], sharedPrefix[name] = sb, prefix
		if sb.Name != "" && sb.Name != name && sharedBundles[sb.Name] == nil {
			sharedAlias[sb.Name] = name
		}
	}
	if src.fs == nil && len(sharedBundles) == 0 {
		errs.Addf(".", 0, 0, diag.APNoBundle, "no apiproxy/ directory, bundle zip or sharedflows/*/sharedflowbundle in the project")
		return nil, errs
	}
	// Shared flows compile on first use (a shared flow may call another);
	// compileShared detects cycles.
	compiling := map[string]bool{}
	var compileShared func(name string) *SharedFlow
	compileShared = func(name string) *SharedFlow {
		if folder, ok := sharedAlias[name]; ok {
			name = folder
		}
		if sf := p.shared[name]; sf != nil {
			return sf
		}
		sb := sharedBundles[name]
		if sb == nil || compiling[name] || sb.SharedFlows["default"] == nil {
			return nil
		}
		compiling[name] = true
		c := &Compiler{Bundle: sb, Prefix: sharedPrefix[name], Upstream: p.opts.Upstream, Deployment: dep, Project: p, errs: &errs, shared: compileShared}
		sf := &SharedFlow{Name: name}
		pols := c.compilePolicies()
		sf.steps = c.steps(sb.SharedFlows["default"].File, sb.SharedFlows["default"].Steps, pols)
		sf.ready = true
		p.shared[name] = sf
		return sf
	}
	names := make([]string, 0, len(sharedBundles))
	for n := range sharedBundles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		compileShared(n)
	}
	for hook, sfName := range dep.FlowHooks {
		switch hook {
		case "PreProxyFlowHook", "PostProxyFlowHook", "PreTargetFlowHook", "PostTargetFlowHook":
		default:
			errs.Addf(DeploymentFile, 0, 0, diag.APBadDeployment, "unknown flow hook %q (want PreProxyFlowHook, PostProxyFlowHook, PreTargetFlowHook or PostTargetFlowHook)", hook)
			continue
		}
		sf := compileShared(sfName)
		if sf == nil {
			errs.Addf(DeploymentFile, 0, 0, diag.APMissingFlow, "flow hook %s names shared flow %q, which is not in sharedflows/", hook, sfName)
			continue
		}
		p.hooks[hook] = sf
	}
	if src.fs != nil {
		b, berrs := bundle.Load(src.fs)
		errs = append(errs, prefixed(src.prefix, berrs)...)
		if len(berrs) == 0 {
			p.prefix = src.prefix
			p.bundleName, p.revision = b.Name, b.Revision
			c := &Compiler{Bundle: b, Prefix: src.prefix, Upstream: p.opts.Upstream, Deployment: dep, Project: p, errs: &errs, shared: compileShared}
			c.compileProxy(p, b)
		}
	}
	if p.bundleName == "" {
		p.bundleName = p.name
	}
	errs.Sort()
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

type bundleSource struct {
	fs     fsFS
	prefix string
}

// openBundle finds the proxy bundle of dir: dir/apiproxy, or a single
// *.zip whose entries start with apiproxy/.
func openBundle(dir string) (bundleSource, func() error, *diag.Error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return openZip(dir, filepath.Base(dir))
	}
	if st, err := os.Stat(filepath.Join(dir, "apiproxy")); err == nil && st.IsDir() {
		return bundleSource{fs: os.DirFS(filepath.Join(dir, "apiproxy")), prefix: "apiproxy/"}, nil, nil
	}
	if st, err := os.Stat(filepath.Join(dir, "proxies")); err == nil && st.IsDir() {
		// dir is an apiproxy folder itself.
		return bundleSource{fs: os.DirFS(dir)}, nil, nil
	}
	zips, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
	if len(zips) == 0 {
		return bundleSource{}, nil, nil
	}
	if len(zips) > 1 {
		return bundleSource{}, nil, diag.Errorf(".", 0, 0, diag.APBadZip, "more than one bundle zip in the project; keep one")
	}
	return openZip(zips[0], filepath.Base(zips[0]))
}

// openZip opens a bundle zip; its entries must sit under apiproxy/.
func openZip(file, name string) (bundleSource, func() error, *diag.Error) {
	zfs, closeFn, err := bundle.OpenZip(file)
	if err != nil {
		return bundleSource{}, nil, diag.Errorf(name, 0, 0, diag.APBadZip, "%v", err)
	}
	sub, err := subFS(zfs, "apiproxy")
	if err != nil {
		closeFn()
		return bundleSource{}, nil, diag.Errorf(name, 0, 0, diag.APBadZip, "zip has no apiproxy/ folder")
	}
	return bundleSource{fs: sub, prefix: name + "!/apiproxy/"}, closeFn, nil
}

func prefixed(prefix string, errs diag.List) diag.List {
	for _, e := range errs {
		e.File = path.Join(prefix, e.File)
	}
	return errs
}

func (c *Compiler) compilePolicies() map[string]*compiledPolicy {
	out := map[string]*compiledPolicy{}
	names := make([]string, 0, len(c.Bundle.Policies))
	for n := range c.Bundle.Policies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if cp := c.compilePolicy(c.Bundle.Policies[n]); cp != nil {
			out[n] = cp
		}
	}
	return out
}

// steps compiles Step references of file into runtime steps.
func (c *Compiler) steps(file string, in []bundle.Step, pols map[string]*compiledPolicy) []runtime.Step[*Run] {
	out := make([]runtime.Step[*Run], 0, len(in))
	c.file = file
	for _, s := range in {
		cp := pols[s.Policy]
		if cp == nil {
			continue // reported by the bundle loader or the policy compiler
		}
		st := runtime.Step[*Run]{Name: s.Policy, Type: cp.typ, At: runtime.Pos{File: c.Prefix + file, Line: s.Line, Col: s.Col}, Act: policyStep{cp}}
		if s.Condition != "" {
			c.file = file
			if e := c.Cond(&bundle.Node{Line: s.Line, Col: s.Col}, s.Condition); e != nil {
				st.Cond = condOf{e}
			}
		}
		out = append(out, st)
	}
	return out
}

func (c *Compiler) flow(file, endpoint string, f *bundle.Flow, pols map[string]*compiledPolicy) *flow {
	if f == nil {
		return nil
	}
	out := &flow{name: f.Name}
	if f.Condition != "" {
		c.file = file
		out.cond = c.Cond(&bundle.Node{}, f.Condition)
	}
	out.req = c.steps(file, f.Request, pols)
	out.resp = c.steps(file, f.Response, pols)
	out.reqName = endpoint + " " + f.Name + " request"
	out.respName = endpoint + " " + f.Name + " response"
	_, epName, _ := strings.Cut(endpoint, " ")
	out.label = epName + "/" + f.Name
	return out
}

func (c *Compiler) endpoint(file, label string, ef *bundle.EndpointFlows, pols map[string]*compiledPolicy) endpoint {
	ep := endpoint{pre: c.flow(file, label, ef.PreFlow, pols), post: c.flow(file, label, ef.PostFlow, pols)}
	for _, f := range ef.Flows {
		if f.Name == "" {
			f.Name = "unnamed"
		}
		ep.flows = append(ep.flows, c.flow(file, label, f, pols))
	}
	fr := func(r *bundle.FaultRule) *faultRule {
		out := &faultRule{name: r.Name, always: r.AlwaysEnforce, steps: c.steps(file, r.Steps, pols), label: label + " FaultRule " + r.Name}
		if r.Condition != "" {
			c.file = file
			out.cond = c.Cond(&bundle.Node{Line: r.Line, Col: r.Col}, r.Condition)
		}
		return out
	}
	for _, r := range ef.FaultRules {
		ep.faultRules = append(ep.faultRules, fr(r))
	}
	if def := ef.DefaultFaultRule; def != nil {
		ep.defaultRule = fr(def)
		ep.defaultRule.label = label + " DefaultFaultRule"
	}
	return ep
}

func (c *Compiler) compileProxy(p *Project, b *bundle.Bundle) {
	pols := c.compilePolicies()
	p.nPolicies = len(b.Policies)
	for name, te := range b.Targets {
		t := &targetEP{endpoint: c.endpoint(te.File, "target "+name, &te.EndpointFlows, pols)}
		t.name = name
		t.url, t.path = te.URL, te.Path
		if u, ok := c.Deployment.TargetURLs[name]; ok {
			t.url = u
		}
		c.file = te.File
		if t.url != "" {
			u, err := parseTargetURL(t.url)
			if err != nil {
				c.Errorf(&bundle.Node{Line: te.Line, Col: te.Col}, diag.APBadPolicy, "TargetEndpoint %q URL: %v", name, err)
			}
			t.u = u
		}
		if len(te.Servers) > 0 {
			t.lb = newLoadBalancer(te.Algorithm)
		}
		for _, s := range te.Servers {
			ts, ok := c.Deployment.TargetServers[s.Name]
			if !ok {
				c.Errorf(&bundle.Node{Line: s.Line, Col: s.Col}, diag.APBadDeployment, "LoadBalancer Server %q is not a TargetServer in %s", s.Name, DeploymentFile)
				continue
			}
			if ts.Enabled != nil && !*ts.Enabled {
				continue
			}
			u, err := parseTargetURL(ts.URL() + te.Path)
			if err != nil {
				c.Errorf(&bundle.Node{Line: s.Line, Col: s.Col}, diag.APBadDeployment, "TargetServer %q with Path %q: %v", s.Name, te.Path, err)
				continue
			}
			t.lb.add(&lbServer{name: s.Name, url: ts.URL(), u: u, weight: s.Weight, fallback: s.IsFallback})
		}
		if t.lb != nil {
			c.file = te.File
			c.compileFailover(p, t, te)
		}
		codes := "1xx,2xx,3xx"
		if v, ok := te.Properties["success.codes"]; ok {
			codes = v
		}
		sc, err := parseCodeSet(codes)
		if err != nil {
			c.Errorf(&bundle.Node{Line: te.Line, Col: te.Col}, diag.APBadPolicy, "success.codes %q: %v", codes, err)
		}
		t.successCodes = sc
		c.file = te.File
		c.targetProperties(t, te)
		if te.SSLInfo != nil {
			c.targetSSLInfo(te.SSLInfo)
		}
		if te.Local {
			t.local = true
			c.file = te.File
			c.linkLocal(p, t, te)
		}
		if te.Auth != nil {
			c.Errorf(te.Auth, diag.APUnknownElement, "<Authentication> (Google tokens, Apigee X) is not supported")
		}
		p.targets[name] = t
	}
	for _, pe := range b.Proxies {
		x := &proxyEP{endpoint: c.endpoint(pe.File, "proxy "+pe.Name, &pe.EndpointFlows, pols)}
		x.name = pe.Name
		x.basePath = strings.TrimSuffix(pe.BasePath, "/")
		if pe.PostClientFlow != nil {
			if len(pe.PostClientFlow.Request) > 0 {
				c.file = pe.File
				c.Errorf(&bundle.Node{Line: pe.PostClientFlow.Request[0].Line, Col: pe.PostClientFlow.Request[0].Col}, diag.APUnknownElement, "PostClientFlow has only a <Response>")
			}
			x.postClient = c.steps(pe.File, pe.PostClientFlow.Response, pols)
		}
		for _, rr := range pe.RouteRules {
			rt := &route{name: rr.Name, url: rr.URL, target: p.targets[rr.TargetEndpoint]}
			if rr.Condition != "" {
				c.file = pe.File
				rt.cond = c.Cond(&bundle.Node{Line: rr.Line, Col: rr.Col}, rr.Condition)
			}
			if rr.URL != "" {
				u, err := parseTargetURL(rr.URL)
				if err != nil {
					c.file = pe.File
					c.Errorf(&bundle.Node{Line: rr.Line, Col: rr.Col}, diag.APBadRoute, "RouteRule %q URL: %v", rr.Name, err)
				}
				rt.u = u
			}
			x.routes = append(x.routes, rt)
		}
		p.proxies = append(p.proxies, x)
		p.basePaths = append(p.basePaths, x.basePath)
	}
	// The longest base path wins.
	sort.SliceStable(p.proxies, func(i, j int) bool { return len(p.proxies[i].basePath) > len(p.proxies[j].basePath) })
	for i, bp := range p.basePaths {
		if bp == "" {
			p.basePaths[i] = "/"
		}
	}
}

// Target properties Envoy takes care of by itself (connection handling on
// its cluster, streaming, which Envoy always does): accepted without
// effect on flowproc. Any other property is refused, since Apigee would act
// on it.
var envoyTargetProperties = map[string]bool{
	"connect.timeout.millis": true, "keepalive.timeout.millis": true,
	"request.streaming.enabled": true, "response.streaming.enabled": true,
	"supports.http10": true, "supports.http11": true, "use.proxy": true,
}

// targetProperties checks a TargetEndpoint's Properties: success.codes
// (read by the caller), io.timeout.millis (Envoy's route timeout for this
// request, through x-envoy-upstream-rq-timeout-ms), the ones Envoy's
// cluster handles, and nothing else.
func (c *Compiler) targetProperties(t *targetEP, te *bundle.TargetEndpoint) {
	at := &bundle.Node{Line: te.Line, Col: te.Col}
	names := make([]string, 0, len(te.Properties))
	for k := range te.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := strings.TrimSpace(te.Properties[k])
		switch {
		case k == "success.codes":
		case k == "io.timeout.millis":
			if n, err := strconv.ParseUint(v, 10, 31); err != nil || n == 0 {
				c.Errorf(at, diag.APBadPolicy, "TargetEndpoint %q: io.timeout.millis %q is not a positive number of milliseconds", te.Name, v)
			}
			t.ioTimeout = v
		case envoyTargetProperties[k]:
		default:
			c.Errorf(at, diag.APUnknownElement, "TargetEndpoint %q: property %q is not supported (flowproc honours success.codes and io.timeout.millis; connection settings belong to Envoy's cluster)", te.Name, k)
		}
	}
}

// targetSSLInfo accepts an SSLInfo that only says TLS is on or off (the
// target URL's scheme decides it here; Envoy's origin_https cluster
// verifies the server). Trust stores, client certificates and skipped
// validation are Envoy cluster settings flowproc cannot apply per target:
// refused rather than silently dropped.
func (c *Compiler) targetSSLInfo(n *bundle.Node) {
	for _, ch := range n.Children {
		switch ch.Name {
		case "Enabled":
			c.Bool(ch, ch.Text, false)
		case "IgnoreValidationErrors", "ClientAuthEnabled":
			if c.Bool(ch, ch.Text, false) {
				c.Errorf(ch, diag.APUnknownElement, "SSLInfo <%s>true</%s> cannot be honoured per target; configure TLS for this upstream on Envoy's cluster", ch.Name, ch.Name)
			}
		default:
			c.Errorf(ch, diag.APUnknownElement, "SSLInfo <%s> cannot be honoured per target; configure TLS for this upstream on Envoy's cluster", ch.Name)
		}
	}
}

// linkLocal resolves a LocalTargetConnection to a chained proxy of the
// project: by APIProxy (and ProxyEndpoint) name, or by Path against the
// chained proxies' base paths.
func (c *Compiler) linkLocal(p *Project, t *targetEP, te *bundle.TargetEndpoint) {
	at := &bundle.Node{Line: te.Line, Col: te.Col}
	if te.LocalAPIProxy != "" {
		sub := p.chained[te.LocalAPIProxy]
		if sub == nil {
			c.Errorf(at, diag.APMissingTarget, "LocalTargetConnection names API proxy %q; put it in chained-proxies/%s/apiproxy", te.LocalAPIProxy, te.LocalAPIProxy)
			return
		}
		t.chain = sub
		for _, ep := range sub.proxies {
			if te.LocalProxyEndpoint == "" && ep.name == "default" || ep.name == te.LocalProxyEndpoint {
				t.chainPath = ep.basePath
				return
			}
		}
		if te.LocalProxyEndpoint == "" && len(sub.proxies) > 0 {
			t.chainPath = sub.proxies[0].basePath
			return
		}
		c.Errorf(at, diag.APMissingTarget, "LocalTargetConnection names ProxyEndpoint %q, which API proxy %q does not have", te.LocalProxyEndpoint, te.LocalAPIProxy)
		t.chain = nil
		return
	}
	for _, sub := range p.chained {
		if sub.endpointFor(te.LocalPath) != nil {
			t.chain, t.chainPath = sub, strings.TrimSuffix(te.LocalPath, "/")
			return
		}
	}
	c.Errorf(at, diag.APMissingTarget, "LocalTargetConnection Path %q matches no proxy in chained-proxies/", te.LocalPath)
}

// SharedFlow returns the compiled shared flow named name (a shared flow
// bundle of the project), reporting AP203 at n when there is none.
func (c *Compiler) SharedFlow(n *bundle.Node, name string) *SharedFlow {
	if c.shared != nil {
		if sf := c.shared(name); sf != nil {
			return sf
		}
	}
	c.Errorf(n, diag.APMissingFlow, "shared flow %q is not in the project's sharedflows/ (or calls itself)", name)
	return nil
}

// codeSet is a success.codes list: classes ("2xx") and single codes.
type codeSet struct {
	classes [6]bool
	codes   []int
}

func (s codeSet) has(code int) bool {
	if code >= 100 && code < 600 && s.classes[code/100] {
		return true
	}
	for _, c := range s.codes {
		if c == code {
			return true
		}
	}
	return false
}

func parseCodeSet(src string) (codeSet, error) {
	var s codeSet
	for _, part := range strings.Split(src, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if len(part) == 3 && part[1] == 'x' && part[2] == 'x' && part[0] >= '1' && part[0] <= '5' {
			s.classes[part[0]-'0'] = true
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 100 || n > 599 {
			return s, fmt.Errorf("%q is neither a status class (2xx) nor a status code", part)
		}
		s.codes = append(s.codes, n)
	}
	return s, nil
}
