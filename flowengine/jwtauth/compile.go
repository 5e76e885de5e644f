package jwtauth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Defaults of Options.
const (
	// DefaultLeeway is the clock skew allowed for exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// DefaultMaxTokenBytes bounds a token's length.
	DefaultMaxTokenBytes = 8 << 10
)

// Options configure Compile. The zero value reads the process
// environment, files of the project directory and the real clock, and
// allows no jwks keys.
type Options struct {
	// LookupEnv resolves {env: VAR}; nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// ReadFile reads {file: path} values and checks post-check-flow files.
	// It receives a cleaned absolute path (relative names are resolved
	// against the definition's directory) and must refuse paths outside
	// the project. nil means a reader confined to Definition.Dir through
	// os.Root, which also refuses symbolic links leaving it.
	ReadFile func(path string) ([]byte, error)
	// Client fetches {jwks: URL} key sets; nil makes such keys a load
	// error.
	Client upstream.Client
	// Now is the clock for exp, nbf, iat and the key set cache; nil means
	// time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed for exp, nbf and iat; 0 means
	// DefaultLeeway, a negative value none.
	Leeway time.Duration
	// MaxTokenBytes bounds a token's length; 0 means DefaultMaxTokenBytes.
	MaxTokenBytes int
	// JWKSMaxAge and JWKSTimeout are the defaults of a jwks key's max-age
	// and timeout; 0 means DefaultJWKSMaxAge and DefaultJWKSTimeout.
	JWKSMaxAge, JWKSTimeout time.Duration
}

// Checker checks the JWT requirements of one definition.
type Checker struct {
	schemes  map[string]*scheme
	ops      map[*apidef.Operation]Requirements
	paths    map[*apidef.Path]Requirements
	maxToken int
}

// Requirements are the compiled security requirements of one operation:
// alternatives, each a list of schemes that must all pass. The zero value
// requires nothing.
type Requirements struct {
	alts [][]need
}

// need is one scheme of a requirement with its required scopes.
type need struct {
	s      *scheme
	scopes []string
}

// Empty reports whether nothing is required: no JWT check runs.
func (r Requirements) Empty() bool { return len(r.alts) == 0 }

// String describes the requirements, e.g. "JWTHeader[read] | JWTCookie".
func (r Requirements) String() string {
	var alts []string
	for _, alt := range r.alts {
		var parts []string
		for _, n := range alt {
			p := n.s.name
			if len(n.scopes) > 0 {
				p += "[" + strings.Join(n.scopes, " ") + "]"
			}
			parts = append(parts, p)
		}
		alts = append(alts, strings.Join(parts, " & "))
	}
	return strings.Join(alts, " | ")
}

// compiler holds the state of one Compile.
type compiler struct {
	d           *apidef.Definition
	res         *resolver
	client      upstream.Client
	now         func() time.Time
	leeway      time.Duration
	jwksMaxAge  time.Duration
	jwksTimeout time.Duration
	errs        diag.List
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs.Addf(c.d.File, 0, 0, diag.BadExtension, format, args...)
}

func (c *compiler) notEnforced(name, format string, args ...any) *scheme {
	c.errs.Addf(c.d.File, 0, 0, diag.NotEnforced, "security scheme %s: %s", name, fmt.Sprintf(format, args...))
	return nil
}

// Compile reads the JWT security of d: every security scheme with
// x-flat-jwt and the requirements of every path and operation. Any error
// means the definition must not be served (the returned Checker is nil).
func Compile(d *apidef.Definition, opts Options) (*Checker, diag.List) {
	if d == nil || d.Doc == nil {
		var errs diag.List
		file := ""
		if d != nil {
			file = d.File
		}
		errs.Addf(file, 0, 0, diag.BadDefinition, "JWT security: the definition did not load")
		return nil, errs
	}
	c := &compiler{d: d, client: opts.Client, now: opts.Now, leeway: opts.Leeway,
		jwksMaxAge: opts.JWKSMaxAge, jwksTimeout: opts.JWKSTimeout}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case c.leeway == 0:
		c.leeway = DefaultLeeway
	case c.leeway < 0:
		c.leeway = 0
	}
	if c.jwksMaxAge <= 0 {
		c.jwksMaxAge = DefaultJWKSMaxAge
	}
	if c.jwksTimeout <= 0 {
		c.jwksTimeout = DefaultJWKSTimeout
	}
	c.res = &resolver{dir: filepath.Dir(d.File), lookupEnv: opts.LookupEnv, readFile: opts.ReadFile}
	if c.res.lookupEnv == nil {
		c.res.lookupEnv = os.LookupEnv
	}
	if c.res.readFile == nil {
		c.res.readFile = projectReader(d.Dir)
	}
	ck := &Checker{schemes: map[string]*scheme{}, ops: map[*apidef.Operation]Requirements{},
		paths: map[*apidef.Path]Requirements{}, maxToken: opts.MaxTokenBytes}
	if ck.maxToken <= 0 {
		ck.maxToken = DefaultMaxTokenBytes
	}

	known := map[string]bool{}
	if d.Doc.Components != nil {
		names := make([]string, 0, len(d.Doc.Components.SecuritySchemes))
		for n := range d.Doc.Components.SecuritySchemes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ref := d.Doc.Components.SecuritySchemes[n]
			known[n] = true
			if ref == nil || ref.Value == nil {
				continue
			}
			ext, has := ref.Value.Extensions["x-flat-jwt"]
			if !has {
				if _, cn := ref.Value.Extensions["x-flat-cookiename"]; cn {
					c.errorf("security scheme %s: x-flat-cookiename without x-flat-jwt has no effect; add x-flat-jwt or remove it", n)
				}
				continue
			}
			if s := c.compileScheme(n, ref.Value, ext); s != nil {
				ck.schemes[n] = s
			}
		}
	}

	top := c.requirements("the top-level security", d.Doc.Security, ck.schemes, known)
	for _, p := range d.Paths {
		def := top
		if p.Security != nil {
			def = c.requirements(fmt.Sprintf("the security of path %s", p.Pattern), toKin(p.Security), ck.schemes, known)
		}
		ck.paths[p] = def
		var item *openapi3.PathItem
		if d.Doc.Paths != nil {
			item = d.Doc.Paths.Value(p.Pattern)
		}
		for _, op := range p.Ops {
			var kop *openapi3.Operation
			if item != nil {
				kop = item.GetOperation(op.Method)
			}
			if kop == nil {
				// Fail closed: an operation's own security must never be
				// lost to a weaker default.
				c.errs.Addf(op.At.File, op.At.Line, op.At.Col, diag.BadDefinition, "JWT security: %s %s is missing from the parsed definition", op.Method, p.Pattern)
				continue
			}
			r := def
			if kop.Security != nil {
				r = c.requirements(fmt.Sprintf("the security of %s %s", op.Method, p.Pattern), *kop.Security, ck.schemes, known)
			}
			ck.ops[op] = r
		}
	}
	if len(c.errs) > 0 {
		c.errs.Sort()
		return nil, c.errs
	}
	return ck, nil
}

// requirements compiles one security list; only schemes with x-flat-jwt
// are kept.
func (c *compiler) requirements(where string, list openapi3.SecurityRequirements, schemes map[string]*scheme, known map[string]bool) Requirements {
	var r Requirements
	for _, req := range list {
		names := make([]string, 0, len(req))
		for n := range req {
			names = append(names, n)
		}
		sort.Strings(names)
		var alt []need
		for _, n := range names {
			if !known[n] {
				c.errs.Addf(c.d.File, 0, 0, diag.BadDefinition, "%s names the unknown security scheme %s", where, n)
				continue
			}
			if s := schemes[n]; s != nil {
				alt = append(alt, need{s: s, scopes: req[n]})
			}
		}
		if len(alt) > 0 {
			r.alts = append(r.alts, alt)
		}
	}
	return r
}

// toKin converts apidef's path-level security.
func toKin(s *apidef.Security) openapi3.SecurityRequirements {
	out := make(openapi3.SecurityRequirements, 0, len(s.Requirements))
	for _, r := range s.Requirements {
		out = append(out, openapi3.SecurityRequirement(r))
	}
	return out
}

// errOutside is returned by the default reader for paths outside the
// project.
var errOutside = errors.New("outside the project directory")

// projectReader reads files inside dir only (also not through symbolic
// links leaving it).
func projectReader(dir string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		rel, err := filepath.Rel(dir, p)
		if err != nil || !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("%s: %w", p, errOutside)
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			return nil, fmt.Errorf("open project: %w", err)
		}
		defer root.Close()
		b, err := root.ReadFile(rel)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", rel, err)
		}
		return b, nil
	}
}

// For returns the requirements of a matched request: of op, or of the
// path when op is nil (a path without operations). Unknown paths and
// operations (and nil) require nothing.
func (ck *Checker) For(p *apidef.Path, op *apidef.Operation) Requirements {
	if ck == nil {
		return Requirements{}
	}
	if op != nil {
		return ck.ops[op]
	}
	return ck.paths[p]
}

// ForMatch returns the requirements of a routed request: those of its
// operation (or slimline path) when m.Kind is Matched, else nothing
// (requests outside basePath are not checked, and NotFound is answered
// before any check).
func (ck *Checker) ForMatch(m apidef.Match) Requirements {
	if m.Kind != apidef.Matched {
		return Requirements{}
	}
	return ck.For(m.Path, m.Op)
}

// PostCheckFlows returns the post-check-flow of every JWT scheme that has
// one, sorted by path and without duplicates, so that the engine can
// compile them when the definition loads (apidef's Flows does not list
// them).
func (ck *Checker) PostCheckFlows() []*apidef.Ref {
	if ck == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []*apidef.Ref
	for _, s := range ck.schemes {
		if s.postCheck != nil && !seen[s.postCheck.Path] {
			seen[s.postCheck.Path] = true
			out = append(out, s.postCheck)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
