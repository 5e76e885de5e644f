package flat

import (
	"bytes"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <nameshave in out/> removes every XML namespace from a document
// (FLAT docs: nameshave): elements and attributes keep their local
// names, namespace declarations go, and same-named attributes overwrite
// each other (the last wins), as FLAT warns. Input that is not XML is left
// where it is and logged.

func init() {
	registerAction("nameshave", &actionSpec{attrs: []string{"in", "out"}, compile: compileNameshave})
}

type nameshaveAction struct {
	in, out location
}

func compileNameshave(c *compiler, f *Flow, e *xmlsrc.Element) action {
	return &nameshaveAction{in: c.location(f, e, "in"), out: c.location(f, e, "out")}
}

func (a *nameshaveAction) Run(r *run, s *step) (ctrl, error) {
	text, _, ok, err := a.in.text(r)
	if err != nil || !ok {
		return ctrlNext, err
	}
	// dom.ParseXML keeps local names only: parsing is the shave.
	doc, err := dom.ParseXML([]byte(text), r.p.opts.maxDepth())
	if err != nil {
		r.p.logger().Warn(`Action "nameshave": input is not XML`, "requestID", r.x.ID, "at", s.At.String(), "error", err.Error())
		return ctrlNext, nil
	}
	if a.out.varName != "" {
		r.setVar(a.out.varName, expr.NodeSet{doc})
		return ctrlNext, nil
	}
	var b bytes.Buffer
	dom.WriteXML(&b, doc.FirstElement())
	r.setMain(b.Bytes(), "application/xml")
	return ctrlNext, nil
}
