package xmlschema

import (
	"bytes"
	"encoding/xml"
	"fmt"

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
// A WSDL that imports or includes another WSDL is refused, as is one
// without any schema: there would be nothing to validate against.
func WSDLSchemas(name string, src []byte) (*SchemaSet, error) {
	doc, err := xmltree.Parse(src, 0)
	if err != nil {
		return nil, fmt.Errorf("WSDL %s is not well-formed: %w", name, err)
	}
	root := doc.Root()
	if root == nil {
		return nil, fmt.Errorf("WSDL %s has no root element", name)
	}
	if !(root.Space == WSDL11NS && root.Local == "definitions" || root.Space == WSDL20NS && root.Local == "description") {
		return nil, fmt.Errorf("%s is not a WSDL document (root element {%s}%s)", name, root.Space, root.Local)
	}
	set := &SchemaSet{Main: name + ".main.xsd", Files: map[string][]byte{}}
	byNS := map[string][]string{}
	n := 0
	for _, c := range root.Children {
		if c.Type != xmltree.Element || c.Space != root.Space {
			continue
		}
		switch c.Local {
		case "import", "include":
			loc := attr(c, "location")
			return nil, fmt.Errorf("WSDL %s: wsdl:%s of %q is not supported: put the schemas in <types> or import an .xsd from the schema", name, c.Local, loc)
		case "types":
		default:
			continue
		}
		for _, s := range c.Children {
			if s.Type != xmltree.Element || s.Space != XSDNS || s.Local != "schema" {
				continue
			}
			inheritNS(s)
			var b bytes.Buffer
			s.WriteXML(&b)
			n++
			file := fmt.Sprintf("%s.types%d.xsd", name, n)
			set.Files[file] = b.Bytes()
			tns := attr(s, "targetNamespace")
			if _, seen := byNS[tns]; !seen {
				set.Namespaces = append(set.Namespaces, tns)
			}
			byNS[tns] = append(byNS[tns], file)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("WSDL %s has no xs:schema in its types section: there is nothing to validate against", name)
	}
	var m bytes.Buffer
	m.WriteString(`<xs:schema xmlns:xs="` + XSDNS + `">`)
	for i, ns := range set.Namespaces {
		files := byNS[ns]
		if ns == "" {
			for _, f := range files {
				m.WriteString(`<xs:include schemaLocation="` + esc(f) + `"/>`)
			}
			continue
		}
		loc := files[0]
		if len(files) > 1 {
			loc = fmt.Sprintf("%s.ns%d.xsd", name, i+1)
			var w bytes.Buffer
			w.WriteString(`<xs:schema xmlns:xs="` + XSDNS + `" targetNamespace="` + esc(ns) + `">`)
			for _, f := range files {
				w.WriteString(`<xs:include schemaLocation="` + esc(f) + `"/>`)
			}
			w.WriteString(`</xs:schema>`)
			set.Files[loc] = w.Bytes()
		}
		m.WriteString(`<xs:import namespace="` + esc(ns) + `" schemaLocation="` + esc(loc) + `"/>`)
	}
	m.WriteString(`</xs:schema>`)
	set.Files[set.Main] = m.Bytes()
	return set, nil
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
