package flat

import "github.com/flowproc/flowproc/flowengine/xmlsrc"

// <pass-body request mime status/> makes the unmodified body of a side
// call the response body (FLAT docs: pass-body): request= names the
// request ID (default main), mime= the Content-Type (default text/plain,
// as FLAT documents it, not the upstream's), status= the status. The flow
// goes on; a later action may still change the response.

func init() {
	registerAction("pass-body", &actionSpec{attrs: []string{"request", "mime", "status"}, compile: compilePassBody})
}

type passBodyAction struct {
	id, mime, status value
}

func compilePassBody(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &passBodyAction{id: value{lit: "main"}, mime: value{lit: "text/plain"}}
	if at, ok := e.Attr("request"); ok {
		a.id = c.value(f, at)
	}
	if at, ok := e.Attr("mime"); ok {
		a.mime = c.value(f, at)
	}
	if at, ok := e.Attr("status"); ok {
		a.status = c.statusValue(f, at)
	}
	return a
}

func (a *passBodyAction) Run(r *run, s *step) (ctrl, error) {
	id, err := a.id.eval(r)
	if err != nil {
		return ctrlNext, err
	}
	mime, err := a.mime.eval(r)
	if err != nil {
		return ctrlNext, err
	}
	body, _, ok := r.ContentBody(id)
	if !ok {
		r.p.logger().Warn(`Action "pass-body": no response body for request`, "requestID", r.x.ID, "request", id, "at", s.At.String())
	}
	if !a.status.empty() {
		if err := r.applyStatus(a.status); err != nil {
			return ctrlNext, err
		}
	}
	r.setMain(body, mime)
	return ctrlNext, nil
}
