package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"github.com/flowproc/flowproc/flowengine/upstream"
	"github.com/flowproc/flowproc/internal/lowername"
)

// Segment names where a run is, as the JavaScript object model's
// context.flow does.
type Segment string

// The flow segments of an exchange.
const (
	ProxyRequest   Segment = "PROXY_REQ_FLOW"
	TargetRequest  Segment = "TARGET_REQ_FLOW"
	TargetResponse Segment = "TARGET_RESP_FLOW"
	ProxyResponse  Segment = "PROXY_RESP_FLOW"
	ErrorFlow      Segment = "ERROR"
	PostClient     Segment = "PROXY_POST_CLIENT_FLOW"
)

// Run is the Apigee state of one exchange: its messages, flow variables
// and fault. It lives in the run's goroutine only (PostClientFlow runs
// after the answer, when nothing else uses it).
type Run struct {
	x runtime.Exchange
	p *Project

	ep *proxyEP
	te *targetEP
	rt *route

	// Request is the proxy request (the target request once the target
	// flows run); Response is the target response, the no-target answer or
	// the error response, nil before any of those exists.
	Request  *Message
	Response *Message

	vars map[string]any
	msgs map[string]*Message

	segment  Segment
	flowName string
	flowLbl  string // "<endpoint>/<flow>" of the last flow that ran
	fault    *Fault
	// faultRaisedInRule: a RaiseFault ran inside a FaultRule (no
	// DefaultFaultRule after it).
	faultRaisedInRule bool
	targetSide        bool

	basePath   string
	pathSuffix string
	targetURL  string // target.url as set by a flow ("" = the endpoint's)
	forwarded  bool   // the target request went out (x.Fwd holds where)
	lbServer   *lbServer
	retryURL   string // where a LoadBalancer retry went (lbretry.go)
	copySuffix bool
	copyQuery  bool
	start      time.Time

	budget   budget.Budget
	req, rsp Message // storage for Request and Response

	respHooks []func(*Message) // OnResponse (answer.go)

	obs Observer // test runs only (observe.go)

	// kept: a policy that is not Kind.Recyclable ran, so the run is not
	// pooled.
	kept bool
}

// Exchange implements runtime.State.
func (r *Run) Exchange() *runtime.Exchange { return &r.x }

// Ctx is the run's context.
func (r *Run) Ctx() context.Context { return r.x.Ctx }

// Segment is the flow segment running now.
func (r *Run) Segment() Segment { return r.segment }

// Upstream is the client for side calls.
func (r *Run) Upstream() upstream.Client { return r.p.opts.Upstream }

// Budget is the run's limits.
func (r *Run) Budget() *budget.Budget { return &r.budget }

// Deployment is the project's deployment settings.
func (r *Run) Deployment() *Deployment { return r.p.dep }

// ProjectName is the project's name.
func (r *Run) ProjectName() string { return r.p.name }

// MaxBodyBytes bounds bodies a policy builds or reads (0: no bound beyond
// the budget).
func (r *Run) MaxBodyBytes() int64 { return r.p.opts.MaxBodyBytes }

// Current is the message the running segment works on: the request in
// request segments, the response (or error response) otherwise.
func (r *Run) Current() *Message {
	switch r.segment {
	case ProxyRequest, TargetRequest:
		return r.Request
	}
	if r.Response == nil {
		r.Response = r.newResponse()
	}
	return r.Response
}

// Message returns the message variable name: "request", "response",
// "message", "error", or one a policy created. ok is false when there is
// none.
func (r *Run) Message(name string) (*Message, bool) {
	switch name {
	case "request":
		return r.Request, true
	case "response":
		if r.Response == nil {
			if r.segment == ProxyRequest || r.segment == TargetRequest {
				return nil, false
			}
			r.Response = r.newResponse()
		}
		return r.Response, true
	case "message":
		return r.Current(), true
	case "error":
		if r.fault == nil {
			return nil, false
		}
		return r.Current(), true
	}
	m, ok := r.msgs[name]
	return m, ok
}

// SetMessage stores a message variable (AssignTo createNew,
// ServiceCallout's Response). Setting "request" or "response" replaces
// that message.
func (r *Run) SetMessage(name string, m *Message) {
	switch name {
	case "request":
		m.headersSet, m.pathSet, m.verbSet, m.contentSet = true, true, true, true
		r.Request = m
		return
	case "response", "message", "error":
		if name == "message" && (r.segment == ProxyRequest || r.segment == TargetRequest) {
			r.SetMessage("request", m)
			return
		}
		m.headersSet, m.statusSet, m.contentSet = true, true, true
		r.Response = m
		return
	}
	if r.msgs == nil {
		r.msgs = map[string]*Message{}
	}
	r.msgs[name] = m
	if r.vars != nil {
		delete(r.vars, name)
	}
}

// AfterResponse registers f to run after the answer went to the client.
// In the PostClientFlow, which itself runs after the answer, f runs at
// once (a hook registered there would otherwise never run).
func (r *Run) AfterResponse(f func(ctx context.Context)) {
	if r.segment == PostClient {
		f(r.x.Ctx)
		return
	}
	r.x.AfterResponse(f)
}

// Print writes a message to the trace (JavaScript print, MessageLogging
// to the trace).
func (r *Run) Print(step string, msg string) {
	if r.x.Trace != nil {
		r.x.TraceMessage(string(r.segment), step, runtime.Pos{}, msg)
	}
}

// Fault is the fault being handled (nil outside the error flow).
func (r *Run) Fault() *Fault { return r.fault }

// Run runs one exchange through the bundle.
func (p *Project) Run(ctx context.Context, req *flowengine.Request, host flowengine.Host) *flowengine.Outcome {
	p.startMonitors()
	r := runs.Get().(*Run) // new, or cleared by Recycle
	r.p = p
	r.x.Start(ctx, req, host)
	r.budget.ResetAt(ctx, p.opts.Limits, req.Received)
	r.x.Budget = &r.budget
	o := runtime.Guard(r.run, r.panicked)
	if o != nil && !o.Panicked && o.After == nil && r.recyclable() {
		o.Recycle = r
	}
	return o
}

// Keep marks the run as one that must not be recycled: a policy of a
// Kind.Recyclable type calls it when, this time, it keeps something of the
// run past Execute (JavaScript with pooled runtimes, a benchmark setting).
func (r *Run) Keep() { r.kept = true }

// runs holds finished runs for reuse (Run.Recycle): a Run is about 2 KiB,
// and its exchange keeps the capacity of its header lists.
var runs = sync.Pool{New: func() any { return new(Run) }}

// recyclable reports whether nothing outside the run can still refer to it
// once the host is done with its Outcome: every policy that ran is
// Kind.Recyclable, no trace recorder holds its values, and it is not a test
// run. (Runs with hooks after the response are never recycled: the host
// does not recycle an Outcome with After.)
func (r *Run) recyclable() bool {
	return !r.kept && r.x.Trace == nil && r.obs == nil
}

// Recycle implements flowengine.Recycler: the run is cleared and pooled,
// keeping its exchange's header list capacity (runtime.Exchange.Clear).
// Only Project.Run's runs are recycled, never a test run.
func (r *Run) Recycle() {
	reqHs, rspHs := r.req.takeOwned(), r.rsp.takeOwned()
	r.x.Clear()
	*r = Run{x: r.x}
	r.req.spare, r.rsp.spare = reqHs, rspHs
	runs.Put(r)
}

func (r *Run) panicked(v any, stack []byte) *flowengine.Outcome {
	r.p.opts.Logger.Error("panic in Apigee flow", "requestID", r.x.ID, "project", r.p.name, "panic", fmt.Sprint(v), "stack", string(stack))
	f := &Fault{Name: "InternalError", Code: "flowproc.InternalError", Status: 500, Message: "Internal Server Error"}
	r.Response = f.errorMessage()
	return r.outcome("InternalError")
}

func (r *Run) run() *flowengine.Outcome {
	if r.start = r.x.Req.Received; r.start.IsZero() {
		r.start = time.Now()
	}
	req := r.x.Req
	path, query, _ := strings.Cut(req.Path, "?")
	r.req = Message{IsRequest: true, Verb: req.Method, Path: path, rawQuery: query, Headers: req.Headers, Version: "1.1", spare: r.req.spare}
	r.req.load = (*requestBody)(&r.x)
	if req.BodyKnownEmpty {
		r.req.loaded = true
	}
	r.Request = &r.req
	r.copySuffix, r.copyQuery = true, true
	r.ep = r.p.endpointFor(path)
	if r.ep == nil {
		f := &Fault{Name: "ApplicationNotFound", Code: "messaging.adaptors.http.flow.ApplicationNotFound", Status: 404,
			Message: "Unable to identify proxy for host: " + r.p.dep.Environment + " and url: " + path}
		r.Response = f.errorMessage()
		return r.outcome(f.Name)
	}
	r.basePath, r.flowLbl = r.ep.basePath, r.ep.name
	r.pathSuffix = strings.TrimPrefix(path, r.basePath)
	err := r.main()
	errCode := ""
	if a, ok := asAnswered(err); ok {
		// Answered in a response flow: that answer is sent.
		r.Response, err = a.Response, nil
	}
	if err != nil {
		if stopped(err) {
			return r.stoppedOutcome(err)
		}
		errCode = r.handleFault(err)
	}
	r.applyResponseHooks()
	o := r.outcome(errCode)
	if len(r.ep.postClient) > 0 {
		// PostClientFlow runs after the answer (also after a fault).
		o.After = chainAfter(o.After, r.postClientFlow)
	}
	return o
}

// stopped reports errors that end the run without Apigee fault handling:
// the client went away.
func stopped(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !isBudget(err)
}

func isBudget(err error) bool {
	var be *budget.ExceededError
	return errors.As(err, &be)
}

func chainAfter(first func(context.Context), then func(context.Context)) func(context.Context) {
	if first == nil {
		return then
	}
	return func(ctx context.Context) { first(ctx); then(ctx) }
}

// endpointFor returns the ProxyEndpoint whose BasePath is the longest
// prefix of path (on a segment boundary).
func (p *Project) endpointFor(path string) *proxyEP {
	for _, ep := range p.proxies {
		bp := ep.basePath
		if bp == "" || path == bp || strings.HasPrefix(path, bp) && path[len(bp)] == '/' {
			return ep
		}
	}
	return nil
}

func (r *Run) runSteps(label string, steps []runtime.Step[*Run]) error {
	if len(steps) == 0 {
		return nil
	}
	_, err := runtime.Run(r, label, steps)
	return err
}

func (r *Run) runHook(name string) error {
	if sf := r.p.hooks[name]; sf != nil {
		return r.runSteps("flow hook "+name, sf.steps)
	}
	return nil
}

// runSegment runs an endpoint's PreFlow, first matching conditional Flow
// and PostFlow for one direction.
func (r *Run) runSegment(ep *endpoint, response bool) error {
	pick := func(f *flow) ([]runtime.Step[*Run], string) {
		if response {
			return f.resp, f.respName
		}
		return f.req, f.reqName
	}
	if ep.pre != nil {
		r.flowName = ep.pre.name
		if steps, label := pick(ep.pre); len(steps) > 0 {
			if err := r.runSteps(label, steps); err != nil {
				return err
			}
		}
	}
	for _, f := range ep.flows {
		ok := true
		if f.cond != nil {
			var err error
			ok, err = f.cond.Eval(r)
			if r.x.Trace != nil {
				r.x.TraceCond(f.cond.Source(), ok)
			}
			if err != nil {
				return &Fault{Name: "InvalidCondition", Code: "flowproc.InvalidCondition", Status: 500, Message: "Flow condition failed", Err: err}
			}
		}
		if ok {
			r.flowName = f.name
			if r.segment == ProxyRequest {
				r.flowLbl = f.label
			}
			steps, label := pick(f)
			if err := r.runSteps(label, steps); err != nil {
				return err
			}
			break
		}
	}
	if ep.post != nil {
		r.flowName = ep.post.name
		if steps, label := pick(ep.post); len(steps) > 0 {
			return r.runSteps(label, steps)
		}
	}
	return nil
}

// main runs the normal path: proxy request, route, target, response. A
// policy's Answer (answer.go) ends the request side: its response goes
// through the proxy response flow.
func (r *Run) main() error {
	if err := r.requestSide(); err != nil {
		a, ok := asAnswered(err)
		if !ok {
			return err
		}
		r.Response, r.targetSide = a.Response, false
	}
	r.segment = ProxyResponse
	if err := r.runSegment(&r.ep.endpoint, true); err != nil {
		return err
	}
	return r.runHook("PostProxyFlowHook")
}

// requestSide runs the proxy request flow, the route and the target.
func (r *Run) requestSide() error {
	r.segment = ProxyRequest
	if err := r.runHook("PreProxyFlowHook"); err != nil {
		return err
	}
	if err := r.runSegment(&r.ep.endpoint, false); err != nil {
		return err
	}
	rt, err := r.chooseRoute()
	if err != nil {
		return err
	}
	r.rt = rt
	if rt == nil || rt.target == nil && rt.url == "" {
		// No route: the proxy answers; Apigee's response starts as a copy
		// of the request's headers and body.
		// A response a request flow already built (AssignMessage with
		// AssignTo type="response") is kept as it is.
		if r.Response == nil {
			resp, err := r.echoResponse()
			if err != nil {
				return err
			}
			r.Response = resp
		}
	} else {
		r.te = rt.target
		r.segment = TargetRequest
		r.targetSide = true
		if err := r.runHook("PreTargetFlowHook"); err != nil {
			return err
		}
		if r.te != nil {
			if err := r.runSegment(&r.te.endpoint, false); err != nil {
				return err
			}
		}
		if err := r.forward(); err != nil {
			return err
		}
		r.segment = TargetResponse
		if r.te != nil {
			if err := r.runSegment(&r.te.endpoint, true); err != nil {
				return err
			}
		}
		if err := r.runHook("PostTargetFlowHook"); err != nil {
			return err
		}
		r.targetSide = false
	}
	return nil
}

func (r *Run) chooseRoute() (*route, error) {
	for _, rt := range r.ep.routes {
		if rt.cond == nil {
			return rt, nil
		}
		ok, err := rt.cond.Eval(r)
		if r.x.Trace != nil {
			r.x.TraceCond(rt.cond.Source(), ok)
		}
		if err != nil {
			return nil, &Fault{Name: "InvalidCondition", Code: "flowproc.InvalidCondition", Status: 500, Message: "RouteRule condition failed", Err: err}
		}
		if ok {
			return rt, nil
		}
	}
	return nil, nil
}

// echoResponse is the response of a no-target proxy: status 200 with the
// request's headers and body, as Apigee starts it (bundles that do not
// want the echo remove the headers, e.g. gcs-apiproduct-operations'
// AM-Clean-Request-Headers-From-Response).
func (r *Run) echoResponse() (*Message, error) {
	m := NewResponse()
	m.Headers = append(m.Headers, r.Request.Headers...)
	m.headersSet = true
	body, err := r.Request.Content()
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		m.SetContent(body)
	}
	return m, nil
}

func (r *Run) newResponse() *Message {
	m := NewResponse()
	return m
}

// targetBase returns the target URL before the path suffix and query are
// copied: target.url when a flow set it, the RouteRule's URL, the
// endpoint's URL, or the LoadBalancer's pick plus Path. URLs from the
// bundle are parsed at load; only one a flow sets is parsed here.
func (r *Run) targetBase() (*url.URL, error) {
	if r.targetURL != "" {
		return parseTargetURL(r.targetURL)
	}
	if r.rt != nil && r.rt.u != nil {
		return r.rt.u, nil
	}
	te := r.te
	if te == nil {
		return nil, errors.New("no target")
	}
	if te.u != nil {
		return te.u, nil
	}
	if r.lbServer == nil && te.lb != nil {
		r.lbServer = te.lb.pick(0)
		if r.lbServer == nil {
			return nil, noActiveTargets()
		}
	}
	if r.lbServer == nil {
		return nil, errors.New("no enabled TargetServer")
	}
	return r.lbServer.u, nil
}

// chosenURL is the URL the target request went to ("" before).
func (r *Run) chosenURL() string {
	if !r.forwarded {
		return ""
	}
	if r.retryURL != "" {
		return r.retryURL
	}
	f := &r.x.Fwd
	return f.Scheme + "://" + f.Authority + f.Path
}

// forward sends the target request: the URL chosen as Apigee does
// (path suffix and query copied unless target.copy.* say no), the
// request's changes as a mutation. A target status outside success.codes
// is the ErrorResponseCode fault with the target's response.
func (r *Run) forward() error {
	if r.te != nil && r.te.local {
		return r.forwardLocal()
	}
	u, err := r.targetBase()
	if f, ok := err.(*Fault); ok {
		return f
	}
	if err != nil {
		return &Fault{Name: "ServiceUnavailable", Code: "messaging.adaptors.http.flow.ServiceUnavailable", Status: 503, Message: "The Service is temporarily unavailable", Err: err}
	}
	path := u.EscapedPath()
	q := u.RawQuery
	rq := ""
	if r.copyQuery {
		rq = r.Request.QueryString()
	}
	suffix := r.copySuffix && r.pathSuffix != ""
	if suffix || q != "" || rq != "" || path == "" {
		var b strings.Builder
		b.Grow(len(path) + len(r.pathSuffix) + len(q) + len(rq) + 2)
		if suffix {
			b.WriteString(strings.TrimSuffix(path, "/"))
			b.WriteString(r.pathSuffix)
		} else {
			b.WriteString(path)
		}
		if b.Len() == 0 {
			b.WriteByte('/')
		}
		if q != "" || rq != "" {
			b.WriteByte('?')
			b.WriteString(q)
			if q != "" && rq != "" {
				b.WriteByte('&')
			}
			b.WriteString(rq)
		}
		path = b.String()
	}
	r.forwarded = true
	m := &r.x.Fwd
	m.Scheme, m.Authority, m.Path = u.Scheme, u.Host, path
	req := r.Request
	if req.verbSet && req.Verb != r.x.Req.Method {
		m.SetHeaders = append(m.SetHeaders, flowengine.Header{Name: ":method", Value: req.Verb})
	}
	if req.headersSet {
		m.SetHeaders, m.RemoveHeaders = headerDiff(r.x.Req.Headers, req.Headers, m.SetHeaders, m.RemoveHeaders)
	}
	if req.contentSet {
		m.Body, m.BodySet = req.content, true
	}
	if r.te != nil && r.te.ioTimeout != "" {
		// Envoy's router takes the header as this request's timeout and
		// does not send it upstream.
		m.SetHeaders = append(m.SetHeaders, flowengine.Header{Name: "x-envoy-upstream-rq-timeout-ms", Value: r.te.ioTimeout})
	}
	resp, err := r.x.Forward()
	if err != nil {
		return &Fault{Name: "ServiceUnavailable", Code: "messaging.adaptors.http.flow.ServiceUnavailable", Status: 503, Message: "The Service is temporarily unavailable", Err: err}
	}
	r.rsp = Message{Status: resp.Status, Headers: resp.Headers, Version: "1.1", load: (*responseBody)(&r.x), loaded: resp.BodyKnownEmpty, spare: r.rsp.spare}
	r.Response = &r.rsp
	if r.lbServer != nil && r.te != nil && r.te.lb != nil {
		resp = r.failover(resp, path)
	}
	if f := upstreamFailure(resp); f != nil {
		return f
	}
	if r.te != nil && !r.te.successCodes.has(resp.Status) || r.te == nil && resp.Status >= 400 {
		return &Fault{Name: "ErrorResponseCode", Code: "messaging.adaptors.http.flow.ErrorResponseCode", Status: resp.Status,
			Message: "Received " + strconv.Itoa(resp.Status) + " Response from Target", Response: r.Response}
	}
	return nil
}

// headerDiff appends to set the headers of now that differ from was, and
// to remove the names of was that now lacks. Several lines of one header
// are sent joined with ", ", as a proxy may.
//
// Lines in the lists' common prefix are the same in both, so only a name
// with a line past it can differ. A policy's write copies the list, then
// removes lines and appends, so the prefix is most of the list.
func headerDiff(was, now []flowengine.Header, set []flowengine.Header, remove []string) ([]flowengine.Header, []string) {
	p := 0
	for p < len(was) && p < len(now) && was[p] == now[p] {
		p++
	}
	setLines := func(name string) {
		v, _ := headerLine(now, name)
		set = append(set, flowengine.Header{Name: lowername.Lower(name), Value: v})
	}
	for i := p; i < len(now); i++ {
		h := now[i]
		if seenBefore(now[p:i], h.Name) || sameLines(was, now, h.Name) {
			continue
		}
		setLines(h.Name)
	}
	for i := p; i < len(was); i++ {
		h := was[i]
		if seenBefore(was[p:i], h.Name) || seenBefore(now[p:], h.Name) {
			continue // seen, or a name the first loop handled
		}
		if !seenBefore(now[:p], h.Name) {
			remove = append(remove, lowername.Lower(h.Name))
		} else if !sameLines(was, now, h.Name) {
			// Lines removed from a name that keeps lines in the prefix.
			setLines(h.Name)
		}
	}
	return set, remove
}

func seenBefore(hs []flowengine.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// sameLines reports whether header name has the same lines in a and b.
func sameLines(a, b []flowengine.Header, name string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && !strings.EqualFold(a[i].Name, name) {
			i++
		}
		for j < len(b) && !strings.EqualFold(b[j].Name, name) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i].Value != b[j].Value {
			return false
		}
		i++
		j++
	}
}

// handleFault runs Apigee's error flow for err and returns the outcome's
// error code. Where the fault happened decides the rules: a target-side
// fault runs the TargetEndpoint's FaultRules (top to bottom, first match)
// or its DefaultFaultRule, then the ProxyEndpoint's DefaultFaultRule; a
// proxy-side fault runs the ProxyEndpoint's FaultRules (bottom to top,
// last match) and its DefaultFaultRule when none ran or it has
// AlwaysEnforce. A RaiseFault inside a FaultRule stops the DefaultFaultRule
// (Apigee docs: FaultRule evaluation; research notes in docs/apigee.md).
func (r *Run) handleFault(err error) string {
	f, ok := err.(*Fault)
	if !ok && !errors.As(err, &f) {
		f = &Fault{Name: "InternalError", Code: "flowproc.InternalError", Status: 500, Message: "Internal Server Error", Err: err}
		if isBudget(err) {
			f.Name, f.Code, f.Message = "BudgetExceeded", "flowproc.BudgetExceeded", "Request processing limit exceeded"
		}
	}
	if f.Err != nil {
		r.p.opts.Logger.Warn("apigee fault", "requestID", r.x.ID, "project", r.p.name, "fault", f.Name, "policy", f.Policy, "error", f.Err)
	}
	r.fault = f
	r.Response = f.errorMessage()
	r.segment = ErrorFlow
	if r.targetSide && r.te != nil {
		if ran := r.runFaultRules(&r.te.endpoint, false); !ran || r.te.defaultRule != nil && r.te.defaultRule.always {
			r.runDefaultRule(&r.te.endpoint)
		}
		r.runDefaultRule(&r.ep.endpoint)
	} else {
		if ran := r.runFaultRules(&r.ep.endpoint, true); !ran || r.ep.defaultRule != nil && r.ep.defaultRule.always {
			r.runDefaultRule(&r.ep.endpoint)
		}
	}
	return f.Name
}

// runFaultRules runs the one FaultRule that applies: the last matching in
// a ProxyEndpoint (rules evaluated bottom to top), the first in a
// TargetEndpoint.
func (r *Run) runFaultRules(ep *endpoint, proxy bool) bool {
	n := len(ep.faultRules)
	for i := 0; i < n; i++ {
		fr := ep.faultRules[i]
		if proxy {
			fr = ep.faultRules[n-1-i]
		}
		if r.ruleMatches(fr) {
			r.runRule(fr)
			return true
		}
	}
	return false
}

func (r *Run) runDefaultRule(ep *endpoint) {
	if ep.defaultRule == nil || r.faultRaisedInRule {
		return
	}
	if r.ruleMatches(ep.defaultRule) {
		r.runRule(ep.defaultRule)
	}
}

func (r *Run) ruleMatches(fr *faultRule) bool {
	if fr.cond == nil {
		return true
	}
	ok, err := fr.cond.Eval(r)
	if r.x.Trace != nil {
		r.x.TraceCond(fr.cond.Source(), ok)
	}
	return err == nil && ok
}

// runRule runs a FaultRule's Steps. A fault inside it does not stop the
// rule: a RaiseFault replaces the error response and the next Steps run.
func (r *Run) runRule(fr *faultRule) {
	for i := range fr.steps {
		_, err := runtime.Run(r, fr.label, fr.steps[i:i+1])
		if err != nil && (stopped(err) || isBudget(err)) {
			return
		}
	}
}

// postClientFlow runs the PostClientFlow after the answer.
func (r *Run) postClientFlow(ctx context.Context) {
	r.x.Ctx = ctx
	r.budget.Reset(ctx, r.p.opts.Limits)
	r.segment = PostClient
	// The exchange with Envoy is over: a body nobody read during it is
	// gone (as with Apigee's streaming), and must not be waited for.
	for _, m := range []*Message{r.Request, r.Response} {
		if m != nil && !m.loaded {
			m.loaded, m.load = true, nil
		}
	}
	defer func() {
		if v := recover(); v != nil {
			r.p.opts.Logger.Error("panic in PostClientFlow", "requestID", r.x.ID, "project", r.p.name, "panic", fmt.Sprint(v))
		}
	}()
	if err := r.runSteps("proxy "+r.ep.name+" PostClientFlow", r.ep.postClient); err != nil && !stopped(err) {
		r.p.opts.Logger.Warn("PostClientFlow failed", "requestID", r.x.ID, "project", r.p.name, "error", err)
	}
}

func (r *Run) stoppedOutcome(err error) *flowengine.Outcome {
	f := &Fault{Name: "ClientDisconnected", Code: "flowproc.Cancelled", Status: 499, Message: "Client disconnected", Err: err}
	r.Response = f.errorMessage()
	return r.outcome(f.Name)
}
