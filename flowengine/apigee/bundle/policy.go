package bundle

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Policy is one policies/*.xml file: its type (root element), name and the
// common attributes; Root keeps the element for the policy compiler.
type Policy struct {
	Type            string
	Name            string
	ContinueOnError bool
	Enabled         bool
	File            string
	Root            *Node
}

// LoadPolicies reads every dir/*.xml in fsys as a policy, keyed by its name
// attribute. All problems are reported, not only the first.
func LoadPolicies(fsys fs.FS, dir string) (map[string]*Policy, diag.List) {
	var errs diag.List
	out := map[string]*Policy{}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return out, nil // a bundle may have no policies
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".xml") {
			continue
		}
		file := path.Join(dir, e.Name())
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			errs.Addf(file, 0, 0, diag.APXMLSyntax, "read: %v", err)
			continue
		}
		root, err := ParseXML(src)
		if err != nil {
			if se, ok := err.(*SyntaxError); ok {
				errs.Addf(file, se.Line, se.Col, diag.APXMLSyntax, "%s", se.Msg)
			} else {
				errs.Addf(file, 0, 0, diag.APXMLSyntax, "%v", err)
			}
			continue
		}
		p := &Policy{Type: root.Name, File: file, Root: root, Enabled: true}
		name, ok := root.Attr("name")
		if !ok || name == "" {
			errs.Addf(file, root.Line, root.Col, diag.APMissingElement, "policy <%s> has no name attribute", root.Name)
			continue
		}
		p.Name = name
		// A name differing from the file name is fine: Steps reference
		// the name attribute (apigeelint PO006 only warns).
		if v, ok := root.Attr("continueOnError"); ok {
			b, okb := parseBool(v)
			if !okb {
				errs.Addf(file, root.Line, root.Col, diag.APBadPolicy, "continueOnError=%q is not true or false", v)
			}
			p.ContinueOnError = b
		}
		if v, ok := root.Attr("enabled"); ok {
			b, okb := parseBool(v)
			if !okb {
				errs.Addf(file, root.Line, root.Col, diag.APBadPolicy, "enabled=%q is not true or false", v)
			}
			p.Enabled = b
		}
		if prev, dup := out[name]; dup {
			errs.Addf(file, root.Line, root.Col, diag.APDuplicateName, "policy %q already defined in %s", name, prev.File)
			continue
		}
		out[name] = p
	}
	return out, errs
}

func parseBool(s string) (bool, bool) {
	switch strings.TrimSpace(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
