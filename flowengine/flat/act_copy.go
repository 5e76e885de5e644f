package flat

import "github.com/flowproc/flowproc/flowengine/xmlsrc"

// <copy in out/> copies data unchanged (FLAT docs: copy): from
// in= (default: the main content) to out= (default: the main content).
// A file's extension gives its media type; a JSON file copied to a
// variable is a typed (OXN) value, anything else a string. A missing input
// is a logged warning and the flow goes on, as in FLAT.

func init() {
	registerAction("copy", &actionSpec{attrs: []string{"in", "out"}, compile: compileCopy})
}

type copyAction struct {
	in, out location
}

func compileCopy(c *compiler, f *Flow, e *xmlsrc.Element) action {
	return &copyAction{in: c.location(f, e, "in"), out: c.location(f, e, "out")}
}

func (a *copyAction) Run(r *run, s *step) (ctrl, error) {
	v, body, mime, ok, err := a.in.read(r)
	if err != nil {
		return ctrlNext, err
	}
	if !ok {
		r.p.logger().Warn(`Action "copy": input not found`, "requestID", r.x.ID, "at", s.At.String())
		return ctrlNext, nil
	}
	if v != nil {
		if a.out.varName != "" {
			r.setVar(a.out.varName, v)
			return ctrlNext, nil
		}
		body, mime = renderValue(v)
	}
	a.out.write(r, body, mime)
	return ctrlNext, nil
}
