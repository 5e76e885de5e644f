package engine

import "errors"

// Answered is the error a policy returns (via Run.Answer) to end the
// request side with a response that is not a fault: the CORS policy's
// preflight answer. As Apigee documents for CORS, the rest of the request
// flows and the target are skipped and execution continues with the proxy
// response flow (PreFlow, PostFlow, PostProxyFlowHook) on that response;
// the response hooks (OnResponse) and the PostClientFlow run as usual.
// Returned from a response flow, it replaces the response and ends that
// flow. It never becomes a fault, is never counted as a policy failure,
// and continueOnError does not apply.
type Answered struct {
	// Response is the answer sent to the client.
	Response *Message
}

// Error implements error.
func (a *Answered) Error() string { return "request answered by a policy" }

// Answer ends the request flow with m as the client's answer: a policy's
// Execute returns what Answer returns.
func (r *Run) Answer(m *Message) error {
	if m == nil {
		m = NewResponse()
	}
	return &Answered{Response: m}
}

// asAnswered reports whether err is an Answered.
func asAnswered(err error) (*Answered, bool) {
	if err == nil {
		return nil, false
	}
	if a, ok := err.(*Answered); ok {
		return a, true
	}
	var a *Answered
	if errors.As(err, &a) {
		return a, true
	}
	return nil, false
}

// OnResponse registers f to change the final response just before it is
// sent: the target's or the proxy's response, a preflight answer or an
// error response (CORS headers are added this way). Hooks run in the
// order registered.
func (r *Run) OnResponse(f func(m *Message)) {
	r.respHooks = append(r.respHooks, f)
}

// applyResponseHooks runs the OnResponse hooks on the final response.
func (r *Run) applyResponseHooks() {
	if len(r.respHooks) == 0 {
		return
	}
	if r.Response == nil {
		r.Response = r.newResponse()
	}
	for _, f := range r.respHooks {
		f(r.Response)
	}
}

// ApplyResponseHooksForTest runs the OnResponse hooks as the end of a
// run does, for policy unit tests on a TestRun.
func (r *Run) ApplyResponseHooksForTest() { r.applyResponseHooks() }
