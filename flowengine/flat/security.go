package flat

import (
	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/jwtauth"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// JWT security (security + x-flat-jwt, FLAT docs: JWT security) through
// flowengine/jwtauth: after request validation and before mocking and the
// init flow, a request to an operation with JWT requirements must carry a
// valid token; otherwise it is answered 403 (code 3206) through the error
// flow. A valid token's claims become $jwt (or the scheme's out-var), its
// out-header is sent with every upstream request (request, requests,
// proxy-request, x-flat-proxy), and its post-check-flow runs.

// compileSecurity compiles the JWT schemes and their post-check flows.
func (p *Project) compileSecurity(c *compiler, env func(string) string) {
	if p.def.Doc == nil {
		return
	}
	ck, errs := jwtauth.Compile(p.def, jwtauth.Options{
		LookupEnv: func(k string) (string, bool) { v := env(k); return v, v != "" },
		Client:    p.client(),
	})
	c.errs = append(c.errs, errs...)
	if ck == nil || len(errs) > 0 {
		return
	}
	for _, ref := range ck.PostCheckFlows() {
		c.flow(ref.Path, ref.At)
	}
	for _, pth := range p.def.Paths {
		ops := pth.Ops
		if len(ops) == 0 {
			ops = []*apidef.Operation{nil}
		}
		for _, o := range ops {
			if !ck.For(pth, o).Empty() {
				p.jwt = ck
			}
		}
	}
}

// checkSecurity enforces the matched operation's JWT requirements;
// answered is true when a post-check flow ended the request (echo, break).
func (r *run) checkSecurity(m *apidef.Match) (answered bool, err error) {
	reqs := r.p.jwt.ForMatch(*m)
	if reqs.Empty() {
		return false, nil
	}
	ok, fail := r.p.jwt.Check(r.x.Ctx, reqs, r.x.Req.Headers)
	if fail != nil {
		if err := r.x.Ctx.Err(); err != nil {
			return false, err
		}
		return false, &flowError{status: fail.Status, code: fail.Code, message: fail.Message, info: fail.Info}
	}
	for _, t := range ok.Tokens {
		if doc, err := r.slab.Parse(t.Claims, r.p.opts.maxDepth()); err == nil {
			r.setVar(t.OutVar, expr.NodeSet{doc.FirstElement()})
		}
		if t.OutHeader != "" {
			s := r.sideState()
			s.jwtHeaders = append(s.jwtHeaders, upstream.Field{Name: t.OutHeader, Value: string(t.Claims)})
		}
	}
	for _, t := range ok.Tokens {
		if t.PostCheckFlow == nil {
			continue
		}
		f := r.p.flows[t.PostCheckFlow.Path]
		if f == nil {
			continue
		}
		c, err := r.flow(f)
		if err != nil {
			return false, err
		}
		if c == ctrlTerminate || c == ctrlBreak {
			return true, nil
		}
	}
	return false, nil
}
