package runtime

import (
	"context"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/internal/lowername"
)

// Exchange is the state of one HTTP exchange, shared by every front end.
// It lives in the run's goroutine only. Front ends embed it in their run
// state and call Reset at the start of each run.
type Exchange struct {
	// Ctx is the run's context: cancelled when the client or Envoy goes.
	Ctx context.Context
	// Req is the client's request and Host the exchange's I/O.
	Req  *flowengine.Request
	Host flowengine.Host
	// ID is the request ID the flows see.
	ID string
	// Trace is the run's tracer (nil when the exchange is not traced).
	Trace flowengine.Tracer
	// Budget is the run's limits (nil = unlimited); the step loop charges
	// one step per step and stops the run when the context is cancelled.
	Budget *budget.Budget

	reqBody       []byte
	reqBodyLoaded bool
	reqBodyErr    error

	// Fwd is the mutation of the request that goes upstream when the run
	// forwards; front ends fill it before calling Forward.
	Fwd flowengine.Mutation
	// Forwarded is true once Forward was called, Upstream is the upstream
	// response's head when it succeeded.
	Forwarded bool
	Upstream  *flowengine.Response

	respBody       []byte
	respBodyLoaded bool
	respBodyErr    error

	// Resp is the response being built.
	Resp Reply

	after []func(context.Context)

	// tr is the tracing state, allocated only when Trace != nil.
	tr *traceState

	out flowengine.Outcome
}

// Reply is the response a run builds: the whole answer when the run does
// not forward, or the changes to the upstream's response when it does.
type Reply struct {
	// Status is the response status (0: 200 for an answer, the upstream's
	// for a forward).
	Status int
	// Headers are set (replacing) in order; Added are appended after them.
	Headers []flowengine.Header
	Added   []flowengine.Header
	// Removed are upstream response headers to remove.
	Removed []string
	// Body is the response body when BodySet; ContentType is its media
	// type (sent as content-type when the run answers with it).
	Body        []byte
	ContentType string
	BodySet     bool
}

// Start prepares a zero Exchange for a run.
func (x *Exchange) Start(ctx context.Context, req *flowengine.Request, host flowengine.Host) {
	x.Ctx, x.Req, x.Host, x.ID, x.Trace = ctx, req, host, req.ID, req.Trace
	if x.Trace != nil {
		x.tr = &traceState{}
	}
}

// Clear drops everything the Exchange refers to, keeping only the capacity
// of its slices, so that a pooled Exchange holds no memory of its last run
// alive; Start then begins the next run.
func (x *Exchange) Clear() {
	headers, added, removed := clearHeaders(x.Resp.Headers), clearHeaders(x.Resp.Added), x.Resp.Removed[:0]
	fset, fremove := clearHeaders(x.Fwd.SetHeaders), x.Fwd.RemoveHeaders[:0]
	clear(removed[:cap(removed)])
	clear(fremove[:cap(fremove)])
	after := x.after[:0]
	clear(after[:cap(after)])
	*x = Exchange{}
	x.Resp.Headers, x.Resp.Added, x.Resp.Removed = headers, added, removed
	x.Fwd.SetHeaders, x.Fwd.RemoveHeaders = fset, fremove
	x.after = after
}

// clearHeaders empties hs, up to its capacity, keeping the capacity.
func clearHeaders(hs []flowengine.Header) []flowengine.Header {
	hs = hs[:cap(hs)]
	clear(hs)
	return hs[:0]
}

// Header returns the first value of the request header name (any case).
func (x *Exchange) Header(name string) string {
	for _, h := range x.Req.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// RequestBody returns the request body, asking the host for it on first
// use. The result (or error) is kept: later calls do no I/O.
func (x *Exchange) RequestBody() ([]byte, error) {
	if x.reqBodyLoaded {
		return x.reqBody, x.reqBodyErr
	}
	x.reqBodyLoaded = true
	if x.Req.BodyKnownEmpty {
		return nil, nil
	}
	x.reqBody, x.reqBodyErr = x.Host.RequestBody(x.Ctx)
	return x.reqBody, x.reqBodyErr
}

// RequestBodyLoaded reports whether the request body was read.
func (x *Exchange) RequestBodyLoaded() bool { return x.reqBodyLoaded }

// Forward hands the request, changed by x.Fwd, to the upstream and waits
// for the response head. It runs once per exchange: a second call returns
// ErrForwarded.
func (x *Exchange) Forward() (*flowengine.Response, error) {
	if x.Forwarded {
		return nil, ErrForwarded
	}
	x.Forwarded = true
	if x.Trace != nil {
		x.traceForward()
	}
	resp, err := x.Host.Forward(x.Ctx, &x.Fwd)
	if err != nil {
		return nil, err
	}
	x.Upstream = resp
	if x.Trace != nil {
		x.traceUpstream()
	}
	return resp, nil
}

// ResponseBody returns the upstream response body, asking the host for it
// on first use. It is valid only after a successful Forward.
func (x *Exchange) ResponseBody() ([]byte, error) {
	if x.respBodyLoaded {
		return x.respBody, x.respBodyErr
	}
	if x.Upstream == nil {
		return nil, ErrNotForwarded
	}
	x.respBodyLoaded = true
	if x.Upstream.BodyKnownEmpty {
		return nil, nil
	}
	x.respBody, x.respBodyErr = x.Host.ResponseBody(x.Ctx)
	return x.respBody, x.respBodyErr
}

// UpstreamHeader returns the first value of the upstream response header
// name (any case), "" before a forward.
func (x *Exchange) UpstreamHeader(name string) string {
	if x.Upstream == nil {
		return ""
	}
	for _, h := range x.Upstream.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// SetResponseHeader sets (replaces) the response header name, lower-cased,
// dropping earlier set or added values.
func (x *Exchange) SetResponseHeader(name, value string) {
	lname := lowername.Lower(name)
	x.Resp.Headers = append(WithoutHeader(x.Resp.Headers, lname), flowengine.Header{Name: lname, Value: value})
	x.Resp.Added = WithoutHeader(x.Resp.Added, lname)
}

// AddResponseHeader appends a value to the response header name.
func (x *Exchange) AddResponseHeader(name, value string) {
	x.Resp.Added = append(x.Resp.Added, flowengine.Header{Name: lowername.Lower(name), Value: value})
}

// RemoveResponseHeader removes the response header name: from what the run
// set, and from the upstream's response when the run forwards.
func (x *Exchange) RemoveResponseHeader(name string) {
	lname := lowername.Lower(name)
	x.Resp.Headers = WithoutHeader(x.Resp.Headers, lname)
	x.Resp.Added = WithoutHeader(x.Resp.Added, lname)
	x.Resp.Removed = append(x.Resp.Removed, lname)
}

// SetBody sets the response body and its media type.
func (x *Exchange) SetBody(b []byte, contentType string) {
	x.Resp.Body, x.Resp.ContentType, x.Resp.BodySet = b, contentType, true
}

// AfterResponse registers f to run once the answer has gone to the client
// (see flowengine.Outcome.After). Hooks run in registration order.
func (x *Exchange) AfterResponse(f func(ctx context.Context)) {
	x.after = append(x.after, f)
}

// WithoutHeader removes the headers named name (lower-case) from hs, in
// place.
func WithoutHeader(hs []flowengine.Header, name string) []flowengine.Header {
	out := hs[:0]
	for _, h := range hs {
		if h.Name != name {
			out = append(out, h)
		}
	}
	return out
}
