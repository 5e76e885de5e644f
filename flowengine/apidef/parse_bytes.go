package apidef

import (
	"errors"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// errNoFiles refuses the external $refs of a definition given as bytes.
var errNoFiles = errors.New("a definition given as bytes cannot reference other files")

// Parse reads an API definition held in memory (an OpenAPI document that
// is not a FLAT project's file, e.g. an Apigee bundle's oas:// resource).
// name is used in diagnostics only. It is parsed, routed and validated like
// a definition read by Load, but it cannot reference files: x-flat-* flow
// references and external $refs are errors (the document has no directory
// that they could be confined to).
//
// The Definition is nil only when data is not a definition at all; with
// errors it must not be used.
func Parse(name string, data []byte) (*Definition, diag.List) {
	l := &loader{noFiles: true}
	return l.loadDefinition(&Definition{File: name}, data)
}
