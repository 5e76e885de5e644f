package envoy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// filterName is the fixed key of ProcessingRequest.attributes (attributes are sent only when configured).
const filterName = "envoy.filters.http.ext_proc"

// Events delivered to an exchange's loop.
type (
	evRecv    struct{ msg *extprocv3.ProcessingResponse }
	evRecvEnd struct{ err error }
	evTimer   struct {
		dir direction
		gen uint64
	}
	evUpstream struct {
		resp *UpstreamResponse
		err  error
	}
	// evRouteTimeout: the route's timeout elapsed (router.cc
	// onResponseTimeout).
	evRouteTimeout struct{}
)

type openResult int

const (
	openOK openResult = iota
	openError
	openIgnore
)

// exchange is one HTTP stream through the emulated filter: Envoy's
// ext_proc Filter instance plus the slice of the filter manager, router and
// codec it talks to. All state is owned by the loop goroutine (run);
// goroutines for the gRPC stream, timers and the upstream only post events.
type exchange struct {
	c   *Client
	eff *EffectiveConfig
	// routeCleared: the server cleared the route cache; target is the
	// router's choice (selectRoute).
	routeCleared bool
	target       routeTarget
	f            *extprocfilterv3.ExternalProcessor
	v            Version
	ctx          context.Context
	req          *HTTPRequest
	upstream     Upstream
	log          *slog.Logger

	dec, enc *procState

	failureModeAllow      bool
	processingComplete    bool
	sentImmediateResponse bool
	protocolConfigEncoded bool
	observability         bool
	messageTimeout        time.Duration
	maxMessageTimeout     time.Duration
	isGRPC                bool
	dynMeta               map[string]*structpb.Struct

	// gRPC stream.
	stream       extprocv3.ExternalProcessor_ProcessClient
	streamCancel context.CancelFunc
	streamOpen   bool // Envoy's stream_ != nullptr
	streamEver   bool
	remoteClosed bool
	snd          *sender
	recvDone     chan struct{}

	events chan any
	quit   chan struct{}

	routerStarted   bool
	upstreamStarted bool
	upstreamCancel  context.CancelFunc
	upstreamDone    chan struct{}

	routeTimer *time.Timer
	// rqTimeout replaces the route timeout when the request carried
	// x-envoy-upstream-rq-timeout-ms (rqTimeoutSet).
	rqTimeout    time.Duration
	rqTimeoutSet bool

	// StreamInfo facts the response attributes read: respDetails is
	// response.code_details, respCode response.code (0: unset), respFlags
	// response.flags.
	respLocal   bool
	respDetails string
	respCode    int
	respFlags   uint64
	finished    bool
	result      *HTTPResponse
}

func newExchange(ctx context.Context, c *Client, eff *EffectiveConfig, req *HTTPRequest, up Upstream) *exchange {
	f := eff.Filter
	x := &exchange{
		c: c, eff: eff, f: f, v: c.opts.version, ctx: ctx, req: req, upstream: up,
		log:            c.log.With("method", req.Method, "path", req.Path),
		observability:  f.GetObservabilityMode(),
		messageTimeout: 200 * time.Millisecond,
		events:         make(chan any, 16),
		quit:           make(chan struct{}),
		dynMeta:        map[string]*structpb.Struct{},
	}
	if d := f.GetMessageTimeout(); d != nil {
		x.messageTimeout = d.AsDuration()
	}
	if d := f.GetMaxMessageTimeout(); d != nil {
		x.maxMessageTimeout = d.AsDuration()
	}
	x.failureModeAllow = f.GetFailureModeAllow()
	if eff.FailureModeAllow != nil && x.v.perRouteFailureMode() {
		x.failureModeAllow = *eff.FailureModeAllow
	}
	for k, v := range req.DynamicMetadata {
		x.dynMeta[k] = proto.Clone(v).(*structpb.Struct)
	}
	if eff.GrpcService != f.GetGrpcService() {
		x.log.Debug("ext_proc client: per-route grpc_service override; streams still use the client's connection")
	}
	x.dec = &procState{x: x, dir: dirRequest, arrival: req.Arrival}
	x.enc = &procState{x: x, dir: dirResponse}
	x.dec.setProcessingMode(eff.ProcessingMode)
	x.enc.setProcessingMode(eff.ProcessingMode)
	return x
}

// post delivers an event to the loop unless the exchange is over.
func (x *exchange) post(ev any) {
	select {
	case x.events <- ev:
	case <-x.quit:
	}
}

// run executes the exchange and returns the downstream response.
func (x *exchange) run() (*HTTPResponse, error) {
	defer x.teardown()
	x.start()
	var idle *time.Timer
	var idleC <-chan time.Time
	if d := x.c.opts.idleTimeout; d > 0 {
		idle = time.NewTimer(d)
		defer idle.Stop()
		idleC = idle.C
	}
	for {
		x.pump()
		if x.finished {
			return x.result, nil
		}
		select {
		case ev := <-x.events:
			x.handle(ev)
		case <-idleC:
			x.log.Warn("ext_proc client: stream idle timeout")
			x.sendLocalReply(localReply{status: 408, body: []byte("stream timeout"), details: "stream_idle_timeout", flags: flagStreamIdleTimeout, viaChain: true})
		case <-x.ctx.Done():
			return nil, x.ctx.Err()
		}
		if idle != nil {
			if !idle.Stop() {
				select {
				case <-idle.C:
				default:
				}
			}
			idle.Reset(x.c.opts.idleTimeout)
		}
	}
}

func (x *exchange) handle(ev any) {
	switch e := ev.(type) {
	case evRecv:
		if x.streamOpen {
			x.onReceiveMessage(e.msg)
		}
	case evRecvEnd:
		x.onRecvEnd(e.err)
	case evTimer:
		s := x.stateFor(e.dir)
		if s.timerOn && e.gen == s.timerGen {
			s.timerOn = false
			x.onMessageTimeout(s)
		}
	case evUpstream:
		x.onUpstream(e.resp, e.err)
	case evRouteTimeout:
		x.onResponseTimeout()
	}
}

func (x *exchange) stateFor(d direction) *procState {
	if d == dirRequest {
		return x.dec
	}
	return x.enc
}

// start builds the request headers the way the HCM hands them to the
// filter chain and runs decodeHeaders.
func (x *exchange) start() {
	r := x.req
	h := &headerMap{}
	if r.Authority != "" {
		h.add(":authority", r.Authority)
	}
	h.add(":path", r.Path)
	h.add(":method", r.Method)
	scheme := r.Scheme
	if scheme == "" {
		scheme = "http"
	}
	h.add(":scheme", scheme)
	for _, hd := range r.Headers {
		name := lowerASCII(hd.Name)
		if strings.HasPrefix(name, ":") {
			continue
		}
		h.add(name, hd.Value)
	}
	if x.c.opts.hcmHeaders {
		if !h.has("x-forwarded-proto") {
			h.add("x-forwarded-proto", scheme)
		}
		if !h.has("x-request-id") {
			h.add("x-request-id", newUUID())
		}
	}
	if ct, ok := h.first("content-type"); ok && strings.HasPrefix(ct, "application/grpc") {
		x.isGRPC = true
	}
	x.dec.hmap = h
	x.dec.pending = messagePieces(r.Body, r.BodyChunks, r.Trailers)
	x.dec.started = true
	x.decodeHeaders(len(x.dec.pending) == 0)
}

// messagePieces splits a body and trailers into deliverable pieces.
func messagePieces(body []byte, chunks [][]byte, trailers []Header) []piece {
	if chunks == nil && len(body) > 0 {
		chunks = [][]byte{body}
	}
	var ps []piece
	for i, c := range chunks {
		ps = append(ps, piece{data: append([]byte{}, c...), end: i == len(chunks)-1 && len(trailers) == 0})
	}
	if len(trailers) > 0 {
		ps = append(ps, piece{trailers: headerMapFrom(trailers)})
	}
	return ps
}

// pump makes every progress possible without new events: deliveries the
// arrival policy allows, the router, the end of the response.
func (x *exchange) pump() {
	for !x.finished {
		if x.deliverNext(x.dec) {
			continue
		}
		if !x.routerStarted && x.dec.headersPassed && !x.dec.aborted {
			x.routerStarted = true
			if x.selectRoute() {
				continue
			}
		}
		if !x.upstreamStarted && x.routerStarted && x.dec.complete() {
			x.startUpstream()
			continue
		}
		if x.enc.started && x.deliverNext(x.enc) {
			continue
		}
		if x.enc.started && x.enc.complete() {
			x.finishNormal()
		}
		return
	}
}

func (x *exchange) arrivalAllowed(s *procState) bool {
	if x.processingComplete || x.observability {
		return true
	}
	switch s.arrival {
	case ArrivalAfterHeaders:
		return s.cb != cbHeaders
	case ArrivalLockstep:
		if s.bodyMode == bodyFDS {
			return s.cb != cbHeaders
		}
		return s.cb == cbIdle
	}
	return true
}

func (x *exchange) deliverNext(s *procState) bool {
	if len(s.pending) == 0 {
		return false
	}
	if s.aborted {
		s.pending = nil
		return false
	}
	if !x.arrivalAllowed(s) {
		return false
	}
	p := s.pending[0]
	s.pending = s.pending[1:]
	if p.trailers != nil {
		x.deliverTrailers(s, p.trailers)
	} else {
		x.deliverData(s, p.data, p.end)
	}
	return true
}

// deliverData is the filter manager calling decodeData/encodeData and
// acting on the returned status.
func (x *exchange) deliverData(s *procState, b []byte, end bool) {
	if end {
		s.endArrived = true
	}
	data := b
	st := x.onData(s, &data, end)
	if x.finished || s.aborted {
		return
	}
	switch st {
	case dataContinue:
		if !s.headersPassed {
			// Continue after stopped headers resumes the whole chain.
			s.addBuf(data)
			s.continueChain()
			return
		}
		s.appendOut(data)
		if end {
			s.endPassed = true
		}
	case dataStopBuffer:
		s.addBuf(data)
		x.checkOverflow(s)
	case dataStopWatermark:
		s.addBuf(data)
	case dataStopNoBuffer:
	}
}

func (x *exchange) deliverTrailers(s *procState, t *headerMap) {
	s.trailerMap = t
	if x.onTrailers(s, t) {
		if x.finished || s.aborted {
			return
		}
		s.trailersStopped = true
		s.continueChain()
		return
	}
	if !s.aborted {
		s.trailersStopped = true
	}
}

// checkOverflow is the filter manager's buffer limit for
// StopIterationAndBuffer data: 413 for requests, 500 for responses (what Envoy sends and expects in each body mode).
func (x *exchange) checkOverflow(s *procState) bool {
	if len(s.buf) <= x.c.opts.bufferLimit {
		return false
	}
	if s.dir == dirRequest {
		x.log.Warn("ext_proc client: buffered request body exceeds the buffer limit", "limit", x.c.opts.bufferLimit)
		x.sendLocalReply(localReply{status: 413, body: []byte("Payload Too Large"), details: "request_payload_too_large", viaChain: true})
	} else {
		x.log.Warn("ext_proc client: buffered response body exceeds the buffer limit", "limit", x.c.opts.bufferLimit)
		x.sendLocalReply(localReply{status: 500, body: []byte("Internal Server Error"), details: "response_payload_too_large"})
	}
	return true
}

// --- Filter: headers, data, trailers -----------------------------------------

func (x *exchange) decodeHeaders(end bool) {
	s := x.dec
	s.headersEnd = end
	if end {
		s.endArrived = true
	}
	if s.sendHeaders && x.observability {
		if x.sendHeadersInObservabilityMode(s, end) {
			s.continueChain()
		}
		return
	}
	if end {
		s.completeBodyAvailable = true
	}
	cont := true
	if s.sendHeaders {
		cont = x.onHeaders(s, end)
	}
	if x.finished {
		return
	}
	if !x.processingComplete && s.shouldRemoveContentLength() {
		s.hmap.remove("content-length")
	}
	if cont {
		s.continueChain()
	}
}

func (x *exchange) encodeHeaders(end bool) {
	s := x.enc
	s.headersEnd = end
	if end {
		s.endArrived = true
	}
	if s.sendHeaders && x.observability {
		if x.sendHeadersInObservabilityMode(s, end) {
			s.continueChain()
		}
		return
	}
	if end {
		s.completeBodyAvailable = true
	}
	cont := true
	if !x.processingComplete && s.sendHeaders {
		cont = x.onHeaders(s, end)
	}
	if x.finished {
		return
	}
	if !x.processingComplete && s.shouldRemoveContentLength() {
		s.hmap.remove("content-length")
	}
	if s.noExternalProcess() {
		x.closeStreamMaybeGraceful()
	}
	if cont {
		s.continueChain()
	}
}

// onHeaders sends a headers message; false means the headers are held.
func (x *exchange) onHeaders(s *procState, end bool) bool {
	switch x.openStream() {
	case openError:
		return false
	case openIgnore:
		return true
	}
	s.headers = s.hmap
	s.noBody = end
	req := x.buildHeaderRequest(s, end, false)
	s.onStartProcessorCall(cbHeaders)
	x.sendRequest(s, req, s.kind("headers"), true)
	s.paused = true
	return false
}

func (x *exchange) onData(s *procState, data *[]byte, end bool) dataStatus {
	s.bodyReceived = true
	if x.observability {
		return x.sendDataInObservabilityMode(s, *data, end)
	}
	if end {
		s.completeBodyAvailable = true
	}
	if s.bodyReplaced {
		*data = nil
		return dataContinue
	}
	if x.processingComplete {
		return dataContinue
	}
	if s.cb == cbHeaders {
		if !((s.bodyMode == bodyStreamed && x.f.GetSendBodyWithoutWaitingForHeaderResponse()) || s.bodyMode == bodyFDS) {
			s.paused = true
			if s.bodyMode == bodyBuffered {
				return dataStopBuffer
			}
			return dataStopWatermark
		}
	}
	switch s.bodyMode {
	case bodyBuffered:
		return x.handleDataBufferedMode(s, data, end)
	case bodyStreamed, bodyFDS:
		return x.handleDataStreamedMode(s, data, end)
	case bodyPartial:
		return x.handleDataBufferedPartialMode(s, data, end)
	}
	return dataContinue
}

func (x *exchange) handleDataBufferedMode(s *procState, data *[]byte, end bool) dataStatus {
	if !end {
		s.paused = true
		return dataStopBuffer
	}
	switch x.openStream() {
	case openError:
		return dataStopNoBuffer
	case openIgnore:
		return dataContinue
	}
	s.addBuf(*data)
	*data = nil
	if x.checkOverflow(s) {
		return dataStopNoBuffer
	}
	req := x.setupBodyChunk(s, s.buf, true)
	x.sendBodyChunk(s, cbBufferedBody, req)
	s.paused = true
	return dataStopNoBuffer
}

func (x *exchange) handleDataStreamedMode(s *procState, data *[]byte, end bool) dataStatus {
	switch x.openStream() {
	case openError:
		return dataStopNoBuffer
	case openIgnore:
		return dataContinue
	}
	req := x.setupBodyChunk(s, *data, end)
	if s.bodyMode != bodyFDS {
		s.queue.push(*data, end)
	}
	*data = nil
	if s.cb == cbHeaders {
		x.sendBodyChunk(s, cbHeaders, req)
	} else {
		x.sendBodyChunk(s, cbStreamedBody, req)
	}
	if end || s.cb == cbHeaders {
		s.paused = true
		return dataStopNoBuffer
	}
	return dataContinue
}

func (x *exchange) handleDataBufferedPartialMode(s *procState, data *[]byte, end bool) dataStatus {
	if s.partialBodyProcessed {
		s.headers = nil
		return dataContinue
	}
	if s.cb == cbBufferedPartialBody {
		s.queue.push(*data, end)
		*data = nil
		s.paused = true
		return dataStopNoBuffer
	}
	s.queue.push(*data, end)
	*data = nil
	if end || s.queue.bytes() > x.c.opts.bufferLimit {
		switch x.openStream() {
		case openError:
			return dataStopNoBuffer
		case openIgnore:
			return dataContinue
		}
		all := s.queue.consolidate()
		req := x.setupBodyChunk(s, s.queue.data, all.end)
		x.sendBodyChunk(s, cbBufferedPartialBody, req)
		s.paused = true
	}
	return dataStopNoBuffer
}

// onTrailers returns true to let the trailers continue.
func (x *exchange) onTrailers(s *procState, t *headerMap) bool {
	if x.processingComplete {
		return true
	}
	if s.sendTrailers && x.observability {
		switch x.openStream() {
		case openError:
			return false
		case openIgnore:
			return true
		}
		x.sendTrailers(s, t, true)
		return true
	}
	bodyDelivered := s.completeBodyAvailable
	s.completeBodyAvailable = true
	s.trailers = t
	s.trailersAvailable = true
	if s.cb != cbIdle && s.bodyMode != bodyFDS {
		s.paused = true
		return false
	}
	if !bodyDelivered && ((s.hasBuf && s.bodyMode == bodyBuffered) || (!s.queue.empty() && s.bodyMode == bodyPartial)) {
		switch x.openStream() {
		case openError:
			return false
		case openIgnore:
			return true
		}
		if s.bodyMode == bodyBuffered {
			req := x.setupBodyChunk(s, s.buf, false)
			x.sendBodyChunk(s, cbBufferedBody, req)
		} else {
			s.queue.consolidate()
			req := x.setupBodyChunk(s, s.queue.data, false)
			x.sendBodyChunk(s, cbBufferedPartialBody, req)
		}
		s.paused = true
		return false
	}
	if !s.sendTrailers {
		return true
	}
	switch x.openStream() {
	case openError:
		return false
	case openIgnore:
		return true
	}
	x.sendTrailers(s, t, false)
	s.paused = true
	return false
}

// sendBufferedDataInStreamedMode is ProcessorState's helper of that name.
func (x *exchange) sendBufferedDataInStreamedMode(s *procState, end bool) {
	if !s.hasBuf || len(s.buf) == 0 {
		return
	}
	chunk := s.buf
	s.buf, s.hasBuf = nil, false
	req := x.setupBodyChunk(s, chunk, end)
	s.queue.push(chunk, end)
	x.sendBodyChunk(s, cbStreamedBody, req)
}

// --- message building and sending --------------------------------------------

func (x *exchange) buildHeaderRequest(s *procState, end, obs bool) *extprocv3.ProcessingRequest {
	req := &extprocv3.ProcessingRequest{ObservabilityMode: obs}
	x.addAttributes(s, req)
	x.addDynamicMetadata(req)
	hh := &extprocv3.HttpHeaders{Headers: s.hmap.toProto(x.canForward), EndOfStream: end}
	if s.dir == dirRequest {
		req.Request = &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: hh}
	} else {
		req.Request = &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: hh}
	}
	x.encodeProtocolConfig(req)
	return req
}

func (x *exchange) setupBodyChunk(s *procState, data []byte, end bool) *extprocv3.ProcessingRequest {
	req := &extprocv3.ProcessingRequest{}
	x.addAttributes(s, req)
	x.addDynamicMetadata(req)
	hb := &extprocv3.HttpBody{Body: append([]byte{}, data...), EndOfStream: end}
	if s.dir == dirRequest {
		req.Request = &extprocv3.ProcessingRequest_RequestBody{RequestBody: hb}
	} else {
		req.Request = &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: hb}
	}
	x.encodeProtocolConfig(req)
	return req
}

func (x *exchange) sendBodyChunk(s *procState, next cbState, req *extprocv3.ProcessingRequest) {
	s.onStartProcessorCall(next)
	x.sendRequest(s, req, s.kind("body"), true)
}

func (x *exchange) sendTrailers(s *procState, t *headerMap, obs bool) {
	if s.trailersSentToServer {
		return
	}
	s.trailersSentToServer = true
	req := &extprocv3.ProcessingRequest{ObservabilityMode: obs}
	x.addAttributes(s, req)
	x.addDynamicMetadata(req)
	ht := &extprocv3.HttpTrailers{Trailers: t.toProto(x.canForward)}
	if s.dir == dirRequest {
		req.Request = &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: ht}
	} else {
		req.Request = &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: ht}
	}
	if !obs {
		next := s.cb
		if next == cbIdle {
			next = cbTrailers
		}
		s.onStartProcessorCall(next)
	}
	x.encodeProtocolConfig(req)
	x.sendRequest(s, req, s.kind("trailers"), !obs)
}

func (x *exchange) sendHeadersInObservabilityMode(s *procState, end bool) bool {
	switch x.openStream() {
	case openError:
		return false
	case openIgnore:
		return true
	}
	req := x.buildHeaderRequest(s, end, true)
	x.sendRequest(s, req, s.kind("headers"), false)
	return true
}

func (x *exchange) sendDataInObservabilityMode(s *procState, data []byte, end bool) dataStatus {
	switch s.bodyMode {
	case bodyStreamed:
		switch x.openStream() {
		case openError:
			return dataStopNoBuffer
		case openIgnore:
			return dataContinue
		}
		req := x.setupBodyChunk(s, data, end)
		req.ObservabilityMode = true
		x.sendRequest(s, req, s.kind("body"), false)
	case bodyNone:
	default:
		x.log.Error("ext_proc client: wrong body mode for observability mode, no data is sent", "direction", s.dir, "mode", s.bodyMode)
	}
	return dataContinue
}

func (x *exchange) sendRequest(s *procState, req *extprocv3.ProcessingRequest, kind string, awaitReply bool) {
	if x.snd == nil {
		return
	}
	x.snd.send(req)
	x.c.stats.streamMsgsSent.Add(1)
	if awaitReply && x.c.opts.onMessage != nil {
		s.sent = append(s.sent, sentMsg{kind: kind, at: time.Now()})
	}
}

// recordLatency reports the latency of an accepted reply to OnMessage.
func (x *exchange) recordLatency(s *procState, kind string) {
	cb := x.c.opts.onMessage
	if cb == nil {
		return
	}
	for i, m := range s.sent {
		if m.kind == kind {
			s.sent = append(s.sent[:i], s.sent[i+1:]...)
			cb(kind, time.Since(m.at))
			return
		}
	}
}

func (x *exchange) encodeProtocolConfig(req *extprocv3.ProcessingRequest) {
	if x.protocolConfigEncoded || x.observability || !x.v.protocolConfig() {
		return
	}
	req.ProtocolConfig = &extprocv3.ProtocolConfiguration{
		RequestBodyMode:                         x.dec.bodyMode,
		ResponseBodyMode:                        x.enc.bodyMode,
		SendBodyWithoutWaitingForHeaderResponse: x.f.GetSendBodyWithoutWaitingForHeaderResponse(),
	}
	x.protocolConfigEncoded = true
}

// addDynamicMetadata fills metadata_context (always present, the fields of a ProcessingRequest).
func (x *exchange) addDynamicMetadata(req *extprocv3.ProcessingRequest) {
	md := &corev3.Metadata{}
	for _, ns := range x.eff.UntypedForwardingNamespaces {
		if v, ok := x.dynMeta[ns]; ok {
			if md.FilterMetadata == nil {
				md.FilterMetadata = map[string]*structpb.Struct{}
			}
			md.FilterMetadata[ns] = proto.Clone(v).(*structpb.Struct)
		}
	}
	req.MetadataContext = md
}

// setDynamicMetadata keeps the namespaces listed in
// receiving_namespaces.untyped (dynamic metadata reaches Envoy only for configured receiving namespaces); StreamInfo::setDynamicMetadata
// merges the struct into the namespace (MergeFrom).
func (x *exchange) setDynamicMetadata(r *extprocv3.ProcessingResponse) {
	dm := r.GetDynamicMetadata()
	if dm == nil {
		return
	}
	recv := x.eff.UntypedReceivingNamespaces
	if len(recv) == 0 {
		x.log.Debug("ext_proc client: dynamic metadata dropped: no receiving namespaces configured")
		return
	}
	for ns, v := range dm.GetFields() {
		allowed := false
		for _, r := range recv {
			if r == ns {
				allowed = true
				break
			}
		}
		if !allowed {
			x.log.Debug("ext_proc client: dynamic metadata namespace not configured for receiving", "namespace", ns)
			continue
		}
		dst := x.dynMeta[ns]
		if dst == nil {
			dst = &structpb.Struct{Fields: map[string]*structpb.Value{}}
			x.dynMeta[ns] = dst
		}
		if dst.Fields == nil {
			dst.Fields = map[string]*structpb.Value{}
		}
		for k, fv := range v.GetStructValue().GetFields() {
			dst.Fields[k] = proto.Clone(fv).(*structpb.Value)
		}
	}
}

func (x *exchange) canForward(key string) bool {
	fr := x.f.GetForwardRules()
	if fr == nil {
		return true
	}
	match := func(list []*matcherv3.StringMatcher) bool {
		for _, m := range list {
			if stringMatcherMatches(m, key) {
				return true
			}
		}
		return false
	}
	allowed := fr.GetAllowedHeaders().GetPatterns()
	if disallowed := fr.GetDisallowedHeaders().GetPatterns(); len(disallowed) > 0 && match(disallowed) {
		return false
	}
	return len(allowed) == 0 || match(allowed)
}

// --- gRPC stream ---------------------------------------------------------------

func (x *exchange) openStream() openResult {
	if x.processingComplete {
		return openIgnore
	}
	if x.streamEver {
		if x.streamOpen {
			return openOK
		}
		return openIgnore
	}
	x.streamEver = true
	md := metadata.MD{}
	for _, h := range x.eff.InitialMetadata {
		v := h.GetValue()
		if v == "" {
			v = string(h.GetRawValue())
		}
		md.Append(lowerASCII(h.GetKey()), v)
	}
	base := metadata.NewOutgoingContext(context.WithoutCancel(x.ctx), md)
	sctx, cancel := context.WithCancel(base)
	st, err := x.c.api.Process(sctx)
	if err != nil {
		cancel()
		x.remoteClosed = true
		s := status.Convert(err)
		x.log.Warn("ext_proc client: could not start the gRPC stream", "code", s.Code(), "message", s.Message())
		x.onGrpcError(s.Code(), s.Message())
		if x.sentImmediateResponse {
			return openError
		}
		return openIgnore
	}
	x.c.stats.streamsStarted.Add(1)
	x.stream, x.streamCancel, x.streamOpen = st, cancel, true
	x.recvDone = make(chan struct{})
	x.snd = newSender(st, cancel, x.recvDone)
	go x.snd.run()
	go func(st extprocv3.ExternalProcessor_ProcessClient, done chan struct{}) {
		defer close(done)
		for {
			m, err := st.Recv()
			if err != nil {
				x.post(evRecvEnd{err: err})
				return
			}
			x.post(evRecv{msg: m})
		}
	}(st, x.recvDone)
	return openOK
}

// closeStream is Filter::closeStream: half-close then cancel (Envoy ends a stream by half-closing and then cancelling it).
func (x *exchange) closeStream() {
	if !x.streamOpen {
		return
	}
	x.streamOpen = false
	if !x.remoteClosed {
		x.c.stats.streamsClosed.Add(1)
	}
	x.snd.close(x.c.opts.graceful, x.c.opts.remoteCloseWait)
}

func (x *exchange) closeStreamMaybeGraceful() {
	x.processingComplete = true
	x.closeStream()
}

func (x *exchange) onRecvEnd(err error) {
	if !x.streamOpen {
		return // we closed (and cancelled) it ourselves
	}
	x.remoteClosed = true
	if errors.Is(err, io.EOF) {
		x.log.Debug("ext_proc client: server closed the stream with OK")
		x.onGrpcClose()
		return
	}
	s := status.Convert(err)
	x.log.Warn("ext_proc client: gRPC stream failed", "code", s.Code(), "message", s.Message())
	x.onGrpcError(s.Code(), s.Message())
}

func (x *exchange) onGrpcClose() {
	if x.processingComplete {
		x.streamOpen = false
		return
	}
	x.processingComplete = true
	x.c.stats.streamsClosed.Add(1)
	x.closeStream()
	x.clearAsyncState()
}

func (x *exchange) onGrpcError(code codes.Code, msg string) {
	x.c.stats.streamsFailed.Add(1)
	if x.processingComplete {
		x.streamOpen = false
		return
	}
	if x.failureModeAllowNow() {
		x.onGrpcClose()
		x.c.stats.failureModeAllowed.Add(1)
		return
	}
	x.processingComplete = true
	x.onFinishProcessorCalls()
	x.closeStream()
	details := fmt.Sprintf("ext_proc_error_gRPC_error_%d", int(code))
	if x.v.grpcErrorMessage() {
		details += "{" + msg + "}"
	}
	x.sendImmediateResponse(&extprocv3.ImmediateResponse{Status: &typev3.HttpStatus{Code: typev3.StatusCode(x.statusOnError())}, Details: details})
}

func (x *exchange) statusOnError() int {
	if !x.v.statusOnError() {
		return 500
	}
	if c := int(x.f.GetStatusOnError().GetCode()); c >= 400 {
		return c
	}
	return 500
}

// failureModeAllowNow is Filter::failureModeAllow: forced false once
// FULL_DUPLEX_STREAMED body data flowed (1.36+).
func (x *exchange) failureModeAllowNow() bool {
	if x.v.fdsNoFailOpenAfterBody() &&
		((x.dec.bodyMode == bodyFDS && x.dec.bodyReceived) || (x.enc.bodyMode == bodyFDS && x.enc.bodyReceived)) {
		return false
	}
	return x.failureModeAllow
}

func (x *exchange) onFinishProcessorCalls() {
	x.dec.onFinishProcessorCall(cbIdle)
	x.enc.onFinishProcessorCall(cbIdle)
}

func (x *exchange) clearAsyncState() {
	x.dec.clearAsyncState()
	x.enc.clearAsyncState()
}

func (x *exchange) onMessageTimeout(s *procState) {
	x.c.stats.messageTimeouts.Add(1)
	x.log.Warn("ext_proc client: message timeout", "direction", s.dir, "state", s.cb, "timeout", x.messageTimeout)
	if x.failureModeAllowNow() {
		x.processingComplete = true
		x.closeStream()
		x.c.stats.failureModeAllowed.Add(1)
		x.clearAsyncState()
		return
	}
	x.processingComplete = true
	x.closeStream()
	x.onFinishProcessorCalls()
	x.sendImmediateResponse(&extprocv3.ImmediateResponse{
		Status:  &typev3.HttpStatus{Code: typev3.StatusCode_GatewayTimeout},
		Details: "ext_proc_error_per-message_timeout_exceeded",
	})
}

func (x *exchange) onNewTimeout(d time.Duration) {
	if d < time.Millisecond || d > x.maxMessageTimeout {
		x.log.Warn("ext_proc client: override_message_timeout out of range; ignored", "timeout", d, "max", x.maxMessageTimeout)
		x.c.stats.overrideIgnored.Add(1)
		return
	}
	d = d.Truncate(time.Millisecond)
	a := x.dec.restartMessageTimer(d)
	b := x.enc.restartMessageTimer(d)
	if !a && !b {
		x.log.Warn("ext_proc client: override_message_timeout with no running timer (or a second one); ignored")
		x.c.stats.overrideIgnored.Add(1)
		return
	}
	x.c.stats.overrideReceived.Add(1)
}

func (x *exchange) inHeaderProcessState() bool {
	return x.dec.cb == cbHeaders || x.enc.cb == cbHeaders
}

// effectiveModeOverride: DEFAULT header/trailer modes keep the configured
// value; body modes are always taken from the override (mode_override is honoured only with allow_mode_override and only in a headers reply).
func effectiveModeOverride(target, configured *extprocfilterv3.ProcessingMode) *extprocfilterv3.ProcessingMode {
	m := &extprocfilterv3.ProcessingMode{
		RequestHeaderMode:   configured.GetRequestHeaderMode(),
		ResponseHeaderMode:  configured.GetResponseHeaderMode(),
		RequestTrailerMode:  configured.GetRequestTrailerMode(),
		ResponseTrailerMode: configured.GetResponseTrailerMode(),
	}
	if v := target.GetRequestHeaderMode(); v != extprocfilterv3.ProcessingMode_DEFAULT {
		m.RequestHeaderMode = v
	}
	if v := target.GetResponseHeaderMode(); v != extprocfilterv3.ProcessingMode_DEFAULT {
		m.ResponseHeaderMode = v
	}
	if v := target.GetRequestTrailerMode(); v != extprocfilterv3.ProcessingMode_DEFAULT {
		m.RequestTrailerMode = v
	}
	if v := target.GetResponseTrailerMode(); v != extprocfilterv3.ProcessingMode_DEFAULT {
		m.ResponseTrailerMode = v
	}
	m.RequestBodyMode = target.GetRequestBodyMode()
	m.ResponseBodyMode = target.GetResponseBodyMode()
	return m
}

func (x *exchange) applyModeOverride(r *extprocv3.ProcessingResponse) {
	mo := r.GetModeOverride()
	if mo == nil {
		return
	}
	f := x.f
	pm := f.GetProcessingMode()
	switch {
	case !f.GetAllowModeOverride():
		x.log.Debug("ext_proc client: mode_override ignored: allow_mode_override is false")
		return
	case f.GetSendBodyWithoutWaitingForHeaderResponse():
		x.log.Debug("ext_proc client: mode_override ignored: send_body_without_waiting_for_header_response is set")
		return
	case x.v.modeOverrideFDSCheck() && (pm.GetRequestBodyMode() == bodyFDS || pm.GetResponseBodyMode() == bodyFDS):
		x.log.Debug("ext_proc client: mode_override ignored: filter is configured with FULL_DUPLEX_STREAMED")
		return
	case !x.inHeaderProcessState():
		x.log.Debug("ext_proc client: mode_override ignored: no headers reply is pending")
		return
	}
	m := effectiveModeOverride(mo, pm)
	if allowed := f.GetAllowedOverrideModes(); len(allowed) > 0 {
		ok := false
		for _, o := range allowed {
			if m.GetRequestBodyMode() == o.GetRequestBodyMode() &&
				m.GetRequestTrailerMode() == o.GetRequestTrailerMode() &&
				m.GetResponseHeaderMode() == o.GetResponseHeaderMode() &&
				m.GetResponseBodyMode() == o.GetResponseBodyMode() &&
				m.GetResponseTrailerMode() == o.GetResponseTrailerMode() {
				ok = true
				break
			}
		}
		if !ok {
			x.log.Warn("ext_proc client: mode_override not in allowed_override_modes; ignored")
			return
		}
	}
	x.dec.setProcessingMode(m)
	x.enc.setProcessingMode(m)
}

// onReceiveMessage is Filter::onReceiveMessage (the order in which Envoy handles each reply).
func (x *exchange) onReceiveMessage(r *extprocv3.ProcessingResponse) {
	if x.observability {
		return
	}
	if x.processingComplete {
		x.log.Debug("ext_proc client: ignoring message received after processing complete")
		return
	}
	if d := r.GetOverrideMessageTimeout(); d != nil {
		if err := d.CheckValid(); err != nil {
			x.c.stats.overrideIgnored.Add(1)
			return
		}
		x.onNewTimeout(d.AsDuration())
		return
	}
	x.applyModeOverride(r)

	var (
		perr   *procErr
		isLast bool
		s      *procState
		kind   string
	)
	switch resp := r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		s, kind = x.dec, "request_headers"
		x.setDynamicMetadata(r)
		perr = x.dec.handleHeadersResponse(resp.RequestHeaders)
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		s, kind = x.enc, "response_headers"
		x.setDynamicMetadata(r)
		perr = x.enc.handleHeadersResponse(resp.ResponseHeaders)
	case *extprocv3.ProcessingResponse_RequestBody:
		s, kind = x.dec, "request_body"
		isLast = x.dec.isLastBodyResponse(resp.RequestBody)
		x.setDynamicMetadata(r)
		perr = x.dec.handleBodyResponse(resp.RequestBody)
	case *extprocv3.ProcessingResponse_ResponseBody:
		s, kind = x.enc, "response_body"
		isLast = x.enc.isLastBodyResponse(resp.ResponseBody)
		x.setDynamicMetadata(r)
		perr = x.enc.handleBodyResponse(resp.ResponseBody)
	case *extprocv3.ProcessingResponse_RequestTrailers:
		s, kind = x.dec, "request_trailers"
		x.setDynamicMetadata(r)
		perr = x.dec.handleTrailersResponse(resp.RequestTrailers)
	case *extprocv3.ProcessingResponse_ResponseTrailers:
		s, kind = x.enc, "response_trailers"
		x.setDynamicMetadata(r)
		perr = x.enc.handleTrailersResponse(resp.ResponseTrailers)
	case *extprocv3.ProcessingResponse_ImmediateResponse:
		if x.f.GetDisableImmediateResponse() {
			perr = spurious("unhandled immediate response due to config disabled it")
			break
		}
		x.setDynamicMetadata(r)
		x.processingComplete = true
		x.onFinishProcessorCalls()
		x.closeStreamMaybeGraceful()
		x.sendImmediateResponse(resp.ImmediateResponse)
	default:
		perr = spurious("unhandled message")
	}

	switch {
	case perr == nil:
		x.c.stats.streamMsgsReceived.Add(1)
		if s != nil {
			x.recordLatency(s, kind)
		}
	case perr.spurious:
		x.c.stats.spuriousMsgsReceived.Add(1)
		x.log.Warn("ext_proc client: spurious response message", "message", describeResponse(r), "reason", perr.msg,
			"request_state", x.dec.cb, "response_state", x.enc.cb)
		if fma := x.failureModeAllowNow(); fma || !x.v.spuriousFailClose() {
			if fma {
				x.c.stats.failureModeAllowed.Add(1)
			}
			x.processingComplete = true
			x.closeStream()
			x.clearAsyncState()
		} else {
			x.handleErrorResponse(perr.msg)
		}
	default:
		x.c.stats.streamMsgsReceived.Add(1)
		x.log.Warn("ext_proc client: processing the reply failed", "message", describeResponse(r), "error", perr.msg)
		x.handleErrorResponse(perr.msg)
	}
	x.closeGrpcStreamIfLastRespReceived(r, isLast)
}

func describeResponse(r *extprocv3.ProcessingResponse) string {
	if r.GetResponse() == nil {
		return "empty"
	}
	return fmt.Sprintf("%T", r.GetResponse())
}

func (x *exchange) handleErrorResponse(msg string) {
	x.processingComplete = true
	x.onFinishProcessorCalls()
	x.closeStream()
	x.sendImmediateResponse(&extprocv3.ImmediateResponse{Status: &typev3.HttpStatus{Code: typev3.StatusCode(x.statusOnError())}, Details: msg})
}

// closeGrpcStreamIfLastRespReceived is the 1.37 early close (Envoy ends a stream by half-closing and then cancelling it table).
func (x *exchange) closeGrpcStreamIfLastRespReceived(r *extprocv3.ProcessingResponse, isLastBody bool) {
	if !x.streamOpen || !x.v.earlyClose() {
		return
	}
	d, e := x.dec, x.enc
	last := false
	switch r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		last = (d.noBody || (d.bodyMode == bodyNone && !d.sendTrailers)) && e.noExternalProcess()
	case *extprocv3.ProcessingResponse_RequestBody:
		last = isLastBody && e.noExternalProcess()
	case *extprocv3.ProcessingResponse_RequestTrailers:
		last = e.noExternalProcess()
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		last = e.noBody || (e.bodyMode == bodyNone && !e.sendTrailers)
	case *extprocv3.ProcessingResponse_ResponseBody:
		last = isLastBody
	case *extprocv3.ProcessingResponse_ResponseTrailers:
		last = true
	}
	if last {
		x.log.Debug("ext_proc client: closing the stream after the last expected response")
		x.closeStreamMaybeGraceful()
	}
}

// --- local replies and the end of the exchange ---------------------------------

// localReply is a response Envoy generates itself.
type localReply struct {
	status     int
	body       []byte
	details    string
	mutate     func(*headerMap)
	grpcStatus *uint32
	// flags are the response flags the sender sets before the reply
	// (setResponseFlag; response.flags bits, client_attrs.go).
	flags uint64
	// viaChain: the reply runs through the encoder filters, ext_proc
	// included (router/HCM replies); false for ext_proc's own replies.
	viaChain bool
}

// sendImmediateResponse is Filter::sendImmediateResponse (an ImmediateResponse status below 200 is sent as 200).
func (x *exchange) sendImmediateResponse(ir *extprocv3.ImmediateResponse) {
	code := 200
	if ir.GetStatus() != nil {
		code = int(ir.GetStatus().GetCode())
	}
	if code < 200 {
		x.log.Debug("ext_proc client: ignoring invalid immediate response status", "status", code)
		code = 200
	}
	x.sentImmediateResponse = true
	lr := localReply{status: code, body: ir.GetBody(), details: replaceAllEmptySpace(ir.GetDetails())}
	if hm := ir.GetHeaders(); hm != nil {
		lr.mutate = func(h *headerMap) {
			if err := applyHeaderMutations(hm, h, false, x.c.checker, x.c.limits, x.enc.rejected, false); err != nil {
				x.log.Error("ext_proc client: immediate response mutations failed", "error", err)
			}
		}
	}
	if gs := ir.GetGrpcStatus(); gs != nil {
		v := gs.GetStatus()
		lr.grpcStatus = &v
	}
	x.sendLocalReply(lr)
}

// localReplyHeaders is Utility::sendLocalReply's header logic.
func (x *exchange) localReplyHeaders(lr localReply) (*headerMap, []byte) {
	h := &headerMap{}
	h.add(":status", strconv.Itoa(lr.status))
	if lr.mutate != nil {
		lr.mutate(h)
	}
	body := lr.body
	if x.isGRPC {
		h.set(":status", "200")
		h.set("content-type", "application/grpc")
		if !h.has("grpc-status") {
			gs := uint32(httpToGrpcStatus(lr.status))
			if lr.grpcStatus != nil {
				gs = *lr.grpcStatus
			}
			h.set("grpc-status", strconv.FormatUint(uint64(gs), 10))
		}
		if len(body) > 0 {
			h.set("grpc-message", percentEncode(string(body)))
		}
		h.remove("content-length")
		return h, nil
	}
	if len(body) > 0 {
		h.set("content-length", strconv.Itoa(len(body)))
		if !h.has("content-type") {
			h.set("content-type", "text/plain")
		}
	} else {
		h.remove("content-length")
		h.remove("content-type")
	}
	return h, body
}

// sendLocalReply replaces the response with a local reply, or resets the
// stream when response headers already went downstream.
func (x *exchange) sendLocalReply(lr localReply) {
	if x.finished {
		return
	}
	x.dec.aborted, x.dec.pending = true, nil
	x.cancelUpstream()
	x.stopRouteTimer()
	x.respFlags |= lr.flags
	if x.enc.headersPassed {
		x.log.Warn("ext_proc client: local reply after response headers were sent; resetting the stream", "details", lr.details)
		x.finish(true, lr.details)
		return
	}
	h, body := x.localReplyHeaders(lr)
	if lr.viaChain && !x.enc.started {
		x.respLocal, x.respDetails = true, lr.details
		var chunks [][]byte
		if len(body) > 0 {
			chunks = [][]byte{body}
		}
		x.startEncoding(h, chunks, nil, ArrivalImmediate)
		return
	}
	x.enc.aborted = false
	x.enc.outHeaders, x.enc.outBody, x.enc.outTrailers = h, nil, nil
	if len(body) > 0 {
		x.enc.outBody = [][]byte{append([]byte{}, body...)}
	}
	x.respLocal, x.respDetails = true, lr.details
	x.finish(false, lr.details)
}

func (x *exchange) startEncoding(h *headerMap, chunks [][]byte, trailers []Header, arrival Arrival) {
	s := x.enc
	s.started = true
	s.hmap = h
	s.arrival = arrival
	s.pending = messagePieces(nil, chunks, trailers)
	x.encodeHeaders(len(s.pending) == 0)
}

// selectRoute is the router's route and cluster choice when the request
// headers reach it: the route cached when the request arrived, or, after
// the ext_proc server cleared the route cache, the route matching the
// headers as they are now (Envoy re-evaluates a cleared route on the next
// route() call; Envoy's ext_proc: clear_route_cache and the route cache). It sends the router's local reply and
// returns true when the request cannot be forwarded.
func (x *exchange) selectRoute() bool {
	cfg := x.c.cfg
	route, noRoute := x.eff.Route, x.eff.NoRoute
	headers := x.dec.outHeaders.regular()
	if x.routeCleared && len(cfg.Routes) > 0 {
		authority, _ := x.dec.outHeaders.first(":authority")
		path, _ := x.dec.outHeaders.first(":path")
		route = cfg.matchRoute(authority, path, headers)
		noRoute = route == nil
	}
	if noRoute {
		x.log.Debug("ext_proc client: no route matched; router answers 404")
		x.sendLocalReply(localReply{status: 404, details: "route_not_found", flags: flagNoRouteFound, viaChain: true})
		return true
	}
	x.target = cfg.target(route, headers)
	if x.target.details != "" {
		x.log.Debug("ext_proc client: router cannot forward", "details", x.target.details)
		x.sendLocalReply(localReply{status: x.target.status, details: x.target.details, flags: x.target.flags, viaChain: true})
		return true
	}
	return false
}

func (x *exchange) startUpstream() {
	x.upstreamStarted = true
	d := x.dec
	// The router consumes x-envoy-upstream-rq-timeout-ms: it replaces the
	// route's timeout and is not sent upstream (router.cc
	// FilterUtility::finalTimeout, removeEnvoyUpstreamRequestTimeoutMs).
	if v, ok := d.outHeaders.first("x-envoy-upstream-rq-timeout-ms"); ok {
		if ms, err := strconv.ParseUint(v, 10, 63); err == nil {
			x.rqTimeout, x.rqTimeoutSet = time.Duration(ms)*time.Millisecond, true
		}
		d.outHeaders.remove("x-envoy-upstream-rq-timeout-ms")
	}
	fwd := &HTTPRequest{Headers: d.outHeaders.regular(), Trailers: d.outTrailers.regular(),
		Route: x.target.route, Cluster: x.target.cluster}
	if r := x.target.route; r != nil && len(r.RequestHeadersToRemove) > 0 {
		kept := fwd.Headers[:0]
		for _, h := range fwd.Headers {
			if !slices.Contains(r.RequestHeadersToRemove, h.Name) {
				kept = append(kept, h)
			}
		}
		fwd.Headers = kept
	}
	fwd.Method, _ = d.outHeaders.first(":method")
	fwd.Scheme, _ = d.outHeaders.first(":scheme")
	fwd.Authority, _ = d.outHeaders.first(":authority")
	fwd.Path, _ = d.outHeaders.first(":path")
	for _, b := range d.outBody {
		fwd.BodyChunks = append(fwd.BodyChunks, append([]byte{}, b...))
		fwd.Body = append(fwd.Body, b...)
	}
	for k, v := range x.dynMeta {
		if fwd.DynamicMetadata == nil {
			fwd.DynamicMetadata = map[string]*structpb.Struct{}
		}
		fwd.DynamicMetadata[k] = proto.Clone(v).(*structpb.Struct)
	}
	if d := x.routeTimeout(); d > 0 {
		x.routeTimer = time.AfterFunc(d, func() { x.post(evRouteTimeout{}) })
	}
	uctx, cancel := context.WithCancel(x.ctx)
	x.upstreamCancel = cancel
	x.upstreamDone = make(chan struct{})
	go func() {
		defer close(x.upstreamDone)
		resp, err := x.upstream.RoundTrip(uctx, fwd)
		x.post(evUpstream{resp: resp, err: err})
	}()
}

func (x *exchange) cancelUpstream() {
	if x.upstreamCancel != nil {
		x.upstreamCancel()
	}
}

// routeTimeout is the router's global timeout for the request: the
// route's (RouteAction.timeout), Envoy's default for a config without
// routes. Envoy arms it when the request is complete (router.cc
// onRequestComplete), which is when the client calls the upstream.
func (x *exchange) routeTimeout() time.Duration {
	if x.rqTimeoutSet {
		return x.rqTimeout // 0 disables the timeout, as the route's 0s does
	}
	if r := x.target.route; r != nil {
		return r.Timeout
	}
	return DefaultRouteTimeout
}

func (x *exchange) stopRouteTimer() {
	if x.routeTimer != nil {
		x.routeTimer.Stop()
	}
}

// onResponseTimeout is router.cc Filter::onResponseTimeout: the upstream
// request is reset and, the response not having started, the router
// answers 504 with the body "upstream request timeout" and details
// StreamInfo::ResponseCodeDetails ResponseTimeout ("response_timeout";
// older Envoy releases said "upstream_response_timeout"), flag UT
// (onUpstreamTimeoutAbort → onUpstreamAbort, which sets the flag and sends
// the local reply through the encoder filters).
func (x *exchange) onResponseTimeout() {
	if x.finished || x.dec.aborted || x.enc.started {
		return
	}
	x.log.Warn("ext_proc client: route timeout; router answers 504", "timeout", x.routeTimeout())
	x.sendLocalReply(localReply{
		status:   504,
		body:     []byte("upstream request timeout"),
		details:  "response_timeout",
		flags:    flagUpstreamRequestTimeout,
		viaChain: true,
	})
}

// onUpstream handles the upstream's answer. A failed upstream is
// router.cc onUpstreamReset before the response started: 503 with the
// body "upstream connect error or disconnect/reset before headers. reset
// reason: <reason>" and details "upstream_reset_before_response_started{
// <reason>}" (spaces as "_"), flag UF (streamResetReasonToResponseFlag),
// sent through the encoder filters. The client does not classify Go
// errors into Envoy's reset reasons: it reports every failure as the
// classic "connection failure" (current Envoy says "remote connection
// failure" plus a transport failure reason for a refused connect).
// A response is router.cc onUpstreamHeaders: details "via_upstream" and
// the stream's response code set before the encoder filters run.
func (x *exchange) onUpstream(resp *UpstreamResponse, err error) {
	if x.finished || x.dec.aborted || x.enc.started {
		return
	}
	x.stopRouteTimer()
	if err == nil && resp == nil {
		err = errors.New("upstream returned no response")
	}
	if err != nil {
		x.log.Warn("ext_proc client: upstream failed; router answers 503", "error", err)
		x.sendLocalReply(localReply{
			status:   503,
			body:     []byte("upstream connect error or disconnect/reset before headers. reset reason: connection failure"),
			details:  "upstream_reset_before_response_started{connection_failure}",
			flags:    flagUpstreamConnectionFailure,
			viaChain: true,
		})
		return
	}
	h := &headerMap{}
	h.add(":status", strconv.Itoa(resp.Status))
	for _, hd := range resp.Headers {
		name := lowerASCII(hd.Name)
		if strings.HasPrefix(name, ":") {
			continue
		}
		h.add(name, hd.Value)
	}
	x.respDetails, x.respCode = "via_upstream", resp.Status
	chunks := resp.BodyChunks
	if chunks == nil && len(resp.Body) > 0 {
		chunks = [][]byte{resp.Body}
	}
	x.startEncoding(h, chunks, resp.Trailers, resp.Arrival)
}

func (x *exchange) finishNormal() {
	x.finish(false, x.respDetails)
}

func (x *exchange) finish(reset bool, details string) {
	e := x.enc
	resp := &HTTPResponse{Local: x.respLocal && !reset, Details: details, Reset: reset}
	if e.outHeaders != nil {
		st, _ := e.outHeaders.first(":status")
		resp.Status, _ = strconv.Atoi(st)
		resp.Headers = e.outHeaders.regular()
	}
	for _, b := range e.outBody {
		resp.Body = append(resp.Body, b...)
	}
	if e.outTrailers != nil {
		resp.Trailers = e.outTrailers.regular()
	}
	if len(x.dynMeta) > 0 {
		resp.DynamicMetadata = map[string]*structpb.Struct{}
		for k, v := range x.dynMeta {
			resp.DynamicMetadata[k] = proto.Clone(v).(*structpb.Struct)
		}
	}
	x.result = resp
	x.finished = true
	x.dec.aborted, x.enc.aborted = true, true
	x.dec.pending, x.enc.pending = nil, nil
}

// teardown is Filter::onDestroy plus cleanup of the helper goroutines.
func (x *exchange) teardown() {
	x.processingComplete = true
	x.dec.stopTimer()
	x.enc.stopTimer()
	x.stopRouteTimer()
	close(x.quit)
	x.cancelUpstream()
	if x.upstreamDone != nil {
		<-x.upstreamDone
	}
	if x.snd == nil {
		return
	}
	if x.streamOpen && x.observability {
		x.deferredClose()
		return
	}
	x.closeStream()
	x.snd.close(x.c.opts.graceful, x.c.opts.remoteCloseWait) // no-op when already closing
	wait := x.c.opts.remoteCloseWait + time.Second
	t := time.NewTimer(wait)
	select {
	case <-x.snd.done:
	case <-t.C:
		x.streamCancel() // a server that does not read must not block us
		<-x.snd.done
	}
	t.Stop()
	x.streamCancel()
	<-x.recvDone
}

// deferredClose keeps an observability-mode stream open for
// deferred_close_timeout after the exchange (observability mode).
func (x *exchange) deferredClose() {
	c := x.c
	d := 5 * time.Second
	if v := x.f.GetDeferredCloseTimeout(); v != nil {
		d = v.AsDuration()
	}
	snd, cancel, recvDone := x.snd, x.streamCancel, x.recvDone
	x.streamOpen = false
	c.deferred.Add(1)
	go func() {
		defer c.deferred.Done()
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.closing:
		}
		t.Stop()
		select {
		case <-recvDone:
		default:
			c.stats.streamsClosed.Add(1)
		}
		snd.close(false, 0)
		select {
		case <-snd.done:
		case <-time.After(time.Second):
		}
		cancel()
		<-snd.done
		<-recvDone
	}()
}

// --- sender ----------------------------------------------------------------------

// sender writes messages to the stream from its own goroutine (Send may
// block on flow control; the loop must not) and performs the close:
// CloseSend, then (after the graceful wait, if any) cancel.
type sender struct {
	stream   extprocv3.ExternalProcessor_ProcessClient
	cancel   context.CancelFunc
	recvDone <-chan struct{}

	mu       sync.Mutex
	q        []*extprocv3.ProcessingRequest
	closing  bool
	graceful bool
	wait     time.Duration
	wake     chan struct{}
	done     chan struct{}
}

func newSender(st extprocv3.ExternalProcessor_ProcessClient, cancel context.CancelFunc, recvDone <-chan struct{}) *sender {
	return &sender{stream: st, cancel: cancel, recvDone: recvDone, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (s *sender) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *sender) send(m *extprocv3.ProcessingRequest) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.q = append(s.q, m)
	s.mu.Unlock()
	s.signal()
}

func (s *sender) close(graceful bool, wait time.Duration) {
	s.mu.Lock()
	if !s.closing {
		s.closing, s.graceful, s.wait = true, graceful, wait
	}
	s.mu.Unlock()
	s.signal()
}

func (s *sender) run() {
	defer close(s.done)
	broken := false
	for {
		s.mu.Lock()
		for len(s.q) == 0 && !s.closing {
			s.mu.Unlock()
			<-s.wake
			s.mu.Lock()
		}
		if len(s.q) > 0 {
			m := s.q[0]
			s.q[0] = nil
			s.q = s.q[1:]
			s.mu.Unlock()
			if !broken {
				if err := s.stream.Send(m); err != nil {
					broken = true // the receiver reports the stream's status
				}
			}
			continue
		}
		graceful, wait := s.graceful, s.wait
		s.mu.Unlock()
		_ = s.stream.CloseSend()
		if graceful {
			t := time.NewTimer(wait)
			select {
			case <-s.recvDone:
			case <-t.C:
			}
			t.Stop()
		}
		s.cancel()
		return
	}
}

// --- small helpers -----------------------------------------------------------------

// httpToGrpcStatus is Grpc::Utility::httpToGrpcStatus.
func httpToGrpcStatus(code int) codes.Code {
	switch code {
	case 400:
		return codes.Internal
	case 401:
		return codes.Unauthenticated
	case 403:
		return codes.PermissionDenied
	case 404:
		return codes.Unimplemented
	case 429, 502, 503, 504:
		return codes.Unavailable
	}
	return codes.Unknown
}

// percentEncode is Http::Utility::PercentEncoding::encode for grpc-message.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c >= '~' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
