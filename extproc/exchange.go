package extproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Errors a flow can see from the host besides flowengine.ErrBodyUnavailable.
var (
	// ErrStreamClosed is returned by Host methods when Envoy closed the
	// ext_proc stream before the exchange was complete (client gone, Envoy
	// timeout, or Envoy needing nothing more).
	ErrStreamClosed = errors.New("ext_proc stream closed by Envoy")
	// ErrBodyTooLarge is returned when a body exceeds Options.BodyLimit. For
	// request bodies the exchange is answered 413.
	ErrBodyTooLarge = errors.New("body exceeds the configured limit")
	// ErrRequestReleased is returned by Forward when Envoy already let the
	// request go upstream (for example after a mode_override that was not
	// honoured), so the flow's request changes can no longer be applied.
	ErrRequestReleased = errors.New("request already released to the upstream")
)

type bodyMode = procmodev3.ProcessingMode_BodySendMode

const (
	modeStreamed = procmodev3.ProcessingMode_STREAMED
	modeBuffered = procmodev3.ProcessingMode_BUFFERED
	modeFDS      = procmodev3.ProcessingMode_FULL_DUPLEX_STREAMED
)

// chunk is a body message whose reply is still owed.
type chunk struct {
	data []byte
	eos  bool
}

// direction is the state of one HTTP direction (request or response) of the
// exchange: which replies Envoy is waiting for and what body has arrived.
//
// A direction starts "held" when its headers arrive: Envoy waits for the
// headers reply. While held, body and trailer messages are recorded and
// their replies deferred until the flow decides (Forward, the outcome).
// Once released every later message of the direction is answered at once
// as a pass-through.
type direction struct {
	response bool
	// mode is the effective body mode (protocol_config, then our overrides;
	// Envoy's ext_proc: mode_override is honoured only with allow_mode_override and only in a headers reply).
	mode bodyMode
	// eager: Envoy sends body messages without waiting for the headers reply
	// (FULL_DUPLEX_STREAMED, or STREAMED with
	// send_body_without_waiting_for_header_response; Envoy's ext_proc: what Envoy sends and expects in each body mode; send_body_without_waiting_for_header_response).
	eager bool

	seen        bool // headers message received
	eos         bool // headers had end_of_stream: there is no body
	headersOwed bool // the headers reply is owed
	// awaitingBody: the headers reply asked for a BUFFERED body that has not
	// arrived yet.
	awaitingBody bool
	// bodyOwed: the reply to the one BUFFERED body message is owed; Envoy still
	// holds the headers (Envoy's ext_proc: CommonResponse: CONTINUE_AND_REPLACE and the header and body mutations header_mutation in a BodyResponse).
	bodyOwed     bool
	held         []chunk // eager: chunks whose replies are owed, in order
	trailersOwed bool
	released     bool

	body        []byte // the buffered body (lazy path)
	size        int64
	complete    bool   // the whole body has arrived
	unavailable string // why the body cannot be had; "" when it can
	tooLarge    bool
	// body admission (admission.go): the budget reservation held for the
	// body until the exchange ends, or the refusal
	admitted, refused bool
	reservation       budget.Reservation

	since time.Time // arrival of the message whose reply is owed
}

// bodyStreams reports whether body messages arrive without a headers reply.
func (d *direction) bodyStreams() bool { return d.eager && !d.eos }

// name is "request" or "response", for messages.
func (d *direction) name() string {
	if d.response {
		return "response"
	}
	return "request"
}

// recvResult is one stream.Recv result handed over by the receive pump.
type recvResult struct {
	msg *extprocv3.ProcessingRequest
	err error
}

// exchange is one ext_proc stream: one HTTP exchange, one run. It implements
// flowengine.Host. All methods run in the stream's goroutine; only Recv runs
// in a helper goroutine (the pump) so that Host methods can honour their ctx.
type exchange struct {
	s      *Server
	stream extprocv3.ExternalProcessor_ProcessServer
	// msgs and done connect the pump; nil until it starts.
	msgs chan recvResult
	done chan struct{}
	ctx  context.Context
	// rc holds the run's context under ctx (runctx.go; rc.r.cancel ends
	// it) apart from the exchange: an exchange whose run context somebody
	// waited on is reused without it (recycle).
	rc      *runCtx
	pumping bool // the pump goroutine runs (started by the first waiting recv)
	// shard is the metric shard of the core the stream started on
	// (metricstripe.Shard): every metric the exchange updates uses it,
	// instead of finding the core's shard again for each.
	shard int
	// series is the flowproc_exchanges_total series this exchange object
	// counted last, kept when it is pooled (seriesHint).
	series seriesHint
	// start is when the request headers arrived (setup), the start of the
	// exchange's span and of its access record's realtime.
	start time.Time
	// waitFrom is the monotonic clock reading (monoNow) of the last
	// observe, which ends a phase with a reply sent: the stream wait that
	// follows starts from it instead of reading the clock again.
	// recvGuarded takes and clears it, and so does every Host call when it
	// returns to the flow (backToFlow): the flow may run for a while before
	// the next wait.
	waitFrom int64
	// waitTimer bounds waits for Envoy's next message (Options.
	// StreamWaitTimeout) through the pump; created by the first wait.
	waitTimer *time.Timer
	// wait bounds the same waits for in-place reads when the stream's
	// context is cancellable (streamwait.go); guarded says it is set up
	// (not without the tap or a timeout). A reused exchange keeps it, its
	// timer possibly armed.
	wait    *waitGuard
	guarded bool
	// client works out request.Client from the first message's
	// attributes when a run asks for it.
	client lazyClient
	// tap is the stream's context as the server's tap (or
	// WithStreamCancel) made it: its cancel function and, when tapped,
	// the project its metadata names. nil without either.
	tap *streamCtx
	// wd sends override_message_timeout for slow runs; nil when disabled.
	// With a watchdog every Send goes through it.
	wd *watchdog
	// replies is the storage replies are built in (replystore.go), taken
	// from its pool by a reply and returned once its replies are sent
	// (putStore), or by close.
	replies *replyStore
	// observed: an OTel span or a trace recorder was given the exchange;
	// both are cleared when they end, so reuse (recycle) checks this.
	observed bool

	request  flowengine.Request
	response flowengine.Response
	req      direction
	resp     direction

	forwarded bool
	// schemeIn: the request arrived carrying UpstreamSchemeHeader.
	schemeIn bool
	closed   bool  // Envoy closed the stream
	fatal    error // protocol or transport error: Process returns it

	// result, for the access log and metrics
	out       *flowengine.Outcome
	completed bool // the final reply was sent
	project   string
	outcome   string
	status    int
	errorCode string

	// observability (otel.go, stepmetrics.go)
	otel  *exchangeSpan
	steps stepObserver
	// traceEnd is the traced exchange's runner (tracing.go); nil when the
	// exchange is not traced.
	traceEnd ExchangeTracer
}

// exchanges holds ended exchanges for reuse (exchange.recycle).
var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// newExchange starts the exchange of stream.
func newExchange(s *Server, stream extprocv3.ExternalProcessor_ProcessServer, shard int) *exchange {
	x := exchanges.Get().(*exchange)
	x.s, x.stream, x.shard = s, stream, shard
	x.resp.response = true
	x.tap = streamOf(stream.Context())
	if s.waitTimeout > 0 && x.tap != nil {
		if x.wait == nil || x.wait.timeout != s.waitTimeout {
			x.wait = newWaitGuard(s.waitTimeout)
		}
		x.wait.start(x.tap)
		x.guarded = true
	}
	// The run gets a context of its own: cancelling the stream's context
	// while the pump's Recv is outstanding would make grpc-go write a
	// CANCELLED status before Process returns its own (streamwait.go).
	if x.rc == nil {
		x.rc = new(runCtx)
	}
	x.rc.r.init(stream.Context())
	x.rc.o = upstream.ObservedContext{Context: &x.rc.r, Observer: s.sideCalls}
	x.ctx = &x.rc.o
	if s.maxMessageTimeout > 0 {
		deadline, _ := x.ctx.Deadline()
		x.wd = newWatchdog(s, stream, deadline)
	}
	return x
}

// first reads the stream's first message in the handler goroutine itself:
// flows that answer at request_headers (the common early-answer case) then
// never need the pump goroutine at all.
//
// With a stream wait timeout the first message too is read through the pump,
// so that a stream that never sends one is ended (waitExpired).
func (x *exchange) first() (*extprocv3.ProcessingRequest, error) {
	if x.guarded {
		return x.recvGuarded()
	}
	if x.s.waitTimeout > 0 {
		return x.recv(x.ctx)
	}
	return x.received(x.stream.Recv())
}

// recvGuarded reads the next message in place under the stream wait
// timeout (streamwait.go).
func (x *exchange) recvGuarded() (*extprocv3.ProcessingRequest, error) {
	from := x.waitFrom
	x.waitFrom = 0
	m, err, expired := x.wait.recv(x.stream, from)
	if expired {
		return nil, x.waitExpired()
	}
	return x.received(m, err)
}

// received handles the result of one Recv: Envoy ending the stream (EOF or
// Canceled, Envoy's ext_proc: Envoy ends a stream by half-closing and then cancelling it) yields ErrStreamClosed, any other error is
// fatal for the exchange.
func (x *exchange) received(m *extprocv3.ProcessingRequest, err error) (*extprocv3.ProcessingRequest, error) {
	if err == nil {
		return m, nil
	}
	if err == io.EOF || status.Code(err) == codes.Canceled || status.Code(err) == codes.DeadlineExceeded {
		x.closed = true
		x.rc.r.cancel()
		return nil, ErrStreamClosed
	}
	if x.fatal == nil {
		x.fatal = err
		x.errorCode = errCodeStream
		x.rc.r.cancel()
	}
	return nil, fmt.Errorf("receive from Envoy: %w", err)
}

// pump receives messages until the stream ends. It is started by the first
// recv that has to wait for a later message, so that a Host call can give up
// when its own ctx ends while Recv is blocked. It stops when Process
// returns (done closed); grpc-go ends a blocked Recv when the handler returns,
// so the pump never outlives its stream.
func (x *exchange) pump() {
	for {
		m, err := x.stream.Recv()
		select {
		case x.msgs <- recvResult{m, err}:
		case <-x.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// close ends the run's context, stops the pump and detaches the watchdog.
func (x *exchange) close() {
	x.rc.r.cancel()
	if x.guarded {
		x.wait.end()
	}
	x.releaseBodies()
	if x.done != nil {
		close(x.done)
	}
	if x.wd != nil {
		x.wd.release()
		x.wd = nil
	}
	// A store with a reply still held (built, never sent) is left to the
	// collector.
	x.putStore()
	x.replies = nil
}

// putStore returns the exchange's reply storage to the pool when no reply
// built in it waits to be sent. A proxied exchange holds none of it while
// it waits for the upstream's response headers: the next reply takes a
// store from the pool again, most likely the one this core used last and
// still has in its cache, instead of one of as many stores as there are
// streams in flight.
func (x *exchange) putStore() {
	if s := x.replies; s != nil && s.free() {
		x.replies = nil
		replyStores.Put(s)
	}
}

// store returns the exchange's reply storage, taking it from the pool
// when the exchange holds none (at its first reply, and after putStore
// gave the last one back). With grpc.EnableTracing (golang.org/x/net/trace) grpc-go
// keeps each sent message for its /debug/requests page, so replies are
// then allocated one by one (a nil store).
func (x *exchange) store() *replyStore {
	if grpc.EnableTracing {
		return nil
	}
	if x.replies == nil {
		x.replies = replyStores.Get().(*replyStore)
	}
	return x.replies
}

// owe records that Envoy now waits for a reply the run holds: Envoy armed
// its message timer when it sent the message.
func (x *exchange) owe(now time.Time) {
	if x.wd != nil {
		x.wd.arm(now)
	}
}

// protocolError records an out-of-order or malformed message: Process will
// return a non-OK status so that Envoy fails closed (Envoy's ext_proc: a server that ends the stream with OK lets the request through unprocessed; a non-OK status fails closed).
func (x *exchange) protocolError(code codes.Code, format string, args ...any) error {
	if x.fatal == nil {
		x.fatal = status.Errorf(code, format, args...)
		x.errorCode = errCodeProtocol
		x.rc.r.cancel()
	}
	return x.fatal
}

// recv returns the next message from Envoy. Envoy ending the stream (EOF or
// Canceled, Envoy's ext_proc: Envoy ends a stream by half-closing and then cancelling it) yields ErrStreamClosed.
func (x *exchange) recv(ctx context.Context) (*extprocv3.ProcessingRequest, error) {
	if x.fatal != nil {
		return nil, x.fatal
	}
	if x.closed {
		return nil, ErrStreamClosed
	}
	if !x.pumping {
		if ctx == x.ctx && x.guarded {
			return x.recvGuarded()
		}
		if ctx == x.ctx && x.s.waitTimeout <= 0 {
			// The run's own ctx ends only with the stream (whose end also
			// ends Recv) or through x.rc.r.cancel, which this goroutine calls:
			// a blocked Recv needs no watcher, so read in place.
			m, err := x.stream.Recv()
			return x.received(m, err)
		}
		// The channels exist only for the pump: most exchanges read in
		// place and never allocate them.
		x.msgs, x.done = make(chan recvResult, 1), make(chan struct{})
		x.pumping = true
		go x.pump()
	}
	var expired <-chan time.Time
	if x.s.waitTimeout > 0 {
		if x.waitTimer == nil {
			x.waitTimer = time.NewTimer(x.s.waitTimeout)
		} else {
			x.waitTimer.Reset(x.s.waitTimeout)
		}
		defer x.waitTimer.Stop()
		expired = x.waitTimer.C
	}
	select {
	case r := <-x.msgs:
		return x.received(r.msg, r.err)
	case <-ctx.Done():
		if x.stream.Context().Err() != nil {
			x.closed = true // Envoy went away; the run's ctx followed
		}
		return nil, ctx.Err()
	case <-expired:
		return nil, x.waitExpired()
	}
}

// waitExpired ends an exchange whose wait for Envoy's next message outlasted
// the stream wait timeout: the run's context is cancelled and Process
// returns DEADLINE_EXCEEDED (Envoy fails the request as configured by
// failure_mode_allow / status_on_error). After the final reply nothing is
// owed any more, so the stream just ends (OK).
func (x *exchange) waitExpired() error {
	if x.completed {
		x.closed = true
		x.rc.r.cancel()
		return ErrStreamClosed
	}
	if x.fatal == nil {
		x.fatal = status.Errorf(codes.DeadlineExceeded, "flowproc: no message from Envoy within the stream wait timeout (%s)", x.s.waitTimeout)
		x.errorCode = errCodeWaitTimeout
		x.rc.r.cancel()
	}
	return x.fatal
}

// send writes one reply.
func (x *exchange) send(r *extprocv3.ProcessingResponse) error {
	if x.fatal != nil {
		return x.fatal
	}
	if x.closed {
		return ErrStreamClosed
	}
	if err := checkReplySize(r, x.s.maxReply); err != nil {
		return err
	}
	var err error
	if x.wd != nil {
		err = x.wd.send(r)
	} else {
		err = x.stream.Send(r)
	}
	x.replies.sent(r) // Send marshalled r; its blocks are free again
	x.putStore()
	if err != nil {
		if x.stream.Context().Err() != nil {
			x.closed = true
			x.rc.r.cancel()
			return ErrStreamClosed
		}
		x.fatal = err
		x.errorCode = errCodeStream
		x.rc.r.cancel()
		return fmt.Errorf("send to Envoy: %w", err)
	}
	return nil
}

// now is the time now, read from the monotonic clock alone once the
// exchange has started: x.start, which setup took from time.Now, plus the
// time since. time.Now reads the wall clock too, which costs a second
// clock reading (a paravirtualised clock on most VMs); this one has the
// same monotonic reading and the wall clock of the exchange's start moved
// on by it, as Sub and Since measure from it anyway.
func (x *exchange) now() time.Time {
	if x.start.IsZero() {
		return time.Now()
	}
	return x.start.Add(time.Duration(monoNow() - monoOf(x.start)))
}

// backToFlow forgets waitFrom when a Host call returns to the flow, which
// may run for a while before the exchange waits again: a wait must not
// start from a reading taken before it.
func (x *exchange) backToFlow() { x.waitFrom = 0 }

// observe records the duration of a phase that ends now. Its clock
// reading is also the start of the exchange's next wait (waitFrom).
func (x *exchange) observe(p phase, since time.Time) {
	if !since.IsZero() {
		now := monoNow()
		x.waitFrom = now
		x.s.metrics.phaseObs[p].ObserveAt(x.shard, time.Duration(now-monoOf(since)).Seconds())
	}
}

func (d *direction) headersPhase() phase {
	if d.response {
		return phaseResponseHeaders
	}
	return phaseRequestHeaders
}

func (d *direction) bodyPhase() phase {
	if d.response {
		return phaseResponseBody
	}
	return phaseRequestBody
}

// next receives until a message the caller must look at: the response
// headers, or a body/trailers message of a direction that is still held
// (recorded in that direction before it is returned). Messages of released
// directions are answered on the spot, so body and trailer messages of
// directions the flow never read are answered in any state.
func (x *exchange) next(ctx context.Context) (*extprocv3.ProcessingRequest, error) {
	for {
		m, err := x.recv(ctx)
		if err != nil {
			return nil, err
		}
		var handled bool
		switch r := m.Request.(type) {
		case *extprocv3.ProcessingRequest_RequestHeaders:
			return nil, x.protocolError(codes.FailedPrecondition, "unexpected second request_headers on one ext_proc stream")
		case *extprocv3.ProcessingRequest_ResponseHeaders:
			if x.resp.seen {
				return nil, x.protocolError(codes.FailedPrecondition, "unexpected second response_headers on one ext_proc stream")
			}
			err = x.onResponseHeaders(r.ResponseHeaders, codeDetailsFromAttributes(m))
		case *extprocv3.ProcessingRequest_RequestBody:
			handled, err = x.onBody(&x.req, r.RequestBody)
		case *extprocv3.ProcessingRequest_ResponseBody:
			handled, err = x.onBody(&x.resp, r.ResponseBody)
		case *extprocv3.ProcessingRequest_RequestTrailers:
			handled, err = x.onTrailers(&x.req)
		case *extprocv3.ProcessingRequest_ResponseTrailers:
			handled, err = x.onTrailers(&x.resp)
		case nil:
			return nil, x.protocolError(codes.InvalidArgument, "ProcessingRequest with no request set")
		default:
			return nil, x.protocolError(codes.InvalidArgument, "unsupported ProcessingRequest message %T", r)
		}
		if err != nil {
			return nil, err
		}
		if !handled {
			return m, nil
		}
	}
}

// onResponseHeaders records the upstream response head. If the request
// direction was not released yet, Envoy has moved on without it (the
// mode_override was not honoured, or Envoy generated a local reply): the
// request body becomes unavailable and owed request replies are flushed.
// details is Envoy's response.code_details sent with the message ("" when
// the filter does not ask for it).
func (x *exchange) onResponseHeaders(h *extprocv3.HttpHeaders, details string) error {
	d := &x.resp
	d.seen, d.headersOwed, d.eos, d.since = true, true, h.GetEndOfStream(), x.now()
	x.owe(d.since)
	// The header slice of a reused exchange (recycle), emptied.
	x.response = flowengine.Response{BodyKnownEmpty: d.eos, CodeDetails: details, Headers: x.response.Headers[:0]}
	hs := h.GetHeaders().GetHeaders()
	x.response.Headers = slices.Grow(x.response.Headers, len(hs))
	for _, hv := range hs {
		k, v := hv.GetKey(), headerValue(hv)
		switch {
		case k == ":status":
			x.response.Status, _ = strconv.Atoi(v)
		case len(k) > 0 && k[0] == ':':
		default:
			x.response.Headers = append(x.response.Headers, flowengine.Header{Name: k, Value: v})
		}
	}
	if q := &x.req; !q.released {
		if !q.complete && q.unavailable == "" {
			q.unavailable = "response_headers arrived before the request body (is allow_mode_override enabled in Envoy?)"
		}
		if err := x.passThroughOwed(q); err != nil {
			return err
		}
		q.released = true
	}
	return nil
}

// passThroughOwed answers, unmodified, the body and trailers messages of d
// whose replies are owed. The headers reply is not sent: a caller uses this
// only when Envoy no longer waits for it.
func (x *exchange) passThroughOwed(d *direction) error {
	if d.bodyOwed {
		d.bodyOwed = false
		if err := x.send(x.store().bodyReply(d.response, nil)); err != nil {
			return err
		}
	}
	for _, c := range d.held {
		if err := x.send(x.passThroughBody(d, c)); err != nil {
			return err
		}
	}
	d.held = nil
	if d.trailersOwed {
		d.trailersOwed = false
		return x.send(trailersReply(d.response))
	}
	return nil
}

// passThroughBody is the unmodified reply to one body message: an empty
// BodyResponse, or for FULL_DUPLEX_STREAMED the chunk echoed back as a
// streamed_response (Envoy's ext_proc: what Envoy sends and expects in each body mode).
func (x *exchange) passThroughBody(d *direction, c chunk) *extprocv3.ProcessingResponse {
	if d.mode == modeFDS {
		return x.store().bodyReply(d.response, &extprocv3.CommonResponse{BodyMutation: streamedBody(c.data, c.eos)})
	}
	return x.store().bodyReply(d.response, nil)
}

// onBody handles a body message for d. handled is true when it was answered
// (released direction).
func (x *exchange) onBody(d *direction, b *extprocv3.HttpBody) (handled bool, err error) {
	switch {
	case !d.seen:
		return false, x.protocolError(codes.FailedPrecondition, "%s_body before %s_headers", d.name(), d.name())
	case d.released:
		return true, x.send(x.passThroughBody(d, chunk{b.GetBody(), b.GetEndOfStream()}))
	case d.awaitingBody:
		// The one BUFFERED message: the whole body (end_of_stream is false
		// when trailers follow; Envoy's ext_proc: what Envoy sends and expects in each body mode).
		d.awaitingBody, d.bodyOwed, d.complete = false, true, true
		d.body, d.size, d.since = b.GetBody(), int64(len(b.GetBody())), x.now()
		x.owe(d.since)
	case d.bodyOwed || d.complete && !d.eager:
		return false, x.protocolError(codes.FailedPrecondition, "unexpected %s_body after the buffered body", d.name())
	default:
		// Body sent without waiting for our headers reply (FDS, STREAMED
		// with send_body_without_waiting_for_header_response, or a mode
		// protocol_config did not tell us about): hold it in order.
		d.eager = true
		d.held = append(d.held, chunk{b.GetBody(), b.GetEndOfStream()})
		d.size += int64(len(b.GetBody()))
		now := x.now()
		if b.GetEndOfStream() {
			d.complete, d.since = true, now
		}
		x.owe(now)
	}
	if lim := x.s.bodyLimit; d.size > lim && !d.tooLarge {
		d.tooLarge = true
		x.errorCode = errCodeBodyTooLarge
	}
	return false, nil
}

// onTrailers handles a trailers message for d.
func (x *exchange) onTrailers(d *direction) (handled bool, err error) {
	switch {
	case !d.seen:
		return false, x.protocolError(codes.FailedPrecondition, "%s_trailers before %s_headers", d.name(), d.name())
	case d.released:
		return true, x.send(trailersReply(d.response))
	}
	d.trailersOwed = true
	now := x.now()
	x.owe(now)
	switch {
	case d.awaitingBody:
		d.awaitingBody = false
		d.unavailable = "trailers arrived instead of the buffered body (mode_override not honoured)"
	case d.eager && !d.complete:
		d.complete, d.since = true, now // trailers end a streamed body
	}
	return false, nil
}

// readBody implements the lazy body read for d (Envoy's ext_proc: mode_override is honoured only with allow_mode_override and only in a headers reply): reply to
// the held headers with CONTINUE + mode_override BUFFERED and wait for the
// body, or collect chunks Envoy streams on its own.
func (x *exchange) readBody(ctx context.Context, d *direction) ([]byte, error) {
	if !d.complete && d.eos {
		d.complete = true
	}
	if !d.tooLarge && !d.eos {
		if err := x.admit(d); err != nil {
			return nil, err
		}
	}
	for {
		switch {
		case d.tooLarge:
			return nil, fmt.Errorf("%s body over %d bytes: %w", d.name(), x.s.bodyLimit, ErrBodyTooLarge)
		case d.complete:
			x.admittedBody(d)
			return d.bytes(), nil
		case d.unavailable != "":
			x.bodyUnavailable(d)
			return nil, fmt.Errorf("%s body: %s: %w", d.name(), d.unavailable, flowengine.ErrBodyUnavailable)
		case d.released:
			d.unavailable = "the " + d.name() + " was already released"
			continue
		case d.headersOwed && !d.eager:
			// Body modes in an override are absolute: always set both
			// (Envoy's ext_proc: mode_override is honoured only with allow_mode_override and only in a headers reply).
			var override *procmodev3.ProcessingMode
			if d.mode != modeBuffered {
				override = &procmodev3.ProcessingMode{RequestBodyMode: x.req.mode, ResponseBodyMode: x.resp.mode}
				if d.response {
					override.ResponseBodyMode = modeBuffered
				} else {
					override.RequestBodyMode = modeBuffered
				}
			}
			if err := x.send(x.store().continueHeaders(d.response, nil, false, override)); err != nil {
				return nil, fmt.Errorf("ask Envoy for the %s body: %w", d.name(), err)
			}
			x.observe(d.headersPhase(), d.since)
			d.headersOwed, d.awaitingBody, d.mode = false, true, modeBuffered
			continue
		}
		if _, err := x.next(ctx); err != nil {
			return nil, fmt.Errorf("wait for the %s body: %w", d.name(), err)
		}
	}
}

// releasedReason says why Envoy no longer holds the direction.
func (d *direction) releasedReason() string {
	if d.unavailable != "" {
		return d.unavailable
	}
	return "the " + d.name() + " headers were already answered"
}

// bytes returns the received body.
func (d *direction) bytes() []byte {
	if !d.eager {
		if d.body == nil {
			return []byte{}
		}
		return d.body
	}
	if d.body == nil {
		d.body = make([]byte, 0, d.size)
		for _, c := range d.held {
			d.body = append(d.body, c.data...)
		}
	}
	return d.body
}

// bodyUnavailable logs and counts a body the proxy did not provide.
func (x *exchange) bodyUnavailable(d *direction) {
	if x.errorCode == "" {
		x.errorCode = errCodeBodyUnavailable
		x.s.log.Warn("body unavailable from Envoy",
			"requestID", x.request.ID, "direction", d.name(), "reason", d.unavailable)
	}
}

// RequestBody implements flowengine.Host.
func (x *exchange) RequestBody(ctx context.Context) ([]byte, error) {
	defer x.backToFlow()
	if x.request.BodyKnownEmpty {
		return []byte{}, nil
	}
	if d := &x.req; !d.complete && !d.tooLarge && x.declaredOver() {
		// A Content-Length over the limit is refused before the body is
		// asked for: Envoy would otherwise buffer it (and answer 413 itself
		// past its own buffer limit) only for flowproc to refuse it.
		d.tooLarge = true
	}
	return x.readBody(ctx, &x.req)
}

// declaredOver reports whether the request's Content-Length is over the
// body limit.
func (x *exchange) declaredOver() bool {
	for _, h := range x.request.Headers {
		if h.Name == "content-length" {
			n, err := strconv.ParseInt(strings.TrimSpace(h.Value), 10, 64)
			return err == nil && n > int64(x.s.bodyLimit)
		}
	}
	return false
}

// ResponseBody implements flowengine.Host.
func (x *exchange) ResponseBody(ctx context.Context) ([]byte, error) {
	defer x.backToFlow()
	if !x.resp.seen {
		return nil, fmt.Errorf("response body read before the response arrived: %w", flowengine.ErrBodyUnavailable)
	}
	if x.response.BodyKnownEmpty {
		return []byte{}, nil
	}
	return x.readBody(ctx, &x.resp)
}

// Forward implements flowengine.Host: it sends the reply Envoy is waiting
// for in the request direction with the flow's request mutations, then waits
// for the upstream's response headers.
func (x *exchange) Forward(ctx context.Context, f *flowengine.Mutation) (*flowengine.Response, error) {
	defer x.backToFlow()
	if x.forwarded {
		return nil, errors.New("forward called twice")
	}
	x.forwarded = true
	if f == nil {
		f = &flowengine.Mutation{}
	}
	d := &x.req
	if d.tooLarge {
		return nil, fmt.Errorf("forward: request body over %d bytes: %w", x.s.bodyLimit, ErrBodyTooLarge)
	}
	if d.refused { // answered 503 by finish; nothing goes upstream
		return nil, fmt.Errorf("forward: %w", ErrBodyBudget)
	}
	if !d.released && (d.awaitingBody || f.BodySet && d.bodyStreams() && !d.complete) {
		// A BUFFERED body on its way must arrive before its reply; a
		// streamed body is replaced whole, so collect it first.
		if _, err := x.readBody(ctx, d); err != nil && !errors.Is(err, flowengine.ErrBodyUnavailable) {
			return nil, fmt.Errorf("forward: %w", err)
		}
	}
	scheme, clear, err := routeChange(f, x.request.Scheme, x.schemeIn)
	if err != nil {
		return nil, err
	}
	replace, held := f.BodySet, false
	if !d.released {
		hm := x.store().requestMutation(f, replace, scheme, x.schemeIn && scheme == "")
		if held, err = x.release(d, hm, f.Body, replace, clear); err != nil {
			return nil, fmt.Errorf("forward: %w", err)
		}
	}
	if !held && changesRequest(f) {
		// Envoy let the request go without the flow's changes: fail rather
		// than pass it unchanged.
		return nil, fmt.Errorf("forward: %s: %w", d.releasedReason(), ErrRequestReleased)
	}
	for !x.resp.seen {
		if _, err := x.next(ctx); err != nil {
			return nil, fmt.Errorf("wait for the upstream response: %w", err)
		}
	}
	return &x.response, nil
}

// changesRequest reports whether f asks for any request change.
func changesRequest(f *flowengine.Mutation) bool { return !f.Empty() || f.Scheme != "" }

// release sends the owed replies of d carrying the header mutation hm and,
// when replace is set, the new body. Where the changes go depends on what
// Envoy holds (Envoy's ext_proc: CommonResponse: CONTINUE_AND_REPLACE and the header and body mutations; what Envoy sends and expects in each body mode; content-length after a body mutation): the headers reply (CONTINUE,
// or CONTINUE_AND_REPLACE for an unread body), the headers reply followed by
// the held chunks' replies (streamed bodies), or the BUFFERED body reply
// with content-length fixed. clear sets clear_route_cache in the reply that
// carries hm (request direction only; Envoy honours it only next to a
// header_mutation, Envoy's ext_proc: clear_route_cache and the route cache). held is false when Envoy no longer held
// anything the changes could apply to.
func (x *exchange) release(d *direction, hm *extprocv3.HeaderMutation, body []byte, replace, clear bool) (held bool, err error) {
	held = true
	switch {
	case d.headersOwed && d.bodyStreams():
		if err = x.send(x.store().continueHeaders(d.response, hm, clear, nil)); err == nil {
			x.observe(d.headersPhase(), d.since)
			err = x.replyHeld(d, body, replace)
		}
	case d.headersOwed && !replace:
		err = x.send(x.store().continueHeaders(d.response, hm, clear, nil))
		x.observe(d.headersPhase(), d.since)
	case d.headersOwed:
		err = x.send(x.store().headersReply(d.response, replaceInHeaders(hm, body, replace, clear), nil))
		x.observe(d.headersPhase(), d.since)
	case d.bodyOwed:
		c := &extprocv3.CommonResponse{HeaderMutation: hm, ClearRouteCache: clear}
		if replace {
			c.HeaderMutation, c.BodyMutation = withContentLength(hm, len(body)), bodyReplacement(body)
		}
		d.bodyOwed = false
		err = x.send(x.store().bodyReply(d.response, c))
		x.observe(d.bodyPhase(), d.since)
	default:
		held = false
	}
	if err != nil {
		return held, err
	}
	d.headersOwed = false
	if d.trailersOwed {
		d.trailersOwed = false
		if err := x.send(trailersReply(d.response)); err != nil {
			return held, err
		}
	}
	d.released = true
	return held, nil
}

// replaceInHeaders is the CommonResponse of a headers reply that carries the
// header mutation and, when replace is set, a new body: CONTINUE_AND_REPLACE
// with body_mutation, content-length removed (Envoy's ext_proc: CommonResponse: CONTINUE_AND_REPLACE and the header and body mutations; content-length after a body mutation).
// clear sets clear_route_cache.
func replaceInHeaders(hm *extprocv3.HeaderMutation, body []byte, replace, clear bool) *extprocv3.CommonResponse {
	if !replace {
		return &extprocv3.CommonResponse{HeaderMutation: hm, ClearRouteCache: clear}
	}
	return &extprocv3.CommonResponse{
		Status:          extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
		HeaderMutation:  withoutContentLength(hm),
		BodyMutation:    bodyReplacement(body),
		ClearRouteCache: clear,
	}
}

// replyHeld answers the held chunks of an eager direction, after its headers
// reply. Without replace each chunk passes unchanged (STREAMED: empty reply
// per chunk in order; FDS: echo). With replace the whole new body goes in
// the first STREAMED chunk's reply and the other chunks are cleared, or as
// one FDS streamed_response.
func (x *exchange) replyHeld(d *direction, body []byte, replace bool) error {
	held := d.held
	d.held = nil
	if !replace {
		for _, c := range held {
			if err := x.send(x.passThroughBody(d, c)); err != nil {
				return err
			}
		}
		return nil
	}
	defer x.observe(d.bodyPhase(), d.since)
	if d.mode == modeFDS {
		return x.send(x.store().bodyReply(d.response, &extprocv3.CommonResponse{BodyMutation: streamedBody(body, !d.trailersOwed)}))
	}
	for i := range held {
		bm := clearBody()
		if i == 0 {
			bm = bodyReplacement(body)
		}
		if err := x.send(x.store().bodyReply(d.response, &extprocv3.CommonResponse{BodyMutation: bm})); err != nil {
			return err
		}
	}
	return nil
}

// releaseResponse sends the response direction's owed replies carrying the
// Forwarded outcome's mutations.
func (x *exchange) releaseResponse(o *flowengine.Outcome) error {
	d := &x.resp
	if o.BodySet && d.bodyStreams() && !d.complete {
		if _, err := x.readBody(x.ctx, d); err != nil {
			return err
		}
	}
	hm := x.store().responseMutation(o, o.BodySet)
	held, err := x.release(d, hm, o.Body, o.BodySet, false)
	if !held && (hm != nil || o.BodySet) {
		x.s.log.Warn("response changes dropped: Envoy already released the response headers",
			"requestID", x.request.ID)
	}
	return err
}

// canAnswer reports whether an ImmediateResponse still replaces the response
// cleanly: the stream is healthy and the response headers have not been
// released downstream (Envoy's ext_proc: an ImmediateResponse status below 200 is sent as 200; an ImmediateResponse cannot replace a response whose headers went out).
func (x *exchange) canAnswer() bool {
	return !x.closed && x.fatal == nil && !x.resp.released
}

// answer sends an ImmediateResponse and records it.
func (x *exchange) answer(status int, set, add []flowengine.Header, body []byte, project string) error {
	if status == 0 {
		status = 200
	}
	err := x.send(x.store().immediateReply(status, set, add, body, details(project)))
	switch {
	case x.resp.seen && x.resp.bodyOwed:
		x.observe(phaseResponseBody, x.resp.since)
	case x.resp.seen:
		x.observe(phaseResponseHeaders, x.resp.since)
	case x.req.bodyOwed:
		x.observe(phaseRequestBody, x.req.since)
	case x.req.headersOwed:
		x.observe(phaseRequestHeaders, x.req.since)
	}
	if err != nil {
		return err
	}
	x.req.released, x.resp.released, x.completed = true, true, true
	x.status = status
	x.s.metrics.immediateResponses.WithLabelValues(strconv.Itoa(status)).Inc()
	return nil
}

// streamClosed reports whether err is ErrStreamClosed, or wraps it. Every
// stream ends with it itself (Envoy closing the stream), which is compared
// first: errors.Is starts by asking the reflection code whether the target
// is comparable, code nothing else in an exchange runs.
func streamClosed(err error) bool {
	return err == ErrStreamClosed || errors.Is(err, ErrStreamClosed)
}

// drain answers pass-through messages until Envoy ends the stream.
func (x *exchange) drain() error {
	for {
		m, err := x.next(x.ctx)
		switch {
		case streamClosed(err):
			return nil
		case err != nil:
			return err
		case m != nil:
			return x.protocolError(codes.FailedPrecondition, "unexpected %T after the exchange was complete", m.Request)
		}
	}
}

var _ flowengine.Host = (*exchange)(nil)
