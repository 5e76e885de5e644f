// Package apidef loads a FLAT app's API definition (Swagger 2.0 or OpenAPI
// 3.x with x-flat-* extensions) and routes requests to its paths and
// operations exactly as FLAT does (FLAT docs: OpenAPI integration, routing).
//
// Load finds and validates the definition, resolves every referenced flow
// file and precomputes a router; Definition.Match then runs once per request
// without allocating (except the Params slice of a templated match).
//
// Decisions where FLAT's documentation is silent:
//
//   - Match takes the raw (percent-encoded) URL path; literal segments are
//     compared after decoding, "%2F" never separates segments, parameter
//     values are decoded and Endpoint is a prefix of the raw path.
//   - HEAD uses the GET operation when a path defines GET but not HEAD.
//   - Methods and paths are case-sensitive; "/users/" is not "/users";
//     BasePath itself ("/api") is routed as the path "/".
//   - Among templated paths the one with more literal segments wins, then
//     the one whose first literal comes earlier (see Definition.Match).
//   - x-flat-flow at the top level (listed as recognized by the FLAT docs)
//     acts as a fallback when paths has none of its own.
//   - A definition without paths is valid: every API request is NotFound.
//
// A Definition is immutable after Load and safe for concurrent use.
package apidef

import (
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Pos is a position in a project file. Line and Col are 1-based; 0 means
// unknown.
type Pos struct {
	File      string
	Line, Col int
}

// Ref is a reference to a file (a flow) made from the definition.
type Ref struct {
	// Path is the cleaned absolute path of the referenced file.
	Path string
	// At is where the file was referenced (the position of the value).
	At Pos
}

// Proxy is an x-flat-proxy configuration.
type Proxy struct {
	// JSON is the x-flat-proxy value re-encoded as compact JSON: the same
	// shape as FLAT's proxy-request JSON (FLAT docs: proxy-request).
	JSON []byte
	// At is the position of the x-flat-proxy key.
	At Pos
}

// Definition is a loaded API definition.
type Definition struct {
	// Dir is the project directory; File is the definition file's path.
	Dir, File string
	// Version is "2.0" or the OpenAPI 3.x version string.
	Version string
	// APIVersion is the definition's info.version ("" without an info
	// block): the API's own version, which the status API reports.
	APIVersion string
	// BasePath is "" or a path such as "/api" without a trailing slash.
	BasePath string
	// Init is x-flat-init; ErrorFlow is x-flat-error.flow.
	Init, ErrorFlow *Ref
	// DefaultFlow is conf/flow.xml when it exists: the flow for requests
	// outside BasePath.
	DefaultFlow *Ref
	// Fallback is x-flat-flow directly under paths: the flow for matched
	// paths that have no flow of their own.
	Fallback *Ref
	// FallbackProxy is x-flat-proxy directly under paths.
	FallbackProxy *Proxy
	// Paths are the definition's paths in file order.
	Paths []*Path
	// Config are conf/config.xml's settings besides the definition.
	Config ConfigSettings
	// Doc is the definition as kin-openapi reads it (Swagger 2.0 converted
	// to OpenAPI 3): schemas, parameters, security schemes and examples for
	// validation, JWT checks and mocking. Read-only after Load; nil only
	// when the definition did not load.
	Doc *openapi3.T

	r router
}

// ConfigSettings are the settings of conf/config.xml (FLAT docs: conf/config.xml) that other packages enforce; nil when not given.
type ConfigSettings struct {
	// Validation is <validation request response/>: x-flat-validate for
	// the whole API, read after the definition (it replaces the
	// definition's top-level x-flat-validate).
	Validation *ConfigValidation
	// CORS is <cors allowed-origins allow-credentials/>: it replaces
	// x-flat-cors.
	CORS *ConfigCORS
	// LDAP is <ldap cacert-src timeout/> for ldap-lookup and ldap-query.
	LDAP *ConfigLDAP
}

// ConfigValidation is <validation>; empty strings are absent attributes.
type ConfigValidation struct {
	Request, Response string
	At                Pos
}

// ConfigCORS is <cors>; values as written.
type ConfigCORS struct {
	AllowedOrigins, AllowCredentials string
	At                               Pos
}

// ConfigLDAP is <ldap>; CACertSrc is relative to config.xml, Timeout in
// seconds.
type ConfigLDAP struct {
	CACertSrc, Timeout string
	At                 Pos
}

// Path is one entry of the definition's paths.
type Path struct {
	// Pattern is the path key as written, e.g. "/users/{id}" or "/foo/**".
	Pattern string
	// At is the position of the path key.
	At Pos
	// Flow is x-flat-flow on the path (all methods).
	Flow *Ref
	// Proxy is x-flat-proxy on the path.
	Proxy *Proxy
	// Security is the path-level security list (a FLAT extension); nil
	// when the path has none.
	Security *Security
	// Ops are the path's operations in file order. Empty means a slimline
	// path that accepts any method.
	Ops []*Operation
}

// Operation is one operation (HTTP method) of a path.
type Operation struct {
	// Method is the upper-case HTTP method, e.g. "GET".
	Method string
	// At is the position of the method key.
	At Pos
	// Flow is x-flat-flow on the operation.
	Flow *Ref
	// Proxy is x-flat-proxy on the operation.
	Proxy *Proxy
}

// MatchKind says how a request relates to the definition.
type MatchKind int

// Match kinds.
const (
	// Matched: a path (and operation, if the path has any) matches.
	Matched MatchKind = iota
	// Outside: the request is not under BasePath; FLAT runs DefaultFlow
	// (Match.Flow is set to it) and not the init flow.
	Outside
	// NotFound: under BasePath but no path or operation matches; FLAT
	// answers 400 with code 3204 and Match.Message as info.
	NotFound
)

// String returns the kind's name.
func (k MatchKind) String() string {
	switch k {
	case Matched:
		return "Matched"
	case Outside:
		return "Outside"
	case NotFound:
		return "NotFound"
	}
	return "MatchKind(?)"
}

// Param is a templated path parameter ($request/params/<Name>).
type Param struct{ Name, Value string }

// Match is the result of routing one request.
type Match struct {
	Kind MatchKind
	// Path and Op are the matched path and operation (Op is nil for a
	// slimline path). For NotFound because of the method, Path, Params
	// and Endpoint are set (the error flow sees the path parameters).
	Path *Path
	Op   *Operation
	// Flow and Proxy are the effective flow or proxy: operation, then path,
	// then the paths-level fallback. Both nil means no flow ("No flow found
	// for GET /…").
	Flow  *Ref
	Proxy *Proxy
	// Params are the templated path parameters in template order, with
	// percent-decoded values.
	Params []Param
	// Endpoint is FLAT's $request/endpoint (FLAT docs: $request): the full request
	// path including BasePath, or for a /** match the part before the
	// wildcard. It is always a prefix of the path given to Match.
	Endpoint string
	// Message is FLAT's info text for NotFound, e.g. "Path /api/foo not
	// found." or "Operation POST /api/foo not found.".
	Message string
}

// Load reads the FLAT app in dir: it finds the definition (conf/config.xml
// <definition src>, else swagger.yaml, swagger.json, openapi.yaml,
// openapi.yml, openapi.json), validates it, resolves every referenced flow
// and builds the router. It reports all errors of the project, not only the
// first, sorted by position.
//
// The Definition is nil only when no definition could be read. With errors
// it may be partial (a missing flow file leaves its Ref nil, a bad path is
// not routed): use it to find further errors (e.g. compile Flows()), never
// to serve requests.
func Load(dir string) (*Definition, diag.List) {
	return load(dir)
}

// LoadFile loads the API definition in file, which must lie inside the
// project directory dir: an upstream API's definition (FLAT's request
// option "definition", FLAT docs: upstream API definitions). It is routed and validated
// like a project's definition; x-flat-* flows it names are resolved too.
func LoadFile(dir, file string) (*Definition, diag.List) {
	return loadFile(dir, file)
}

// Flows returns every flow file the definition references (init, error,
// default, fallback, paths, operations) once each, in that order.
func (d *Definition) Flows() []*Ref {
	var out []*Ref
	seen := map[string]bool{}
	add := func(r *Ref) {
		if r != nil && !seen[r.Path] {
			seen[r.Path] = true
			out = append(out, r)
		}
	}
	add(d.Init)
	add(d.ErrorFlow)
	add(d.DefaultFlow)
	add(d.Fallback)
	for _, p := range d.Paths {
		add(p.Flow)
		for _, o := range p.Ops {
			add(o.Flow)
		}
	}
	return out
}
