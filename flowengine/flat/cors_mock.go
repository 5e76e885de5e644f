package flat

import (
	"errors"

	"github.com/flowproc/flowproc/flowengine/diag"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/cors"
	"github.com/flowproc/flowproc/flowengine/mock"
)

// CORS (x-flat-cors, FLAT docs: CORS) through flowengine/cors: a
// preflight is answered before anything else runs (OPTIONS outside the
// base path gets 405); every other response — flow, proxy, error — gets
// the Allow-* headers for an allowed origin and "Vary: Origin".
//
// Built-in mocking (FLAT docs: built-in mocking) through flowengine/mock: with
// FLAT_ALLOW_MOCKING=true, a request with "Mock: true" is answered from the
// operation's 2xx examples (or its schema) after validation, with the
// header "Mock: true"; the response is validated when response validation
// is on.

// compileCORS reads x-flat-cors.
func (p *Project) compileCORS(c *compiler) {
	if p.def.Doc == nil {
		return
	}
	ext, ok := p.def.Doc.Extensions["x-flat-cors"]
	var fromConfig *cors.ConfigCORS
	if cc := p.def.Config.CORS; cc != nil {
		fromConfig = &cors.ConfigCORS{AllowedOrigins: cc.AllowedOrigins, AllowCredentials: cc.AllowCredentials}
	}
	if !ok && fromConfig == nil {
		return
	}
	pol, err := cors.Compile(ext, fromConfig)
	if err != nil {
		d := corsDiag(p.def.File, err)
		if cc := p.def.Config.CORS; cc != nil {
			d.File, d.Line, d.Col = cc.At.File, cc.At.Line, cc.At.Col
		}
		c.errs.Add(d)
		return
	}
	p.cors = pol
}

// corsDecide answers a preflight (true) or records the headers the
// response gets.
func (r *run) corsDecide(m *apidef.Match) bool {
	d := r.p.cors.Decide(cors.Request{Method: r.x.Req.Method, Origin: r.header("origin"),
		RequestMethod: r.header("access-control-request-method"), RequestHeaders: r.header("access-control-request-headers")}, *m)
	if d.Answer {
		r.x.Resp.Status = d.Status
		r.setMain(nil, "")
		applyCORS(r, d.Headers)
		return true
	}
	r.sideState().corsHeaders = d.Headers
	return false
}

// applyCORS adds CORS headers to the response: Vary is added next to any
// existing one, the others are set.
func applyCORS(r *run, hs []cors.Header) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, cors.Vary) {
			r.x.AddResponseHeader(h.Name, h.Value)
			continue
		}
		r.x.SetResponseHeader(h.Name, h.Value)
	}
}

// mockAnswer answers a "Mock: true" request from the definition's
// examples; it returns false when mocking is off or not asked for.
func (r *run) mockAnswer(m *apidef.Match) (bool, error) {
	if !r.p.allowMocking || !strings.EqualFold(strings.TrimSpace(r.header("mock")), "true") || m.Path == nil || r.p.def.Doc == nil {
		return false, nil
	}
	method := r.x.Req.Method
	if m.Op != nil {
		method = m.Op.Method
	}
	op := mock.Operation(r.p.def.Doc, m.Path.Pattern, method)
	accept := r.header("accept")
	if op == nil {
		return true, &flowError{status: 500, code: 3211, message: "Mocking failed", info: []string{"the operation " + method + " " + m.Path.Pattern + " has no definition to mock"}}
	}
	status, ct, body, ok := mock.Response(r.p.def.Doc, op, accept)
	if !ok {
		return true, &flowError{status: 500, code: 3211, message: "Mocking failed", info: []string{"no example or schema of a 2xx response matches Accept: " + accept}}
	}
	r.x.Resp.Status = status
	r.setResponseHeader(mock.Header, "true")
	r.setMain(body, ct)
	return true, nil
}

// corsDiag is the load error of a bad x-flat-cors (FP102).
func corsDiag(file string, err error) *diag.Error {
	var de *diag.Error
	if errors.As(err, &de) {
		if de.File == "" {
			de.File = file
		}
		return de
	}
	return diag.Errorf(file, 0, 0, diag.BadExtension, "x-flat-cors: %v", err)
}
