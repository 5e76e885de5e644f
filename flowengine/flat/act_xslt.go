package flat

import (
	"bytes"
	"path/filepath"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
	"github.com/flowproc/flowproc/flowengine/xslt"
)

// <xslt src in out cache/> is an XSLT 1.0 transformation
// (FLAT docs: xslt) run by libxslt (package flowengine/xslt). The
// stylesheet (src=, relative to the flow) is compiled at load; a missing,
// empty or uncompilable stylesheet is a load error, and so is a binary
// built without XSLT support (the default build: libxslt needs cgo, see
// docs/flows.md). in= and out= default to the main content; JSON input is
// transformed as its OXN XML. <xsl:output method> decides the result: xml
// gives a document (a DOM in a variable), html and text a string; its
// media-type becomes the Content-Type. A missing input or a failing
// transformation is logged and writes nothing, as in FLAT. cache= is
// accepted: stylesheets are always compiled once per load.

func init() {
	registerAction("xslt", &actionSpec{attrs: []string{"src", "cache", "in", "out"}, compile: compileXSLT})
}

type xsltAction struct {
	style   *xslt.Stylesheet
	in, out location
}

func compileXSLT(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a, ok := c.requireAttr(f, e, "src")
	if !ok {
		return nil
	}
	if !xslt.Available() {
		c.errf(f, e.Line, e.Col, diag.UnknownAction, "<xslt>: %v; see docs/flows.md (xslt)", xslt.ErrUnavailable)
		return nil
	}
	path := filepath.Join(f.dir, a.Value)
	src, err := c.p.readFile(path)
	if err != nil {
		c.errf(f, a.Line, a.Col, fileCode(err), "src=%q: %v", a.Value, unwrapPathErr(err))
		return nil
	}
	style, err := xslt.Compile(a.Value, src)
	if err != nil {
		c.errf(f, a.Line, a.Col, diag.BadContent, "src=%q: %v", a.Value, err)
		return nil
	}
	return &xsltAction{style: style, in: c.location(f, e, "in"), out: c.location(f, e, "out")}
}

func (a *xsltAction) Run(r *run, s *step) (ctrl, error) {
	v, body, _, ok, err := a.in.read(r)
	if err != nil {
		return ctrlNext, err
	}
	if !ok {
		r.p.logger().Warn(`Action "xslt": input not found`, "requestID", r.x.ID, "at", s.At.String())
		return ctrlNext, nil
	}
	input := xsltInput(v, body)
	if err := r.budget.Decoded(int64(len(input))); err != nil {
		return ctrlNext, err
	}
	out, err := a.style.Transform(input)
	if err != nil {
		r.p.logger().Warn(`Action "xslt": transformation failed`, "requestID", r.x.ID, "at", s.At.String(), "error", err.Error())
		return ctrlNext, nil
	}
	if err := r.budget.Output(int64(len(out.Data))); err != nil {
		return ctrlNext, err
	}
	mime := out.MediaType
	if mime == "" {
		mime = map[string]string{"xml": "application/xml", "html": "text/html", "text": "text/plain"}[out.Method]
	}
	if a.out.varName != "" {
		if out.Method == "xml" {
			if doc, err := dom.ParseXML(out.Data, r.p.opts.maxDepth()); err == nil {
				r.setVar(a.out.varName, expr.NodeSet{doc})
				return ctrlNext, nil
			}
		}
		r.setVar(a.out.varName, string(out.Data))
		return ctrlNext, nil
	}
	r.setMain(out.Data, mime)
	return ctrlNext, nil
}

// xsltInput is the XML to transform: a DOM or JSON value serialised as
// XML (OXN for JSON), JSON text as its OXN XML, anything else as it is.
func xsltInput(v expr.Value, body []byte) []byte {
	var n *dom.Node
	switch t := v.(type) {
	case expr.NodeSet:
		if len(t) > 0 {
			n = t[0]
		}
	case nil:
		if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] != '<' {
			if doc, err := oxn.Parse(trimmed, 512); err == nil {
				n = doc
			}
		}
	default:
		return []byte(expr.String(v))
	}
	if n != nil && n.Type == dom.DocumentNode {
		n = n.FirstElement()
	}
	if n == nil {
		return body
	}
	var b bytes.Buffer
	dom.WriteXML(&b, n)
	return b.Bytes()
}
