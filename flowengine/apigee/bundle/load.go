package bundle

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Bundle is a loaded apiproxy/ or sharedflowbundle/ directory.
type Bundle struct {
	// Shared is true for a sharedflowbundle.
	Shared bool
	// Name is the manifest's name attribute ("" without a manifest).
	Name string
	// Revision is the manifest's revision attribute ("" without one).
	Revision    string
	Proxies     []*ProxyEndpoint
	Targets     map[string]*TargetEndpoint
	SharedFlows map[string]*SharedFlow
	Policies    map[string]*Policy
	// FS is the bundle directory (resources are read from it).
	FS fs.FS
}

// SharedFlow is one sharedflows/*.xml file: a list of Steps.
type SharedFlow struct {
	Name  string
	File  string
	Steps []Step
}

// Load reads the apiproxy directory at the root of fsys (paths relative to
// it) and reports every problem found.
func Load(fsys fs.FS) (*Bundle, diag.List) {
	return load(fsys, false)
}

// LoadShared reads a sharedflowbundle directory at the root of fsys.
func LoadShared(fsys fs.FS) (*Bundle, diag.List) {
	return load(fsys, true)
}

func load(fsys fs.FS, shared bool) (*Bundle, diag.List) {
	var errs diag.List
	b := &Bundle{Shared: shared, Targets: map[string]*TargetEndpoint{}, SharedFlows: map[string]*SharedFlow{}, FS: fsys}
	b.Name, b.Revision = manifestName(fsys, shared, &errs)
	var pErrs diag.List
	b.Policies, pErrs = LoadPolicies(fsys, "policies")
	errs = append(errs, pErrs...)
	if shared {
		for _, file := range xmlFiles(fsys, "sharedflows") {
			root := readXML(fsys, file, &errs)
			if root == nil {
				continue
			}
			if root.Name != "SharedFlow" {
				errs.Addf(file, root.Line, root.Col, diag.APBadRoot, "root element <%s>, want <SharedFlow>", root.Name)
				continue
			}
			sf := &SharedFlow{File: file}
			sf.Name, _ = root.Attr("name")
			sf.Steps = parseSteps(file, root, &errs)
			if _, dup := b.SharedFlows[sf.Name]; dup {
				errs.Addf(file, root.Line, root.Col, diag.APDuplicateName, "SharedFlow %q defined twice", sf.Name)
				continue
			}
			checkSteps(file, []*Flow{{Request: sf.Steps}}, nil, b.Policies, &errs)
			b.SharedFlows[sf.Name] = sf
		}
		if b.SharedFlows["default"] == nil {
			errs.Addf("sharedflows", 0, 0, diag.APNoBundle, "shared flow bundle has no SharedFlow named \"default\"")
		}
		errs.Sort()
		return b, errs
	}
	for _, file := range xmlFiles(fsys, "targets") {
		root := readXML(fsys, file, &errs)
		if root == nil {
			continue
		}
		te := parseTargetEndpoint(file, root, &errs)
		if te == nil {
			continue
		}
		if _, dup := b.Targets[te.Name]; dup {
			errs.Addf(file, root.Line, root.Col, diag.APDuplicateName, "TargetEndpoint %q defined twice", te.Name)
			continue
		}
		checkSteps(file, te.AllFlows(), te.AllFaultRules(), b.Policies, &errs)
		b.Targets[te.Name] = te
	}
	for _, file := range xmlFiles(fsys, "proxies") {
		root := readXML(fsys, file, &errs)
		if root == nil {
			continue
		}
		pe := parseProxyEndpoint(file, root, &errs)
		if pe == nil {
			continue
		}
		checkSteps(file, pe.AllFlows(), pe.AllFaultRules(), b.Policies, &errs)
		for i, rr := range pe.RouteRules {
			if rr.TargetEndpoint != "" && b.Targets[rr.TargetEndpoint] == nil {
				errs.Addf(file, rr.Line, rr.Col, diag.APMissingTarget, "RouteRule names TargetEndpoint %q, which does not exist", rr.TargetEndpoint)
			}
			if rr.Condition == "" && i != len(pe.RouteRules)-1 {
				errs.Addf(file, rr.Line, rr.Col, diag.APBadRoute, "RouteRule %q has no Condition but is not the last: the rules after it can never be chosen", rr.Name)
			}
		}
		for _, other := range b.Proxies {
			if other.Name == pe.Name {
				errs.Addf(file, root.Line, root.Col, diag.APDuplicateName, "ProxyEndpoint %q defined twice", pe.Name)
			}
		}
		b.Proxies = append(b.Proxies, pe)
	}
	if len(b.Proxies) == 0 {
		errs.Addf("proxies", 0, 0, diag.APNoBundle, "bundle has no ProxyEndpoint")
	}
	errs.Sort()
	return b, errs
}

// manifestName reads the name and revision of the top-level manifest
// (<APIProxy name=… revision=…> or <SharedFlowBundle …>); a bundle without
// one is accepted.
func manifestName(fsys fs.FS, shared bool, errs *diag.List) (name, revision string) {
	want := "APIProxy"
	if shared {
		want = "SharedFlowBundle"
	}
	for _, file := range xmlFiles(fsys, ".") {
		root := readXML(fsys, file, errs)
		if root == nil {
			continue
		}
		if root.Name != want {
			errs.Addf(file, root.Line, root.Col, diag.APBadRoot, "root element <%s>, want <%s>", root.Name, want)
			continue
		}
		name, _ = root.Attr("name")
		revision, _ = root.Attr("revision")
		return name, revision
	}
	return "", ""
}

func xmlFiles(fsys fs.FS, dir string) []string {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".xml") {
			out = append(out, path.Clean(path.Join(dir, e.Name())))
		}
	}
	sort.Strings(out)
	return out
}

func readXML(fsys fs.FS, file string, errs *diag.List) *Node {
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		errs.Addf(file, 0, 0, diag.APXMLSyntax, "read: %v", err)
		return nil
	}
	root, err := ParseXML(src)
	if err != nil {
		if se, ok := err.(*SyntaxError); ok {
			errs.Addf(file, se.Line, se.Col, diag.APXMLSyntax, "%s", se.Msg)
		} else {
			errs.Addf(file, 0, 0, diag.APXMLSyntax, "%v", err)
		}
		return nil
	}
	return root
}
