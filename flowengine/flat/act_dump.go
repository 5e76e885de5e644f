package flat

import "github.com/flowproc/flowproc/flowengine/xmlsrc"

// <dump in mime status minify/> ends processing and sends data to the
// client: the main content by default, or a variable (FLAT docs: dump). The
// data also goes to the run's tracer. flowproc does not minify JS/CSS
// (minify is accepted; the output is the same program, unminified).

func init() {
	registerAction("dump", &actionSpec{attrs: []string{"in", "mime", "status", "minify"}, compile: compileDump})
}

type dumpAction struct {
	in     input
	mime   value
	status value
	// hasStatus: status= was given (an empty value means 500).
	hasStatus bool
}

func compileDump(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &dumpAction{in: c.input(f, e)}
	a.in.fetch = true
	if m, ok := e.Attr("mime"); ok {
		a.mime = c.value(f, m)
	}
	if s, ok := e.Attr("status"); ok {
		a.hasStatus = true
		if s.Value != "" {
			a.status = c.statusValue(f, s)
		}
	}
	return a
}

func (a *dumpAction) Run(r *run, s *step) (ctrl, error) {
	var (
		body []byte
		mime string
	)
	switch a.in.kind {
	case inMain:
		if r.x.Forwarded && !r.x.Resp.BodySet {
			if err := r.ensureResponseBody(); err != nil {
				return ctrlNext, err
			}
		}
		body, mime = r.x.Resp.Body, r.x.Resp.ContentType
	case inVar:
		if v, ok := r.Var(a.in.name); ok {
			body, mime = renderValue(v)
		}
	case inFile:
		body, mime = renderValue(nodeSetOf(a.in.fixed))
	case inContent:
		body, mime, _ = r.ContentBody(a.in.name)
	}
	if !a.mime.empty() {
		m, err := a.mime.eval(r)
		if err != nil {
			return ctrlNext, err
		}
		mime = m
	}
	if a.hasStatus {
		if err := r.applyStatus(a.status); err != nil {
			return ctrlNext, err
		}
	}
	r.x.TraceMessage(r.flowFile, "dump", s.At, string(body))
	r.setMain(body, mime)
	return ctrlTerminate, nil
}
