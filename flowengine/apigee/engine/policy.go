package engine

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/cond"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Policy is one compiled policy. Execute runs it against the exchange; a
// *Fault (or any error, which becomes an ExecutionFailed fault) sends the
// run to the error flow unless the policy has continueOnError="true".
type Policy interface {
	Execute(r *Run) error
}

// Factory compiles one policy element. It reports every problem through c
// (c.Errorf) and returns nil when the policy cannot run.
type Factory func(c *Compiler, p *bundle.Policy) Policy

// Kind describes a policy type.
type Kind struct {
	// Type is the root element ("AssignMessage", "Javascript").
	Type string
	// Prefix names the type in fault codes ("steps.<Prefix>.<fault>")
	// and in the "<Prefix>.<policy>.failed" variable
	// ("assignmessage").
	Prefix string
	// FailedPrefix, when set, replaces Prefix in the
	// "<FailedPrefix>.<policy>.failed" variable (AccessControl's is
	// "acl").
	FailedPrefix string
	// New compiles a policy of this type.
	New Factory
	// Recyclable says that Execute keeps nothing of the run once it
	// returns: no reference to the Run, its messages or their header
	// slices and content in a cache, store, goroutine or hook. A run whose
	// executed policies are all recyclable hands its memory back for a
	// later exchange (flowengine.Outcome.Recycle); any other policy keeps
	// its run out of the pool. Types opt in after their code was checked.
	Recyclable bool
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{}
)

// Register adds a policy type. Registering a type twice panics.
func Register(k Kind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[k.Type]; dup {
		panic("apigee/engine: policy type " + k.Type + " registered twice")
	}
	kinds[k.Type] = k
}

// KindOf returns the registered kind of a policy type.
func KindOf(typ string) (Kind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	k, ok := kinds[typ]
	return k, ok
}

// Types returns the registered policy types, sorted.
func Types() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]string, 0, len(kinds))
	for t := range kinds {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Compiler is what a Factory gets: the bundle's files and helpers that
// compile conditions and templates and report positioned errors.
type Compiler struct {
	// Bundle is the bundle (or shared flow bundle) the policy is in.
	Bundle *bundle.Bundle
	// Prefix is prepended to file names in diagnostics (the bundle's
	// directory relative to the project, e.g. "apiproxy/").
	Prefix string
	// Upstream makes side calls (ServiceCallout, MessageLogging sinks).
	Upstream upstream.Client
	// Deployment is the project's deployment settings.
	Deployment *Deployment
	// Project is the project being compiled (shared flows, chained
	// proxies); valid at run time only, after the load finished.
	Project *Project

	file   string
	errs   *diag.List
	shared func(name string) *SharedFlow
}

// Errorf reports a problem at n (nil: the policy file).
func (c *Compiler) Errorf(n *bundle.Node, code diag.Code, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Col
	}
	c.errs.Addf(c.Prefix+c.file, line, col, code, format, args...)
}

// Template compiles a message template found in n ("{var}" syntax).
// Errors are reported; the result is nil when it does not compile.
func (c *Compiler) Template(n *bundle.Node, src string) *msgtemplate.Template {
	return c.TemplateDelims(n, src, '{', '}')
}

// TemplateDelims compiles a template with other variable delimiters
// (Payload variablePrefix/variableSuffix).
func (c *Compiler) TemplateDelims(n *bundle.Node, src string, prefix, suffix byte) *msgtemplate.Template {
	t, err := msgtemplate.Parse(src, prefix, suffix)
	if err != nil {
		c.Errorf(n, diag.APTemplateSyntax, "message template %q: %v", src, err)
		return nil
	}
	return t
}

// Cond compiles a condition found in n.
func (c *Compiler) Cond(n *bundle.Node, src string) *cond.Expr {
	e, err := cond.Parse(src)
	if err != nil {
		c.Errorf(n, diag.APConditionSyntax, "condition %q: %v", src, err)
		return nil
	}
	return e
}

// Resource reads a resource by its URL ("jsc://main.js", "xsl://t.xsl",
// "oas://spec.yaml"): resources/<scheme dir>/<file> of the bundle. A
// missing resource is reported (AP204) and ok is false.
func (c *Compiler) Resource(n *bundle.Node, ref string) ([]byte, bool) {
	scheme, file, ok := strings.Cut(strings.TrimSpace(ref), "://")
	if !ok || file == "" || strings.Contains(file, "/") || strings.Contains(file, `\`) || file == "." || file == ".." {
		c.Errorf(n, diag.APMissingResource, "resource URL %q: want <type>://<file>", ref)
		return nil, false
	}
	dirs := map[string][]string{
		"jsc": {"jsc"}, "xsl": {"xsl"}, "oas": {"oas", "openapi"}, "wsdl": {"wsdl"}, "xsd": {"xsd"},
		"py": {"py"}, "java": {"java"}, "properties": {"properties"}, "graphql": {"graphql"},
	}[scheme]
	if dirs == nil {
		c.Errorf(n, diag.APMissingResource, "resource URL %q: unknown resource type %q", ref, scheme)
		return nil, false
	}
	for _, d := range dirs {
		b, err := fs.ReadFile(c.Bundle.FS, path.Join("resources", d, file))
		if err == nil {
			return b, true
		}
	}
	c.Errorf(n, diag.APMissingResource, "resource %q not found in resources/%s/", ref, dirs[0])
	return nil, false
}

// Unknown reports each child of n whose name is not in allowed (AP103).
func (c *Compiler) Unknown(n *bundle.Node, allowed ...string) {
next:
	for _, ch := range n.Children {
		for _, a := range allowed {
			if ch.Name == a {
				continue next
			}
		}
		c.Errorf(ch, diag.APUnknownElement, "unknown element <%s> in <%s>", ch.Name, n.Name)
	}
}

// Bool reads a true/false element or attribute value; anything else is
// reported.
func (c *Compiler) Bool(n *bundle.Node, s string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def
	case "true":
		return true
	case "false":
		return false
	}
	c.Errorf(n, diag.APBadPolicy, "%q is not true or false", s)
	return def
}

// compiledPolicy is a policy ready to run with its common attributes.
type compiledPolicy struct {
	name, typ       string
	impl            Policy
	enabled         bool
	continueOnError bool
	failedVar       string
	prefix          string
	recyclable      bool // Kind.Recyclable
}

func (c *Compiler) compilePolicy(p *bundle.Policy) *compiledPolicy {
	k, ok := KindOf(p.Type)
	c.file = p.File
	if !ok {
		c.Errorf(p.Root, diag.APUnsupportedPolicy, "unsupported policy type %s (flowproc runs: %s)", p.Type, strings.Join(Types(), ", "))
		return nil
	}
	before := len(*c.errs)
	impl := k.New(c, p)
	if impl == nil || len(*c.errs) > before {
		if impl == nil && len(*c.errs) == before {
			panic(fmt.Sprintf("apigee/engine: %s factory returned nil without an error", p.Type))
		}
		return nil
	}
	fp := k.Prefix
	if k.FailedPrefix != "" {
		fp = k.FailedPrefix
	}
	return &compiledPolicy{name: p.Name, typ: p.Type, impl: impl, enabled: p.Enabled, continueOnError: p.ContinueOnError,
		failedVar: fp + "." + p.Name + ".failed", prefix: k.Prefix, recyclable: k.Recyclable}
}
