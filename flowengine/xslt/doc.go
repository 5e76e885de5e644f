// Package xslt runs XSLT 1.0 transformations for FLAT's <xslt> action
// (FLAT docs: xslt) with libxslt, the XSLT 1.0 processor FLAT
// itself uses. No maintained pure-Go XSLT 1.0 engine exists, so the
// processor needs cgo and libxslt; it is built only with the build tag
// "xslt" (go build -tags xslt, with libxslt1-dev installed), and
// Available reports whether this binary has it. Without it a flow that
// uses <xslt> does not load, rather than run without its transformation.
//
// Stylesheets are compiled once and shared: a compiled Stylesheet is safe
// for concurrent transformations. Neither a stylesheet nor a
// transformation may read or write files or use the network (libxslt
// security preferences), and XML input is parsed without network access
// or entity expansion.
package xslt

import "errors"

// ErrUnavailable is returned when this binary was built without libxslt.
var ErrUnavailable = errors.New("this flowproc binary has no XSLT processor (build it with -tags xslt and libxslt)")

// Output is the result of a transformation.
type Output struct {
	// Data is the serialised result.
	Data []byte
	// Method is the xsl:output method ("xml", "html" or "text"; "xml" when
	// none was given and the result is not HTML).
	Method string
	// MediaType is xsl:output's media-type, "" when not given.
	MediaType string
}
