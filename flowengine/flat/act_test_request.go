package flat

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <test-request>{"path": "/api/x?y=1", "method", "headers", …}</test-request>
// sends a request through the app under test — routing, validation,
// security, the init, path and error flows — exactly as a production
// exchange runs (FLAT docs: test-request). It takes the request action's
// properties with "path" (and an optional query string) instead of "url".
// Afterwards $status is the response status (a number), $response its body
// (a string) and $headers its headers (lower-case names). A forward goes to
// the backend flow "main". Test files only.

func init() {
	registerAction("test-request", &actionSpec{attrs: []string{"in", "src"}, compile: compileTestRequest, testOnly: true})
}

type testRequestAction struct {
	t  *tmpl
	in input
}

func compileTestRequest(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &testRequestAction{in: c.input(f, e), t: c.template(f, e, true)}
	if a.t == nil {
		return nil
	}
	return a
}

func (a *testRequestAction) Run(r *run, s *step) (ctrl, error) {
	st := r.testState()
	if st == nil {
		return ctrlNext, nil
	}
	cfg, err := r.renderConfig(a.t, s, "test-request")
	if err != nil {
		return ctrlNext, err
	}
	if oxn.TypeOf(cfg) != oxn.Object {
		return ctrlNext, configError(s, "test-request", fmt.Errorf("the configuration must be a JSON object"))
	}
	pn := cfg.Child("path")
	if pn == nil || oxn.TypeOf(pn) != oxn.String || !strings.HasPrefix(pn.StringValue(), "/") {
		return ctrlNext, configError(s, "test-request", fmt.Errorf("\"path\" is required: a string starting with \"/\""))
	}
	path := pn.StringValue()
	pn.Detach()
	if u := cfg.Child("url"); u != nil {
		return ctrlNext, configError(s, "test-request", fmt.Errorf("use \"path\", not \"url\""))
	}
	call, err := r.buildCall(cfg, requestDefaults{id: "test", url: "http://localhost" + path})
	if err != nil {
		return ctrlNext, configError(s, "test-request", err)
	}
	if len(call.Uploads) > 0 {
		return ctrlNext, configError(s, "test-request", fmt.Errorf("\"uploads\" are not supported in test-request"))
	}
	u, err := url.Parse(call.URL)
	if err != nil {
		return ctrlNext, configError(s, "test-request", err)
	}
	req := requestOfCall(call, u, st.opts.Trace) // http://localhost<path>
	st.mu.Lock()
	st.res.Requests = append(st.res.Requests, req.Method+" "+req.Path)
	st.mu.Unlock()

	if st.opts.NewHost == nil {
		return ctrlNext, configError(s, "test-request", fmt.Errorf("no test host: run tests with flowproc test"))
	}
	child := r.p.newRun(r.x.Ctx, req, nil)
	host := st.opts.NewHost(req, call.Body, backendClient{st: st, r: child})
	child.x.Host = host
	child.side = &sides{test: st}
	shareVars(child, r)
	out := runtime.Guard(child.run, child.panicked)
	shareVars(r, child)

	up, upBody := host.Upstream()
	body := out.Body
	if out.Kind == flowengine.Forwarded && !out.BodySet {
		body = upBody
	}
	status := out.Status
	if status == 0 && up != nil {
		status = up.Status
	}
	r.setVar("status", float64(status))
	r.setVar("response", string(body))
	r.setVar("headers", expr.NodeSet{responseHeaders(out, up)})
	return ctrlNext, nil
}

// responseHeaders is $headers: the response's headers as the client sees
// them, with lower-case names (repeated fields joined with ", ").
func responseHeaders(out *flowengine.Outcome, up *flowengine.Response) *dom.Node {
	var hs []flowengine.Header
	if out.Kind == flowengine.Forwarded && up != nil {
		removed := map[string]bool{}
		for _, n := range out.RemoveHeaders {
			removed[strings.ToLower(n)] = true
		}
		for _, h := range out.SetHeaders {
			removed[strings.ToLower(h.Name)] = true
		}
		for _, h := range up.Headers {
			if !removed[strings.ToLower(h.Name)] {
				hs = append(hs, h)
			}
		}
	}
	hs = append(hs, out.SetHeaders...)
	hs = append(hs, out.AddHeaders...)
	obj := oxn.NewObject("headers")
	for i, h := range hs {
		name := strings.ToLower(h.Name)
		if seenBefore(hs[:i], name) {
			continue
		}
		oxn.AddMember(obj, name, oxn.NewString(name, joinValues(hs, name)))
	}
	return obj
}
