package xmlschema

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/xmltree"
)

// Namespaces of the documents WSDLSchemas reads.
const (
	WSDL11NS = "http://schemas.xmlsoap.org/wsdl/"
	WSDL20NS = "http://www.w3.org/ns/wsdl"
	XSDNS    = "http://www.w3.org/2001/XMLSchema"
)

// SchemaSet is a WSDL's schemas as schema files: Main imports (or, for
// schemas without a target namespace, includes) every one of them.
type SchemaSet struct {
	// Main is the file name of the schema to compile.
	Main string
	// Files are the generated schema documents by file name.
	Files map[string][]byte
	// Namespaces are the target namespaces found, in document order
	// ("" for a schema without one).
	Namespaces []string
}

// WSDLSchemas extracts the xs:schema elements of a WSDL document's types
// section (WSDL 1.1 definitions/types or WSDL 2.0 description/types). Each
// becomes a schema document of its own that also declares the namespace
// prefixes in scope in the WSDL (so that type="tns:T" still resolves);
// schemas sharing a target namespace are gathered by an including wrapper.
// A wsdl:import or wsdl:include location is looked up in files by file
// name (as schema imports are, see the package doc): an imported WSDL
// contributes its schemas too, an imported .xsd is imported as it is;
// any other location is an error. A WSDL set without any schema is
// refused: there would be nothing to validate against.
func WSDLSchemas(name string, src []byte, files map[string][]byte) (*SchemaSet, error) {
	w := &wsdlWalk{set: &SchemaSet{Main: name + ".main.xsd", Files: map[string][]byte{}}, byNS: map[string][]string{}, files: files, seen: map[string]bool{name: true}}
	if err := w.read(name, src, 0); err != nil {
		return nil, err
	}
	set := w.set
	if w.n == 0 {
		return nil, fmt.Errorf("WSDL %s has no xs:schema in its types section: there is nothing to validate against", name)
	}
	var m bytes.Buffer
	m.WriteString(`<xs:schema xmlns:xs="` + XSDNS + `">`)
	for i, ns := range set.Namespaces {
		files := w.byNS[ns]
		if ns == "" {
			for _, f := range files {
				m.WriteString(`<xs:include schemaLocation="` + esc(f) + `"/>`)
			}
			continue
		}
		loc := files[0]
		if len(files) > 1 {
			loc = fmt.Sprintf("%s.ns%d.xsd", name, i+1)
			var b bytes.Buffer
			b.WriteString(`<xs:schema xmlns:xs="` + XSDNS + `" targetNamespace="` + esc(ns) + `">`)
			for _, f := range files {
				b.WriteString(`<xs:include schemaLocation="` + esc(f) + `"/>`)
			}
			b.WriteString(`</xs:schema>`)
			set.Files[loc] = b.Bytes()
		}
		m.WriteString(`<xs:import namespace="` + esc(ns) + `" schemaLocation="` + esc(loc) + `"/>`)
	}
	m.WriteString(`</xs:schema>`)
	set.Files[set.Main] = m.Bytes()
	return set, nil
}

// maxWSDLDepth bounds wsdl:import chains.
const maxWSDLDepth = 16

type wsdlWalk struct {
	set   *SchemaSet
	byNS  map[string][]string
	files map[string][]byte
	seen  map[string]bool
	n     int
}

func (w *wsdlWalk) add(tns, file string) {
	if _, ok := w.byNS[tns]; !ok {
		w.set.Namespaces = append(w.set.Namespaces, tns)
	}
	w.byNS[tns] = append(w.byNS[tns], file)
}

func (w *wsdlWalk) read(name string, src []byte, depth int) error {
	doc, err := xmltree.Parse(src, 0)
	if err != nil {
		return fmt.Errorf("WSDL %s is not well-formed: %w", name, err)
	}
	root := doc.Root()
	if root == nil {
		return fmt.Errorf("WSDL %s has no root element", name)
	}
	if !(root.Space == WSDL11NS && root.Local == "definitions" || root.Space == WSDL20NS && root.Local == "description") {
		return fmt.Errorf("%s is not a WSDL document (root element {%s}%s)", name, root.Space, root.Local)
	}
	for _, c := range root.Children {
		if c.Type != xmltree.Element || c.Space != root.Space {
			continue
		}
		switch c.Local {
		case "import", "include":
			if err := w.follow(name, c, depth); err != nil {
				return err
			}
		case "types":
			for _, s := range c.Children {
				if s.Type != xmltree.Element || s.Space != XSDNS || s.Local != "schema" {
					continue
				}
				inheritNS(s)
				var b bytes.Buffer
				s.WriteXML(&b)
				w.n++
				file := fmt.Sprintf("%s.types%d.xsd", name, w.n)
				w.set.Files[file] = b.Bytes()
				w.add(attr(s, "targetNamespace"), file)
			}
		}
	}
	return nil
}

// follow reads the document a wsdl:import or wsdl:include names.
func (w *wsdlWalk) follow(from string, c *xmltree.Node, depth int) error {
	loc := attr(c, "location")
	file, ok := LocalName(loc)
	var src []byte
	if ok {
		src, ok = w.files[file]
	}
	if !ok {
		return fmt.Errorf("WSDL %s: wsdl:%s of %q: only the bundle's own wsdl and xsd resources can be imported, by file name", from, c.Local, loc)
	}
	if w.seen[file] {
		return nil
	}
	w.seen[file] = true
	if depth >= maxWSDLDepth {
		return fmt.Errorf("WSDL %s: wsdl:import chain deeper than %d", from, maxWSDLDepth)
	}
	doc, err := xmltree.Parse(src, 0)
	if err != nil {
		return fmt.Errorf("%s (imported by %s) is not well-formed: %w", file, from, err)
	}
	if r := doc.Root(); r != nil && r.Space == XSDNS && r.Local == "schema" {
		w.n++
		w.add(attr(r, "targetNamespace"), file)
		return nil
	}
	return w.read(file, src, depth+1)
}

// LocalName returns the bundle file a schema or WSDL location names:
// "name", "./name", "xsd://name" or "wsdl://name". ok is false for any
// other location (paths, other schemes, URLs).
func LocalName(loc string) (name string, ok bool) {
	for _, p := range []string{"xsd://", "wsdl://"} {
		if strings.HasPrefix(loc, p) {
			loc = loc[len(p):]
			break
		}
	}
	for strings.HasPrefix(loc, "./") {
		loc = loc[2:]
	}
	if loc == "" || strings.ContainsAny(loc, "/\\:") {
		return "", false
	}
	return loc, true
}

// inheritNS adds to s the namespace declarations in scope at s that s
// does not make itself, so that s stands alone.
func inheritNS(s *xmltree.Node) {
	declared := map[string]bool{}
	for _, ns := range s.NS {
		declared[ns.Prefix] = true
	}
	for e := s.Parent; e != nil; e = e.Parent {
		for _, ns := range e.NS {
			if !declared[ns.Prefix] {
				declared[ns.Prefix] = true
				s.NS = append(s.NS, ns)
			}
		}
	}
}

func attr(n *xmltree.Node, local string) string {
	for _, a := range n.Attrs {
		if a.Space == "" && a.Local == local {
			return a.Value
		}
	}
	return ""
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
