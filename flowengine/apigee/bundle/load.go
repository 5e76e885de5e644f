package bundle

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Bundle is a loaded apiproxy/ directory. TargetEndpoints are only named
// for now (their content is kept in the Node for the engine to come).
type Bundle struct {
	Proxies  []*ProxyEndpoint
	Targets  map[string]*Node
	Policies map[string]*Policy
}

// Load reads the apiproxy directory at root of fsys (paths relative to it)
// and reports every problem found.
func Load(fsys fs.FS) (*Bundle, diag.List) {
	var errs diag.List
	b := &Bundle{Targets: map[string]*Node{}}
	var pErrs diag.List
	b.Policies, pErrs = LoadPolicies(fsys, "policies")
	errs = append(errs, pErrs...)
	for _, file := range xmlFiles(fsys, "targets") {
		root := readXML(fsys, file, &errs)
		if root == nil {
			continue
		}
		if root.Name != "TargetEndpoint" {
			errs.Addf(file, root.Line, root.Col, diag.APBadRoot, "root element <%s>, want <TargetEndpoint>", root.Name)
			continue
		}
		name, _ := root.Attr("name")
		if _, dup := b.Targets[name]; dup {
			errs.Addf(file, root.Line, root.Col, diag.APDuplicateName, "TargetEndpoint %q defined twice", name)
			continue
		}
		b.Targets[name] = root
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
		checkSteps(pe, b.Policies, &errs)
		for _, rr := range pe.RouteRules {
			if rr.TargetEndpoint != "" && b.Targets[rr.TargetEndpoint] == nil {
				errs.Addf(file, rr.Line, rr.Col, diag.APMissingTarget, "RouteRule names TargetEndpoint %q, which does not exist", rr.TargetEndpoint)
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

func xmlFiles(fsys fs.FS, dir string) []string {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".xml") {
			out = append(out, path.Join(dir, e.Name()))
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
