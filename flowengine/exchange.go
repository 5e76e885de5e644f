// Package flowengine is flowproc's flow language runtime: it loads projects
// (FLAT apps), compiles every flow, template and expression once, and runs
// them against one HTTP exchange at a time.
//
// The engine imports no gRPC and no Envoy types. A host (the ext_proc server,
// the test runner, the Envoy-faithful client) drives a run through the small
// Host interface: a flow that reads the request body waits for it, a flow
// that forwards waits for the upstream's response, and the run ends with an
// Outcome the host turns into its own messages.
package flowengine

import (
	"context"
	"errors"
	"time"
)

// Header is one HTTP header field. Names are lower-case when they come from
// a host; flows may set mixed-case names, which hosts lower-case on the wire.
type Header struct {
	Name  string
	Value string
}

// Request is the client's request as the host received it.
type Request struct {
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Scheme is "http" or "https".
	Scheme string
	// Authority is the Host / :authority value, possibly with a port.
	Authority string
	// Path is the request target: path and optional "?query", as sent.
	Path string
	// Headers are the non-pseudo request headers in arrival order.
	Headers []Header
	// ID is the request ID (Envoy's x-request-id when present). When empty
	// the engine generates one.
	ID string
	// BodyKnownEmpty is true when the host knows the request has no body
	// (e.g. end_of_stream on the headers); reading the body then needs no I/O.
	BodyKnownEmpty bool
	// Client is what the proxy knows of the downstream connection. Read
	// it through ClientInfo: a host that works it out only when a run
	// asks leaves it zero and sets ClientSource.
	Client Client
	// ClientSource, when not nil, gives Client on its first use.
	ClientSource ClientSource
	// Trace, when non-nil, receives one event per step of the run (see
	// Tracer). Hosts set it only for exchanges somebody traces: nil costs
	// nothing.
	Trace Tracer
	// Received is when the host received the request headers; engines
	// start the run's clock (its time budget, Apigee's
	// client.received.start.time) from it instead of reading the clock
	// again. Zero: unknown, the engine reads the clock.
	Received time.Time
	// AccessLog is true when the host writes an access-log record with the
	// Outcome's Log fields. When false, engines may leave Outcome.Log nil
	// instead of serializing fields nobody reads (get-log() still sees
	// the fields; FLAT skips only a <log> that could have no other
	// effect, see docs/flows.md).
	AccessLog bool
}

// Response is an upstream response's head as the host received it.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Headers are the non-pseudo response headers in arrival order.
	Headers []Header
	// BodyKnownEmpty is true when the response has no body.
	BodyKnownEmpty bool
	// CodeDetails is Envoy's response.code_details for the response when
	// the host knows it: "via_upstream" for a response from the upstream;
	// otherwise the reason Envoy answered itself, e.g.
	// "upstream_reset_before_response_started{connection_failure}" when the
	// upstream could not be reached. "" when the host does not say.
	CodeDetails string
}

// LocalReply reports whether Envoy generated the response itself instead
// of receiving it from the upstream (CodeDetails set and not
// "via_upstream").
func (r *Response) LocalReply() bool {
	return r.CodeDetails != "" && r.CodeDetails != "via_upstream"
}

// Mutation is a change to an HTTP message. The same shape serves the request
// a flow forwards (Host.Forward) and the response it answers with or changes
// (Outcome), for every front end.
type Mutation struct {
	// Status, when non-zero, is the response status (responses only).
	Status int
	// SetHeaders are set (replacing existing values) in order.
	SetHeaders []Header
	// AddHeaders are appended after SetHeaders (repeated fields such as
	// set-cookie).
	AddHeaders []Header
	// RemoveHeaders are removed before SetHeaders are applied.
	RemoveHeaders []string
	// Path, when non-empty, replaces :path (path and query; requests only).
	Path string
	// Authority, when non-empty, asks for a new :authority (requests only).
	// Envoy honours it only when its mutation rules allow routing changes.
	Authority string
	// Scheme, when non-empty, is the scheme ("http" or "https") of the
	// upstream that Authority names (requests only). Hosts route on it
	// together with Authority; it is not a header on the wire.
	Scheme string
	// Body replaces the message body when BodySet is true (the host fixes
	// content-length).
	Body    []byte
	BodySet bool
}

// Empty reports whether m changes nothing.
func (m *Mutation) Empty() bool {
	return m.Status == 0 && len(m.SetHeaders)+len(m.AddHeaders)+len(m.RemoveHeaders) == 0 &&
		m.Path == "" && m.Authority == "" && m.Scheme == "" && !m.BodySet
}

// Host is the I/O of one exchange. A run calls its methods from the run's own
// goroutine and blocks until the host has what was asked for. Every method
// must return promptly with an error when ctx is cancelled.
type Host interface {
	// RequestBody returns the whole request body, asking the host's peer for
	// it first when needed. Called at most once per run.
	RequestBody(ctx context.Context) ([]byte, error)
	// Forward lets the (mutated) request continue upstream and returns the
	// upstream's response head. Called at most once per run.
	Forward(ctx context.Context, m *Mutation) (*Response, error)
	// ResponseBody returns the whole upstream response body. Only valid
	// after Forward; called at most once per run.
	ResponseBody(ctx context.Context) ([]byte, error)
}

// ErrBodyUnavailable is returned by a Host when a body cannot be obtained
// (for example Envoy does not allow a processing-mode override).
var ErrBodyUnavailable = errors.New("body unavailable from the proxy")

// OutcomeKind says how an exchange ended.
type OutcomeKind int

const (
	// Answered means the flow produced the whole response before any forward:
	// the host sends it as an immediate response.
	Answered OutcomeKind = iota
	// Forwarded means the request went upstream and the response to the
	// client is the upstream's response with the outcome's mutations.
	Forwarded
)

func (k OutcomeKind) String() string {
	if k == Forwarded {
		return "forwarded"
	}
	return "answered"
}

// Outcome is the result of one run.
type Outcome struct {
	Kind OutcomeKind
	// Mutation is, for Answered, the whole response (Status 0 = 200) and,
	// for Forwarded, the changes to the upstream's response (Status 0 =
	// keep upstream's; BodySet replaces its body).
	Mutation

	// Project and Flow name what ran, for logs and metrics.
	Project string
	Flow    string
	// Error is the front end's code for the error the exchange ended in
	// (a FLAT error code such as "3204", an Apigee fault name), "" when none.
	Error string
	// Log holds the access-log fields collected by log actions, as a JSON
	// object (nil when none, or when Request.AccessLog was false).
	Log []byte
	// RequestID is the request ID the flows saw.
	RequestID string
	// Panicked is true when a flow panicked (answered 500).
	Panicked bool
	// After, when non-nil, runs once the answer has gone to the client
	// (Apigee PostClientFlow, logging): the host calls it off the hot path,
	// after its last reply, with a context of its own.
	After func(ctx context.Context)
	// Recycle, when non-nil, takes back the memory of the run that made
	// this Outcome, the Outcome included, for a later run. The host calls
	// it at most once, after its last use of the Outcome (the final reply
	// sent, the access-log record written), and only when After is nil; it
	// must not read the Outcome afterwards. Front ends set it only for runs
	// that left nothing behind that still refers to them; a Runner that
	// wraps another and keeps the Outcome, or anything it points to, after
	// Run returns copies what it needs or sets Recycle to nil.
	Recycle Recycler
}

// Recycler is a finished run whose memory can be reused (Outcome.Recycle).
type Recycler interface {
	// Recycle hands the run back; nothing may use it or its Outcome after.
	Recycle()
}

// Runner runs flows on exchanges. Projects implement it.
type Runner interface {
	// Run executes the flows for req, doing its I/O through h. It never
	// panics out: a panic in a flow becomes a 500 outcome.
	Run(ctx context.Context, req *Request, h Host) *Outcome
}
