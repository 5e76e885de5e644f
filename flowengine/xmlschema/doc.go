// Package xmlschema validates XML documents against W3C XML Schemas (XSD
// 1.0), for Apigee's MessageValidation (SOAPMessageValidation) policy. No
// maintained pure-Go XSD validator exists, so validation runs on libxml2's
// XML Schema implementation (the library libxslt is built on) and needs
// cgo: it is built only with the build tag "xslt" (go build -tags xslt,
// with libxslt1-dev, which brings libxml2-dev), and Available reports
// whether this binary has it. Without it Compile and CompileWSDL return
// ErrUnavailable, so a caller fails at load rather than skip validation.
//
// Schemas are compiled once and are then safe for concurrent validation
// (each validation has its own libxml2 validation context). Compilation
// never touches the network or the file system: xs:import, xs:include and
// xs:redefine locations are resolved only among the files the caller
// passes in (a bundle's xsd and wsdl resources), by plain file name,
// "./name", "xsd://name" or "wsdl://name"; any other location fails the
// compilation. Validated documents are parsed without network access,
// DTD loading or entity expansion.
package xmlschema

import (
	"errors"
	"fmt"
)

// ErrUnavailable is returned when this binary was built without libxml2.
var ErrUnavailable = errors.New("this flowproc binary has no XML Schema validator (build it with -tags xslt and libxml2/libxslt)")

// ValidationError is a document that is not well-formed or does not
// conform to the schema.
type ValidationError struct {
	// Line is the line of the offending node, 0 when unknown.
	Line int
	// Reason is libxml2's message ("Element 'qty': 'x' is not a valid
	// value of the atomic type 'xs:int'.").
	Reason string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return e.Reason
}

// Compile compiles the schema src (name is its file name, for messages and
// relative locations). files are the documents its imports and includes
// may name, keyed by file name.
func Compile(name string, src []byte, files map[string][]byte) (*Schema, error) {
	if len(src) == 0 {
		return nil, errors.New("empty schema")
	}
	all := make(map[string][]byte, len(files)+1)
	for k, v := range files {
		all[k] = v
	}
	all[name] = src
	return compile(name, all)
}

// CompileWSDL compiles the schemas of a WSDL 1.1 or 2.0 document's types
// section into one schema (see WSDLSchemas). files are the documents
// their imports and includes may name.
func CompileWSDL(name string, src []byte, files map[string][]byte) (*Schema, error) {
	if !Available() {
		return nil, ErrUnavailable
	}
	set, err := WSDLSchemas(name, src, files)
	if err != nil {
		return nil, err
	}
	all := make(map[string][]byte, len(files)+len(set.Files))
	for k, v := range files {
		all[k] = v
	}
	for k, v := range set.Files {
		all[k] = v
	}
	return compile(set.Main, all)
}
