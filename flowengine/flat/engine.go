package flat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// Run executes the project's flows for one exchange (flowengine.Runner).
// It never panics out: a panic becomes a 500 answer, logged with the
// request ID.
func (p *Project) Run(ctx context.Context, req *flowengine.Request, host flowengine.Host) (out *flowengine.Outcome) {
	r := &run{p: p, ctx: ctx, req: req, host: host, id: req.ID}
	r.budget.Reset(ctx, p.opts.Limits)
	r.vars, r.params, r.setHeaders = r.varsBuf[:0], r.paramsBuf[:0], r.headersBuf[:0]
	r.scratch = *bytes.NewBuffer(r.scratchBuf[:0])
	if r.id == "" {
		r.id = newRequestID()
	}
	defer func() {
		if v := recover(); v != nil {
			p.logger().Error("panic in flow", "requestID", r.id, "project", p.name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			fe := &flowError{status: 500, code: 5003, message: "Internal Server Error", info: []string{"internal error while running the flow"}}
			out = r.errorOutcome(fe)
			out.Panicked = true
		}
	}()
	r.reqPath, r.reqQuery, _ = strings.Cut(req.Path, "?")
	err := r.main()
	if err != nil {
		err = r.handleError(err)
	}
	if err != nil {
		return r.errorOutcome(asFlowError(err))
	}
	return r.outcome()
}

// main routes the request and runs init, path and proxy flows.
func (r *run) main() error {
	p := r.p
	m := p.def.Match(r.req.Method, r.reqPath)
	r.params = r.params[:0]
	for _, pp := range m.Params {
		r.params = append(r.params, paramKV{name: pp.Name, value: pp.Value})
	}
	r.endpoint = m.Endpoint
	if r.endpoint == "" {
		r.endpoint = r.reqPath
	}
	switch m.Kind {
	case apidef.Outside:
		if p.defaultFlow == nil {
			r.flowName = ""
			return nil // not an API request and no default flow: pass through
		}
		r.flowName = p.defaultFlow.File
		_, err := r.flow(p.defaultFlow)
		return err
	case apidef.NotFound:
		return &flowError{status: 400, code: 3204, message: "Input Validation Failed", info: []string{m.Message}}
	}
	if p.init != nil {
		c, err := r.flow(p.init)
		if err != nil || c == ctrlBreak || c == ctrlTerminate {
			return err
		}
	}
	switch {
	case m.Proxy != nil:
		r.flowName = "x-flat-proxy"
		pa := p.proxies[m.Proxy]
		if pa == nil {
			return fmt.Errorf("x-flat-proxy at %s:%d was not compiled", m.Proxy.At.File, m.Proxy.At.Line)
		}
		return r.proxy(pa.fixed)
	case m.Flow != nil:
		f := p.flows[m.Flow.Path]
		r.flowName = f.File
		_, err := r.flow(f)
		return err
	}
	return nil
}

// handleError runs the error flow for err, once. It returns the error that
// remains (nil when the error flow produced the response).
func (r *run) handleError(err error) error {
	fe := asFlowError(err)
	if fe.status == 499 { // cancelled: nothing to answer
		return err
	}
	if fe.cause != nil && fe.code == 5000 {
		r.p.logger().Warn("flow error", "requestID", r.id, "project", r.p.name, "flow", r.flowName, "error", fe.cause.Error())
	}
	r.errorCode = fe.code
	if r.p.errorFlow == nil || r.inErrFlow {
		return fe
	}
	r.inErrFlow = true
	if fe.extra == nil {
		fe.extra = errorObject(fe, nil, r.id)
	}
	r.setVar("error", expr.NodeSet{fe.extra})
	r.status = fe.status
	r.contentSet, r.content = false, nil
	if _, err2 := r.flow(r.p.errorFlow); err2 != nil {
		r.p.logger().Warn("error in error flow", "requestID", r.id, "error", err2.Error())
		inner := asFlowError(err2)
		r.errorCode = inner.code
		return inner
	}
	if !r.contentSet {
		return fe // the error flow built no response: send the document
	}
	return nil
}

// errorOutcome answers with FLAT's system error document.
func (r *run) errorOutcome(fe *flowError) *flowengine.Outcome {
	var body []byte
	if fe.extra != nil {
		var b bytes.Buffer
		b.WriteString(`{"error":`)
		if err := oxn.Write(&b, fe.extra); err != nil {
			body = errorDocument(fe, r.id)
		} else {
			b.WriteByte('}')
			body = b.Bytes()
		}
	} else {
		body = errorDocument(fe, r.id)
	}
	r.errorCode = fe.code
	r.status = fe.status
	r.setMain(body, "application/json")
	return r.outcome()
}

// outcome turns the run's state into the host's Outcome, forwarding first
// when the flows neither answered nor forwarded.
func (r *run) outcome() *flowengine.Outcome {
	if !r.forwarded && !r.contentSet && r.status == 0 {
		if err := r.forward(r.upstreamURL()); err != nil {
			return r.errorOutcome(asFlowError(err))
		}
	}
	o := &r.out
	*o = flowengine.Outcome{
		Project:   r.p.name,
		Flow:      r.flowName,
		ErrorCode: r.errorCode,
		RequestID: r.id,
	}
	if r.logFields != nil {
		var b bytes.Buffer
		r.logFields.write(&b)
		o.Log = b.Bytes()
	}
	headers := r.setHeaders
	if r.contentSet && !r.contentFromUpstream {
		ct := r.contentType
		if ct == "" {
			ct = "text/plain"
		}
		// The run is over: its header list becomes the outcome's.
		headers = append(withoutHeader(headers, "content-type"), flowengine.Header{})
		copy(headers[1:], headers)
		headers[0] = flowengine.Header{Name: "content-type", Value: ct}
		r.setHeaders = headers
	}
	o.SetHeaders = headers
	o.AddHeaders = r.addHeaders
	if r.forwarded && r.upstream != nil {
		o.Kind = flowengine.Forwarded
		o.Status = r.status
		if r.contentSet && !r.contentFromUpstream {
			o.Body, o.BodySet = r.content, true
		}
		return o
	}
	o.Kind = flowengine.Answered
	o.Status = r.status
	if o.Status == 0 {
		o.Status = 200
	}
	o.Body, o.BodySet = r.content, true
	return o
}

// withoutHeader removes the headers named name from hs, in place.
func withoutHeader(hs []flowengine.Header, name string) []flowengine.Header {
	out := hs[:0]
	for _, h := range hs {
		if h.Name != name {
			out = append(out, h)
		}
	}
	return out
}

// upstreamURL is the URL Envoy's route forwards to, as far as flowproc
// knows it (for $upstream/main/url).
func (r *run) upstreamURL() string {
	scheme := r.req.Scheme
	if scheme == "" {
		scheme = "http"
	}
	path := r.req.Path
	if r.fwd.Path != "" {
		path = r.fwd.Path
	}
	return scheme + "://" + r.req.Authority + path
}

// newRequestID returns a FLAT-style request ID (27 URL-safe characters).
func newRequestID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
