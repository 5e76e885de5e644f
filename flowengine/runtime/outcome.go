package runtime

import (
	"context"
	"runtime/debug"

	"github.com/flowproc/flowproc/flowengine"
)

// Outcome builds the run's outcome from the exchange: Forwarded, with the
// changes to the upstream's response, when the request went upstream;
// Answered, with the whole response, otherwise. A body the run set is sent
// with its content-type (text/plain when none was given; an empty body
// without one gets none, as Envoy's local replies). errCode is the
// front end's error code ("" when the run did not end in an error).
// The outcome lives in x: it is valid until x is reset.
func (x *Exchange) Outcome(project, flow, errCode string) *flowengine.Outcome {
	o := &x.out
	*o = flowengine.Outcome{Project: project, Flow: flow, Error: errCode, RequestID: x.ID}
	headers := x.Resp.Headers
	if x.Resp.BodySet && (len(x.Resp.Body) > 0 || x.Resp.ContentType != "") {
		ct := x.Resp.ContentType
		if ct == "" {
			ct = "text/plain"
		}
		// The run is over: its header list becomes the outcome's.
		headers = append(WithoutHeader(headers, "content-type"), flowengine.Header{})
		copy(headers[1:], headers)
		headers[0] = flowengine.Header{Name: "content-type", Value: ct}
		x.Resp.Headers = headers
	}
	o.SetHeaders, o.AddHeaders = headers, x.Resp.Added
	o.Status = x.Resp.Status
	if x.Forwarded && x.Upstream != nil {
		o.Kind = flowengine.Forwarded
		o.RemoveHeaders = x.Resp.Removed
		if x.Resp.BodySet {
			o.Body, o.BodySet = x.Resp.Body, true
		}
	} else {
		o.Kind = flowengine.Answered
		if o.Status == 0 {
			o.Status = 200
		}
		o.Body, o.BodySet = x.Resp.Body, true
	}
	if len(x.after) > 0 {
		hooks := append([]func(context.Context){}, x.after...)
		o.After = func(ctx context.Context) {
			for _, f := range hooks {
				f(ctx)
			}
		}
	}
	if x.Trace != nil {
		x.traceOutcome(o)
	}
	return o
}

// Guard calls run and returns its outcome; a panic in run is recovered and
// turned into onPanic's outcome (given the panic value and the stack),
// marked Panicked. A run never panics out of a Runner.
func Guard(run func() *flowengine.Outcome, onPanic func(v any, stack []byte) *flowengine.Outcome) (o *flowengine.Outcome) {
	defer func() {
		if v := recover(); v != nil {
			o = onPanic(v, debug.Stack())
			if o != nil {
				o.Panicked = true
			}
		}
	}()
	return run()
}
