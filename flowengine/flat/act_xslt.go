package flat

import (
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <xslt> (reference/flat.md §4.19) needs an XSLT 1.0 processor. No
// maintained pure-Go XSLT 1.0 engine exists, and flowproc's binaries are
// built without cgo (static images), so libxslt is not available: a flow
// using xslt does not load, with a message that says so, rather than run
// without the transformation.

func init() {
	registerAction("xslt", &actionSpec{attrs: []string{"src", "cache", "in", "out"}, compile: compileXSLT})
}

func compileXSLT(c *compiler, f *Flow, e *xmlsrc.Element) action {
	c.errf(f, e.Line, e.Col, diag.UnknownAction, "<xslt> is not supported by flowproc: it has no XSLT 1.0 processor; transform with <template> instead")
	return nil
}
