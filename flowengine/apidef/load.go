package apidef

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v4"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// definitionNames are the definition files looked for in the project
// directory, in order, when conf/config.xml names none.
var definitionNames = []string{"swagger.yaml", "swagger.json", "openapi.yaml", "openapi.yml", "openapi.json"}

// notEnforced are known x-flat-* extensions flowproc does not enforce yet:
// enabling one is a load error (notenforced.go), never accepted and
// ignored. x-flat-jwt and x-flat-cookiename are enforced by package
// jwtauth.
var notEnforced = map[string]bool{}

const knownExtensions = "x-flat-flow, x-flat-init, x-flat-error, x-flat-proxy, x-flat-validate, x-flat-cors, x-flat-jwt, x-flat-cookiename"

// level is where in the definition an x-flat-* key appears.
type level int

const (
	levelTop level = iota
	levelPaths
	levelPath
	levelOp
)

func (l level) String() string {
	switch l {
	case levelTop:
		return "at the top level"
	case levelPaths:
		return "directly under paths"
	case levelPath:
		return "on a path"
	default:
		return "on an operation"
	}
}

// Operations by version (FLAT docs: OpenAPI integration: only OpenAPI 2.0 operations; 3.x
// adds trace).
var (
	methods2 = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true}
	methods3 = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
)

// loader holds the state of one Load.
type loader struct {
	cfg    ConfigSettings // conf/config.xml's settings, read before the definition
	d      *Definition
	errs   diag.List
	file   string // definition file
	dir    string // definition file's directory
	data   []byte
	root   *yaml.Node
	broken bool // structural errors: skip kin-openapi validation
	v3     bool
	// proj is the project directory, opened as a root: the definition
	// and conf/config.xml are read through it, so they cannot be outside
	// the project, also not through a symbolic link.
	proj    *os.Root
	projDir string
	// noFiles: the definition was given as bytes (Parse); file
	// references are errors.
	noFiles bool
}

func load(dir string) (*Definition, diag.List) {
	l := &loader{}
	abs, err := filepath.Abs(dir)
	if err != nil {
		l.errs.Addf(dir, 0, 0, diag.NoDefinition, "No FLAT app found in %s: %v", dir, err)
		return nil, l.errs
	}
	file := l.findDefinition(abs)
	if file == "" {
		return nil, l.errs
	}
	data, err := l.readFile(file)
	if err != nil {
		l.errs.Addf(file, 0, 0, fileCode(err), "cannot read the definition: %v", err)
		return nil, l.errs
	}
	d := &Definition{Dir: abs, File: file}
	if flow := filepath.Join(abs, "conf", "flow.xml"); l.isFile(flow) {
		d.DefaultFlow = &Ref{Path: flow, At: Pos{File: flow}}
	}
	return l.loadDefinition(d, data)
}

// loadFile loads the definition in file, inside the project directory dir
// (an upstream API's definition: FLAT's request option "definition").
func loadFile(dir, file string) (*Definition, diag.List) {
	l := &loader{}
	absDir, err := filepath.Abs(dir)
	if err == nil {
		file, err = filepath.Abs(file)
	}
	if err != nil {
		l.errs.Addf(file, 0, 0, diag.MissingFile, "%v", err)
		return nil, l.errs
	}
	proj, err := os.OpenRoot(absDir)
	if err != nil {
		l.errs.Addf(absDir, 0, 0, diag.MissingFile, "%v", err)
		return nil, l.errs
	}
	l.proj, l.projDir = proj, absDir
	data, err := l.readFile(file)
	if err != nil {
		l.errs.Addf(file, 0, 0, fileCode(err), "cannot read the definition: %v", err)
		return nil, l.errs
	}
	return l.loadDefinition(&Definition{Dir: absDir, File: file}, data)
}

// loadDefinition parses, walks, routes and validates the definition d
// whose file holds data.
func (l *loader) loadDefinition(d *Definition, data []byte) (*Definition, diag.List) {
	l.d, l.file, l.dir, l.data = d, d.File, filepath.Dir(d.File), data
	d.Config = l.cfg
	if !l.parse() {
		l.errs.Sort()
		return d, l.errs
	}
	l.walk()
	var rerrs diag.List
	d.r, rerrs = buildRouter(d.BasePath, d.Paths)
	l.errs = append(l.errs, rerrs...)
	if !l.broken && d.Version != "" {
		l.validate()
	}
	l.errs.Sort()
	return d, l.errs
}

// findDefinition returns the definition file of the project in dir, or ""
// after adding an error.
func (l *loader) findDefinition(dir string) string {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		l.errs.Addf(dir, 0, 0, diag.NoDefinition, "No FLAT app found in %s: not a directory", dir)
		return ""
	}
	proj, err := os.OpenRoot(dir)
	if err != nil {
		l.errs.Addf(dir, 0, 0, diag.NoDefinition, "No FLAT app found in %s: %v", dir, err)
		return ""
	}
	l.proj, l.projDir = proj, dir
	cfg := filepath.Join(dir, "conf", "config.xml")
	if l.isFile(cfg) {
		src, at, ok := l.configSrc(cfg)
		if !ok {
			return ""
		}
		if src != "" {
			p := src
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(cfg), p)
			}
			p = filepath.Clean(p)
			if _, err := l.projName(p); err != nil {
				l.errs.Addf(at.File, at.Line, at.Col, diag.OutsideProject, "definition %q is outside the project directory", src)
				return ""
			}
			if !l.isFile(p) {
				l.errs.Addf(at.File, at.Line, at.Col, diag.MissingFile, "definition %q not found (resolved to %s)", src, p)
				return ""
			}
			return p
		}
	}
	for _, name := range definitionNames {
		if p := filepath.Join(dir, name); l.isFile(p) {
			return p
		}
	}
	l.errs.Addf(dir, 0, 0, diag.NoDefinition, "No FLAT app found in %s: create swagger.yaml to start", dir)
	return ""
}

var srcAttr = regexp.MustCompile(`\bsrc\s*=\s*["']`)

// configSrc reads <config><flat><definition src="…"/></flat></config>. It
// returns the src ("" when there is none) and its position; ok is false
// after an error.
func (l *loader) configSrc(cfg string) (src string, at Pos, ok bool) {
	data, err := l.readFile(cfg)
	if err != nil {
		l.errs.Addf(cfg, 0, 0, diag.BadConfig, "cannot read: %v", err)
		return "", Pos{}, false
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []string
	found := false
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
			}
			l.errs.Addf(cfg, line, 0, diag.BadConfig, "config.xml is not well-formed: %v", err)
			return "", Pos{}, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if len(stack) == 3 && stack[0] == "config" && stack[1] == "flat" && t.Name.Local != "definition" {
				line, col := lineCol(data, int(before))
				if !l.configSetting(cfg, line, col, t) {
					return "", Pos{}, false
				}
				continue
			}
			if found || len(stack) != 3 || stack[0] != "config" || stack[1] != "flat" || t.Name.Local != "definition" {
				continue
			}
			found = true
			for _, a := range t.Attr {
				if a.Name.Local != "src" || a.Name.Space != "" {
					continue
				}
				off := int(before)
				if m := srcAttr.FindIndex(data[before:dec.InputOffset()]); m != nil {
					off += m[1]
				}
				line, col := lineCol(data, off)
				at = Pos{File: cfg, Line: line, Col: col}
				if strings.TrimSpace(a.Value) == "" {
					l.errs.Addf(cfg, line, col, diag.BadConfig, "<definition src> is empty")
					return "", at, false
				}
				src = a.Value
			}
			if src == "" {
				line, col := lineCol(data, int(before))
				l.errs.Addf(cfg, line, col, diag.BadConfig, "<definition> needs a src attribute")
				return "", Pos{}, false
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return src, at, true
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	line = 1 + bytes.Count(data[:off], []byte{'\n'})
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// errOutside is wrapped by readFile errors for files outside the project
// directory (also through a symbolic link).
var errOutside = errors.New("outside the project directory")

// projName returns p's name inside the project root.
func (l *loader) projName(p string) (string, error) {
	name, err := filepath.Rel(l.projDir, p)
	if err != nil || !filepath.IsLocal(name) {
		return "", errOutside
	}
	return name, nil
}

// readFile reads p through the project root.
func (l *loader) readFile(p string) ([]byte, error) {
	name, err := l.projName(p)
	if err != nil {
		return nil, err
	}
	data, err := l.proj.ReadFile(name)
	if err != nil && strings.Contains(err.Error(), "escapes") {
		return nil, fmt.Errorf("%s: %w", name, errOutside)
	}
	return data, err
}

// fileCode is the diagnostic code of a readFile error.
func fileCode(err error) diag.Code {
	if errors.Is(err, errOutside) {
		return diag.OutsideProject
	}
	return diag.MissingFile
}

// isFile reports whether p exists inside the project root and is not a
// directory. A symbolic link leading out of the root counts as a file, so
// that reading it reports FP109 rather than a missing file.
func (l *loader) isFile(p string) bool {
	name, err := l.projName(p)
	if err != nil {
		return false
	}
	st, err := l.proj.Stat(name)
	if err != nil {
		return strings.Contains(err.Error(), "escapes")
	}
	return !st.IsDir()
}

func (l *loader) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: l.file, Line: 1, Col: 1}
	}
	return Pos{File: l.file, Line: n.Line, Col: n.Column}
}

func (l *loader) errorf(n *yaml.Node, code diag.Code, format string, args ...any) {
	p := l.pos(n)
	l.errs.Addf(p.File, p.Line, p.Col, code, format, args...)
}

// bad reports a structural error: the document cannot be validated further.
func (l *loader) bad(n *yaml.Node, format string, args ...any) {
	l.broken = true
	l.errorf(n, diag.BadDefinition, format, args...)
}

// parse reads the YAML (or JSON) document; false means nothing more can be
// checked.
func (l *loader) parse() (ok bool) {
	defer func() {
		if r := recover(); r != nil { // the YAML library must not take us down
			l.errs.Addf(l.file, 0, 0, diag.BadDefinition, "cannot parse the definition: %v", r)
			ok = false
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(l.data, &doc); err != nil {
		var le *yaml.LoadError
		if errors.As(err, &le) && le.Mark.Line > 0 {
			l.errs.Addf(l.file, le.Mark.Line, le.Mark.Column, diag.BadDefinition, "invalid YAML: %s", le.Message)
		} else {
			l.errs.Addf(l.file, 0, 0, diag.BadDefinition, "invalid YAML: %v", err)
		}
		return false
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = deref(doc.Content[0])
	}
	if root == nil || root.Kind != yaml.MappingNode {
		at := root
		if at == nil {
			at = &yaml.Node{Line: 1, Column: 1}
		}
		l.errorf(at, diag.BadDefinition, "Invalid definition: Object required (the definition is %s)", kindName(root))
		return false
	}
	l.root = root
	l.checkDuplicates(root, 0)
	return true
}

// checkDuplicates reports duplicate mapping keys anywhere in the document
// (aliases are not followed: their target is checked where it is defined).
func (l *loader) checkDuplicates(n *yaml.Node, depth int) {
	if n == nil || depth > 10000 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		var seen map[string]*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && !(k.Value == "<<" && k.ShortTag() == "!!merge") {
				if seen == nil {
					seen = map[string]*yaml.Node{}
				}
				if prev := seen[k.Value]; prev != nil {
					l.bad(k, "duplicate key %q (first at line %d)", k.Value, prev.Line)
				} else {
					seen[k.Value] = k
				}
			}
			l.checkDuplicates(n.Content[i+1], depth+1)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			l.checkDuplicates(c, depth+1)
		}
	}
}

// holder collects the x-flat-flow / x-flat-proxy of one level.
type holder struct {
	flow    *Ref
	flowKey *yaml.Node
	proxy   *Proxy
	proxyK  *yaml.Node
}

// finish checks the combination rule (FLAT docs: OpenAPI integration: x-flat-proxy cannot be
// combined with x-flat-flow).
func (l *loader) finish(h *holder) {
	if h.flowKey != nil && h.proxyK != nil {
		l.errorf(h.proxyK, diag.ProxyAndFlow, "x-flat-proxy cannot be combined with x-flat-flow (line %d) at the same level", h.flowKey.Line)
		h.proxy = nil
	}
}

// walk extracts version, basePath, paths and the x-flat-* extensions.
func (l *loader) walk() {
	d := l.d
	var swagger, openapi, basePath, servers, paths *pair
	var top holder
	for _, p := range pairs(l.root) {
		p := p
		switch k := keyText(p.k); {
		case k == "swagger":
			swagger = &p
		case k == "openapi":
			openapi = &p
		case k == "basePath":
			basePath = &p
		case k == "servers":
			servers = &p
		case k == "paths":
			paths = &p
		case strings.HasPrefix(k, "x-flat-"):
			l.ext(levelTop, p, &top)
		}
	}
	l.finish(&top)
	l.checkNotEnforced(l.root)

	switch {
	case swagger != nil && openapi != nil:
		l.bad(openapi.k, "the definition has both swagger and openapi; keep one")
	case swagger != nil:
		v := deref(swagger.v)
		if isString(v) && v.Value == "2.0" {
			d.Version = "2.0"
		} else if v != nil && v.Kind == yaml.ScalarNode && v.Value == "2.0" {
			l.bad(v, `swagger must be the string "2.0" (quote it: swagger: "2.0")`)
		} else {
			l.bad(v, `unsupported swagger version %q: only "2.0" (or openapi: 3.x)`, scalarText(v))
		}
	case openapi != nil:
		v := deref(openapi.v)
		if isString(v) && strings.HasPrefix(v.Value, "3.") {
			d.Version = v.Value
			l.v3 = true
		} else {
			l.bad(v, `openapi must be a 3.x version string such as "3.0.3", not %q`, scalarText(v))
		}
	default:
		l.bad(l.root, `missing version: add swagger: "2.0" (or openapi: "3.0.3")`)
	}

	if l.v3 {
		if servers != nil {
			d.BasePath = l.serverBase(servers.v)
		}
	} else if basePath != nil {
		v := deref(basePath.v)
		switch {
		case isNull(v):
		case !isString(v):
			l.bad(v, "basePath must be a string, not %s", kindName(v))
		case v.Value != "" && v.Value[0] != '/':
			l.errorf(v, diag.BadDefinition, "basePath %q must start with /", v.Value)
		default:
			d.BasePath = normalizeBase(v.Value)
		}
	}

	if paths != nil {
		l.walkPaths(paths.v)
	}
	if d.Fallback == nil && d.FallbackProxy == nil {
		// FLAT docs: OpenAPI integration lists x-flat-flow as recognized at the top level
		// too; it acts as the fallback unless paths has its own.
		d.Fallback = top.flow
	}
}

// scalarText returns a scalar's text for messages.
func scalarText(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	return n.Value
}

// normalizeBase turns a base path into "" or "/x…" without trailing slash,
// with percent-escapes decoded as Match decodes request paths.
func normalizeBase(p string) string {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return ""
	}
	if p[0] != '/' {
		p = "/" + p
	}
	if strings.IndexByte(p, '%') >= 0 {
		p = canonicalPath(p)
	}
	return p
}

var serverVar = regexp.MustCompile(`\{([^{}]*)\}`)

// serverBase returns the base path of servers[0].url (OpenAPI 3.x), with
// {variables} replaced by their defaults.
func (l *loader) serverBase(servers *yaml.Node) string {
	s := deref(servers)
	if s == nil || s.Kind != yaml.SequenceNode || len(s.Content) == 0 {
		return "" // kin-openapi reports malformed servers
	}
	first := deref(s.Content[0])
	var raw *yaml.Node
	var vars []pair
	for _, p := range pairs(first) {
		switch keyText(p.k) {
		case "url":
			raw = deref(p.v)
		case "variables":
			vars = pairs(p.v)
		}
	}
	if !isString(raw) {
		return ""
	}
	u := serverVar.ReplaceAllStringFunc(raw.Value, func(m string) string {
		name := m[1 : len(m)-1]
		for _, v := range vars {
			if keyText(v.k) != name {
				continue
			}
			for _, f := range pairs(v.v) {
				if keyText(f.k) == "default" && deref(f.v) != nil && deref(f.v).Kind == yaml.ScalarNode {
					return deref(f.v).Value
				}
			}
		}
		return "" // kin-openapi reports the undeclared variable
	})
	path := u
	if pu, err := url.Parse(u); err == nil {
		path = pu.EscapedPath() // absolute ("https://h/api") or relative ("/api")
	} else if i := strings.IndexAny(u, "?#"); i >= 0 {
		path = u[:i]
	}
	return normalizeBase(path)
}

// walkPaths reads the paths object.
func (l *loader) walkPaths(n *yaml.Node) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.bad(n, "paths must be an object, not %s", kindName(n))
		return
	}
	var h holder
	for _, p := range pairs(n) {
		k := keyText(p.k)
		if p.k == nil || p.k.Kind != yaml.ScalarNode {
			l.bad(p.k, "path keys must be strings")
			continue
		}
		if strings.HasPrefix(k, "x-") {
			if strings.HasPrefix(k, "x-flat-") {
				l.ext(levelPaths, p, &h)
			}
			continue
		}
		l.walkPath(p)
	}
	l.finish(&h)
	if h.flow != nil || h.proxy != nil {
		l.d.Fallback, l.d.FallbackProxy = h.flow, h.proxy
	}
}

// walkPath reads one path item.
func (l *loader) walkPath(p pair) {
	path := &Path{Pattern: p.k.Value, At: l.pos(p.k)}
	l.d.Paths = append(l.d.Paths, path)
	v := deref(p.v)
	if isNull(v) {
		return // slimline: "/foo:" with nothing below
	}
	if v.Kind != yaml.MappingNode {
		l.bad(v, "path %q must be an object, not %s", path.Pattern, kindName(v))
		return
	}
	methods := methods2
	if l.v3 {
		methods = methods3
	}
	var h holder
	for _, q := range pairs(v) {
		k := keyText(q.k)
		switch {
		case strings.HasPrefix(k, "x-flat-"):
			l.ext(levelPath, q, &h)
		case k == "security":
			path.Security = l.pathSecurity(q.k, q.v)
		case methods[k]:
			op := &Operation{Method: strings.ToUpper(k), At: l.pos(q.k)}
			path.Ops = append(path.Ops, op)
			l.walkOp(path, op, q.v)
		}
	}
	l.finish(&h)
	path.Flow, path.Proxy = h.flow, h.proxy
}

// walkOp reads one operation.
func (l *loader) walkOp(path *Path, op *Operation, n *yaml.Node) {
	n = deref(n)
	if isNull(n) {
		return // slimline: "get:" with nothing below
	}
	if n.Kind != yaml.MappingNode {
		l.bad(n, "operation %s of path %q must be an object, not %s", strings.ToLower(op.Method), path.Pattern, kindName(n))
		return
	}
	var h holder
	for _, q := range pairs(n) {
		if strings.HasPrefix(keyText(q.k), "x-flat-") {
			l.ext(levelOp, q, &h)
		}
	}
	l.finish(&h)
	op.Flow, op.Proxy = h.flow, h.proxy
}

// ext handles one x-flat-* key at level lv.
func (l *loader) ext(lv level, p pair, h *holder) {
	name := keyText(p.k)
	allowed := func(where string, ok bool) bool {
		if !ok {
			l.errorf(p.k, diag.BadExtension, "%s is not allowed %s (allowed %s)", name, lv, where)
		}
		return ok
	}
	switch name {
	case "x-flat-flow":
		h.flowKey = p.k
		h.flow = l.flowRef(name, p.v)
	case "x-flat-proxy":
		if !allowed("directly under paths, on a path or on an operation", lv != levelTop) {
			return
		}
		h.proxyK = p.k
		h.proxy = l.proxy(p)
	case "x-flat-init":
		if !allowed("at the top level", lv == levelTop) {
			return
		}
		l.d.Init = l.flowRef(name, p.v)
	case "x-flat-error":
		if !allowed("at the top level", lv == levelTop) {
			return
		}
		l.errorFlow(p)
	case "x-flat-cors":
		// Enforced by package cors: its value (Doc.Extensions) is
		// compiled with cors.Compile when the engine loads the project.
		allowed("at the top level", lv == levelTop)
	case "x-flat-jwt", "x-flat-cookiename":
		l.errorf(p.k, diag.BadExtension, "%s belongs in a security scheme (securityDefinitions), not %s", name, lv)
	default:
		if !notEnforced[name] && !enforcedElsewhere[name] {
			l.errorf(p.k, diag.BadExtension, "unknown extension %s (known: %s)", name, knownExtensions)
		}
	}
}

// flowRef resolves a flow file reference.
func (l *loader) flowRef(what string, n *yaml.Node) *Ref {
	v := deref(n)
	if !isString(v) || strings.TrimSpace(v.Value) == "" {
		at := v
		if at == nil {
			at = n
		}
		l.errorf(at, diag.BadExtension, "%s must be a flow file name, not %s", what, kindName(v))
		return nil
	}
	return l.fileRef(v)
}

// fileRef resolves the file named by string node v relative to the
// definition file.
func (l *loader) fileRef(v *yaml.Node) *Ref {
	if l.noFiles {
		l.errorf(v, diag.MissingFile, "flow file %q: a definition given as bytes cannot reference files", v.Value)
		return nil
	}
	p := v.Value
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.dir, p)
	}
	p = filepath.Clean(p)
	st, err := os.Stat(p)
	switch {
	case err != nil:
		l.errorf(v, diag.MissingFile, "flow file %q not found (resolved to %s)", v.Value, p)
		return nil
	case st.IsDir():
		l.errorf(v, diag.MissingFile, "flow file %q is a directory (resolved to %s)", v.Value, p)
		return nil
	}
	return &Ref{Path: p, At: l.pos(v)}
}

// errorFlow reads x-flat-error: {flow: file}.
func (l *loader) errorFlow(p pair) {
	v := deref(p.v)
	if v == nil || v.Kind != yaml.MappingNode {
		at := v
		if at == nil {
			at = p.k
		}
		l.errorf(at, diag.BadExtension, "x-flat-error must be an object like {flow: error.xml}, not %s", kindName(v))
		return
	}
	found := false
	for _, q := range pairs(v) {
		switch k := keyText(q.k); k {
		case "flow":
			found = true
			l.d.ErrorFlow = l.flowRef("x-flat-error.flow", q.v)
		default:
			l.errorf(q.k, diag.BadExtension, "unknown key %q in x-flat-error (known: flow)", k)
		}
	}
	if !found {
		l.errorf(p.k, diag.BadExtension, "x-flat-error needs a flow: x-flat-error: {flow: error.xml}")
	}
}

// proxy reads an x-flat-proxy value.
func (l *loader) proxy(p pair) *Proxy {
	v := deref(p.v)
	if v == nil || v.Kind != yaml.MappingNode {
		at := v
		if at == nil {
			at = p.k
		}
		l.errorf(at, diag.BadExtension, "x-flat-proxy must be an object with origin or url, not %s", kindName(v))
		return nil
	}
	ok := true
	has := false
	for _, q := range pairs(v) {
		switch keyText(q.k) {
		case "origin", "url":
			w := deref(q.v)
			if !isString(w) || w.Value == "" {
				l.errorf(q.k, diag.BadExtension, "x-flat-proxy %s must be a non-empty string, not %s", keyText(q.k), kindName(w))
				ok = false
			}
			has = true
		}
	}
	if !has {
		l.errorf(p.k, diag.BadExtension, "x-flat-proxy needs origin or url")
		return nil
	}
	js, err := toJSON(v)
	if err != nil {
		l.errorf(p.k, diag.BadExtension, "x-flat-proxy: %v", err)
		return nil
	}
	if !ok {
		return nil
	}
	return &Proxy{JSON: js, At: l.pos(p.k)}
}

// DefinitionNames returns the definition file names a FLAT app directory is
// searched for, in order.
func DefinitionNames() []string { return append([]string(nil), definitionNames...) }
