package flat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// Run executes the project's flows for one exchange (flowengine.Runner).
// It never panics out: a panic becomes a 500 answer, logged with the
// request ID.
func (p *Project) Run(ctx context.Context, req *flowengine.Request, host flowengine.Host) *flowengine.Outcome {
	if p.debug.global != nil || p.debug.allowHeader || p.debug.auth != "" {
		if spec := p.requestSpec(req); spec != nil {
			return p.runDebugged(ctx, req, host, spec)
		}
	}
	r := p.newRun(ctx, req, host)
	o := runtime.Guard(r.run, r.panicked)
	if o != nil && !o.Panicked && o.After == nil && r.recyclable() {
		o.Recycle = r
	}
	return o
}

// runs holds finished runs for reuse: a run is about 2.3 KiB with its
// inline buffers, and its object scratch (slab.objects) is reused with it.
var runs = sync.Pool{New: func() any { return new(run) }}

// maxPooledMembers bounds the member scratch a pooled run keeps.
const maxPooledMembers = 256

// recyclable reports whether nothing outside the run can still refer to
// it once the host is done with its Outcome: no trace recorder holds its
// values, it made no side call (whose client, cache or logs could), and it
// is not part of a flowproc test run. Side state of its own (CORS headers,
// a validated match, JWT out-headers) goes with it.
func (r *run) recyclable() bool {
	return r.x.Trace == nil && (r.side == nil || !r.side.called && r.side.test == nil)
}

// Recycle implements flowengine.Recycler: the run is cleared and pooled,
// keeping its object scratch (the tree arena's current blocks and the
// member slice). Only Run's runs are recycled (never a debugged or test
// run).
func (r *run) Recycle() {
	obj := r.slab.obj
	*r = run{}
	if obj != nil && cap(obj.members) <= maxPooledMembers {
		ms := obj.members[:cap(obj.members)]
		clear(ms)
		obj.members = ms[:0]
		if fs := obj.fields[:cap(obj.fields)]; cap(fs) <= maxPooledMembers {
			clear(fs) // fields refer to the arena's text
			obj.fields = fs[:0]
		} else {
			obj.fields = nil
		}
		if px := obj.proxy; px != nil {
			hs := px.headers[:cap(px.headers)]
			clear(hs) // members refer to trees
			*px = proxySpec{}
			if cap(hs) <= maxPooledMembers {
				px.headers = hs[:0]
			}
		}
		es := obj.log.entries[:cap(obj.log.entries)]
		clear(es) // entries refer to trees and nested maps
		obj.log = orderedMap{}
		if cap(es) <= maxPooledMembers {
			obj.log.entries = es[:0]
		}
		obj.trees.Reset()
		obj.kept = true
		r.slab.obj = obj
	}
	runs.Put(r)
}

// newRun starts the state of one run.
func (p *Project) newRun(ctx context.Context, req *flowengine.Request, host flowengine.Host) *run {
	r := runs.Get().(*run)
	r.p = p
	r.x.Start(ctx, req, host)
	r.budget.ResetAt(ctx, p.opts.Limits, req.Received)
	r.x.Budget = &r.budget
	r.x.Resp.Headers = r.headersBuf[:0]
	r.vars, r.params = r.varsBuf[:0], r.paramsBuf[:0]
	r.scratch = *bytes.NewBuffer(r.scratchBuf[:0])
	if r.x.ID == "" {
		r.x.ID = newRequestID()
	}
	return r
}

// run routes the request, runs its flows and the error flow.
func (r *run) run() *flowengine.Outcome {
	r.reqPath, r.reqQuery, _ = strings.Cut(r.x.Req.Path, "?")
	err := r.main()
	if err == nil && r.p.validating {
		err = r.validateResponse()
	}
	if err != nil {
		err = r.handleError(err)
	}
	if err != nil {
		return r.errorOutcome(asFlowError(err))
	}
	return r.outcome()
}

// panicked answers a recovered panic with 500 and logs it.
func (r *run) panicked(v any, stack []byte) *flowengine.Outcome {
	r.p.logger().Error("panic in flow", "requestID", r.x.ID, "project", r.p.name, "panic", fmt.Sprint(v), "stack", string(stack))
	fe := &flowError{status: 500, code: 5003, message: "Internal Server Error", info: []string{"internal error while running the flow"}}
	return r.errorOutcome(fe)
}

// main routes the request and runs init, path and proxy flows.
func (r *run) main() error {
	p := r.p
	m := p.def.Match(r.x.Req.Method, r.reqPath)
	r.params = r.params[:0]
	for _, pp := range m.Params {
		r.params = append(r.params, paramKV{name: pp.Name, value: pp.Value})
	}
	r.endpoint = m.Endpoint
	if r.endpoint == "" {
		r.endpoint = r.reqPath
	}
	if p.cors != nil && r.corsDecide(&m) {
		return nil // a preflight, answered
	}
	switch m.Kind {
	case apidef.Outside:
		if p.defaultFlow == nil {
			r.flowName = ""
			r.noFlow() // outside the base path and no conf/flow.xml
			return nil
		}
		r.flowName = p.defaultFlow.File
		_, err := r.flow(p.defaultFlow)
		return err
	case apidef.NotFound:
		return &flowError{status: 400, code: 3204, message: "Input Validation Failed", info: []string{m.Message}}
	}
	if p.validating {
		if err := r.validateRequest(&m); err != nil {
			return err
		}
	}
	if p.jwt != nil {
		if answered, err := r.checkSecurity(&m); answered || err != nil {
			return err
		}
	}
	if p.allowMocking {
		if mocked, err := r.mockAnswer(&m); mocked || err != nil {
			return err
		}
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
		return r.proxy(pa.fixed, pa.keys)
	case m.Flow != nil:
		f := p.flows[m.Flow.Path]
		r.flowName = f.File
		_, err := r.flow(f)
		return err
	}
	r.noFlow() // a defined path with neither a flow nor a proxy
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
		r.p.logger().Warn("flow error", "requestID", r.x.ID, "project", r.p.name, "flow", r.flowName, "error", fe.cause.Error())
	}
	r.errorCode = fe.code
	if r.p.errorFlow == nil || r.inErrFlow {
		return fe
	}
	r.inErrFlow = true
	if fe.extra == nil {
		fe.extra = errorObject(fe, nil, r.x.ID)
	}
	r.setVar("error", expr.NodeSet{fe.extra})
	r.x.Resp.Status = fe.status
	r.x.Resp.BodySet, r.x.Resp.Body = false, nil
	if _, err2 := r.flow(r.p.errorFlow); err2 != nil {
		r.p.logger().Warn("error in error flow", "requestID", r.x.ID, "error", err2.Error())
		inner := asFlowError(err2)
		r.errorCode = inner.code
		return inner
	}
	if !r.x.Resp.BodySet {
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
			body = errorDocument(fe, r.x.ID)
		} else {
			b.WriteByte('}')
			body = b.Bytes()
		}
	} else {
		body = errorDocument(fe, r.x.ID)
	}
	r.errorCode = fe.code
	r.x.Resp.Status = fe.status
	r.setMain(body, "application/json")
	return r.outcome()
}

// outcome turns the run's state into the host's Outcome. FLAT is a
// gateway: a run that did not forward (proxy-request, x-flat-proxy)
// answers with the response built so far, an empty 200 when the flows
// built nothing.
func (r *run) outcome() *flowengine.Outcome {
	x := &r.x
	if r.side != nil && r.side.corsHeaders != nil {
		applyCORS(r, r.side.corsHeaders)
		r.side.corsHeaders = nil
	}
	if r.contentFromUpstream {
		x.Resp.BodySet = false // the upstream's body goes to the client as it is
	}
	code := ""
	if r.errorCode != 0 {
		code = strconv.Itoa(r.errorCode)
	}
	o := x.Outcome(r.p.name, r.flowName, code)
	if r.logFields != nil && r.x.Req.AccessLog {
		var b bytes.Buffer
		r.logFields.write(&b)
		o.Log = b.Bytes()
	}
	return o
}

// upstreamURL is the URL Envoy's route forwards to, as far as flowproc
// knows it (for $upstream/main/url).
func (r *run) upstreamURL() string {
	scheme := r.x.Req.Scheme
	if scheme == "" {
		scheme = "http"
	}
	path := r.x.Req.Path
	if r.x.Fwd.Path != "" {
		path = r.x.Fwd.Path
	}
	return scheme + "://" + r.x.Req.Authority + path
}

// newRequestID returns a FLAT-style request ID (27 URL-safe characters).
func newRequestID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
