package flat

import (
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <backend-flow request="id">…</backend-flow> registers a mock upstream
// for the side calls (and, for "main", the forward) with that request ID
// (FLAT docs: backend-flow). It only registers: it must come before the
// test-request or code that makes the call. Once any backend flow is
// registered, the test sends no real requests; a call without a backend
// flow fails (unmocked). Inside it, $request and $body describe the
// upstream request; assert checks what was sent, and the response it
// builds (template, copy, set-status, set-response-headers …) is the
// upstream's answer. Test files only.

func init() {
	registerAction("backend-flow", &actionSpec{attrs: []string{"request"}, compile: compileBackendFlow, testOnly: true})
}

type backendFlowAction struct {
	id   string
	flow *Flow
}

func compileBackendFlow(c *compiler, f *Flow, e *xmlsrc.Element) action {
	id := "main"
	if a, ok := e.Attr("request"); ok {
		if a.Value == "" {
			c.errf(f, a.Line, a.Col, diag.BadAttribute, "request=\"\": want a request ID")
			return nil
		}
		id = a.Value
	}
	return &backendFlowAction{id: id, flow: &Flow{File: f.File, path: f.path, dir: f.dir, body: c.block(f, e.Children)}}
}

func (a *backendFlowAction) Run(r *run, _ *step) (ctrl, error) {
	if st := r.testState(); st != nil {
		st.mu.Lock()
		st.backends[a.id] = a.flow
		st.mu.Unlock()
	}
	return ctrlNext, nil
}

// testState returns the test the run belongs to (nil outside tests).
func (r *run) testState() *testState {
	if r.side == nil {
		return nil
	}
	return r.side.test
}
