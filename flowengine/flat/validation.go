package flat

import (
	"context"
	"log/slog"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/oasvalidate"
)

// x-flat-validate (FLAT docs: request validation), through flowengine/oasvalidate:
// a routed request is validated after routing and before the security
// check and the flows (a failure answers 400, code 3204, through the error
// flow); the response is validated after the flows (500). report-only logs
// a flat_alert (topic validation) and goes on. The error flow's own output
// is not validated.

// compileValidation builds the project's validator; p.validating is set
// when any operation validates a direction.
func (p *Project) compileValidation(c *compiler) {
	if p.def.Doc == nil {
		return
	}
	v, errs := oasvalidate.Compile(p.def)
	c.errs = append(c.errs, errs...)
	if v == nil {
		return
	}
	p.validator = v
	for _, pth := range p.def.Paths {
		ops := pth.Ops
		if len(ops) == 0 {
			ops = []*apidef.Operation{nil}
		}
		for _, o := range ops {
			if req, resp := v.Modes(pth, o); req != oasvalidate.Off || resp != oasvalidate.Off {
				p.validating = true
			}
		}
	}
}

// validationInput describes the run's request for the validator.
func (r *run) validationInput(m *apidef.Match) oasvalidate.RequestInput {
	in := oasvalidate.RequestInput{Path: m.Path, Op: m.Op, Params: m.Params, Method: r.x.Req.Method,
		RawPath: r.reqPath, Query: r.reqQuery, ContentType: r.header("content-type")}
	for _, h := range r.x.Req.Headers {
		in.Headers = append(in.Headers, oasvalidate.Header{Name: h.Name, Value: h.Value})
	}
	return in
}

// validateRequest checks the routed request; it remembers the match for
// the response check.
func (r *run) validateRequest(m *apidef.Match) error {
	op := r.p.validator.Lookup(m.Path, m.Op)
	if op == nil {
		return nil
	}
	req, resp := op.Modes()
	if req == oasvalidate.Off && resp == oasvalidate.Off {
		return nil
	}
	s := r.sideState()
	mc := *m
	s.validated = &mc
	if req == oasvalidate.Off {
		return nil
	}
	in := r.validationInput(m)
	if op.NeedsRequestBody() {
		if err := r.ensureBody(); err != nil {
			return err
		}
		b, err := r.x.RequestBody()
		if err != nil {
			return &flowError{status: 502, code: 3205, message: "Request body unavailable", info: []string{err.Error()}, cause: err}
		}
		in.Body, in.BodyRead = b, true
	}
	return r.validationResult(op.ValidateRequest(r.x.Ctx, in))
}

// validateResponse checks the response the flows built (not the error
// flow's).
func (r *run) validateResponse() error {
	if r.side == nil || r.side.validated == nil || r.inErrFlow {
		return nil
	}
	m := r.side.validated
	op := r.p.validator.Lookup(m.Path, m.Op)
	if _, resp := op.Modes(); resp == oasvalidate.Off {
		return nil
	}
	x := &r.x
	in := oasvalidate.ResponseInput{Request: r.validationInput(m), Status: x.Resp.Status}
	body, ct := x.Resp.Body, x.Resp.ContentType
	if x.Forwarded && x.Upstream != nil {
		if in.Status == 0 {
			in.Status = x.Upstream.Status
		}
		removed := map[string]bool{}
		for _, n := range x.Resp.Removed {
			removed[strings.ToLower(n)] = true
		}
		for _, h := range x.Resp.Headers {
			removed[strings.ToLower(h.Name)] = true
		}
		for _, h := range x.Upstream.Headers {
			if !removed[strings.ToLower(h.Name)] {
				in.Headers = append(in.Headers, oasvalidate.Header{Name: strings.ToLower(h.Name), Value: h.Value})
			}
		}
		if !x.Resp.BodySet {
			if err := r.ensureResponseBody(); err != nil {
				return err
			}
			body, ct = x.Resp.Body, x.Resp.ContentType
		}
	}
	if in.Status == 0 {
		in.Status = 200
	}
	for _, h := range x.Resp.Headers {
		in.Headers = append(in.Headers, oasvalidate.Header{Name: strings.ToLower(h.Name), Value: h.Value})
	}
	if ct == "" && x.Resp.BodySet && len(body) > 0 {
		ct = "text/plain"
	}
	if ct != "" {
		in.Headers = append(in.Headers, oasvalidate.Header{Name: "content-type", Value: ct})
	}
	in.ContentType, in.Body = ct, body
	return r.validationResult(op.ValidateResponse(r.x.Ctx, in))
}

// validationResult logs a violation and turns a failure into a flow
// error.
func (r *run) validationResult(res oasvalidate.Result) error {
	if res.Error == nil {
		return nil
	}
	r.p.logger().LogAttrs(context.WithoutCancel(r.x.Ctx), slog.LevelWarn, "flat_alert",
		slog.String("type", "flat_alert"), slog.String("topic", "validation"), slog.String("requestID", r.x.ID),
		slog.String("message", res.Error.Message), slog.Any("info", res.Error.Info), slog.String("mode", res.Mode.String()))
	if !res.Failed() {
		return nil
	}
	return &flowError{status: res.Error.Status, code: res.Error.Code, message: res.Error.Message, info: res.Error.Info}
}
