package envoy

import (
	"time"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// direction is the HTTP direction a processor state serves.
type direction int

const (
	dirRequest  direction = iota // decoding
	dirResponse                  // encoding
)

func (d direction) String() string {
	if d == dirRequest {
		return "request"
	}
	return "response"
}

// cbState is ProcessorState::CallbackState (Envoy's ext_proc: which reply Envoy accepts in each state).
type cbState int

const (
	cbIdle cbState = iota
	cbHeaders
	cbBufferedBody
	cbStreamedBody
	cbBufferedPartialBody
	cbTrailers
)

func (s cbState) String() string {
	return [...]string{"Idle", "HeadersCallback", "BufferedBodyCallback", "StreamedBodyCallback",
		"BufferedPartialBodyCallback", "TrailersCallback"}[s]
}

// dataStatus is the FilterDataStatus a data callback returns.
type dataStatus int

const (
	dataContinue      dataStatus = iota // pass the data on
	dataStopBuffer                      // StopIterationAndBuffer (buffer limit → 413/500)
	dataStopWatermark                   // StopIterationAndWatermark (buffer, no limit)
	dataStopNoBuffer                    // the filter took the data
)

const (
	bodyNone     = extprocfilterv3.ProcessingMode_NONE
	bodyStreamed = extprocfilterv3.ProcessingMode_STREAMED
	bodyBuffered = extprocfilterv3.ProcessingMode_BUFFERED
	bodyPartial  = extprocfilterv3.ProcessingMode_BUFFERED_PARTIAL
	bodyFDS      = extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED
)

// queuedChunk is one entry of the chunk queue (Envoy QueuedChunk).
type queuedChunk struct {
	length int
	end    bool
}

// chunkQueue is Envoy's ChunkQueue: chunk boundaries plus their bytes.
type chunkQueue struct {
	chunks []queuedChunk
	data   []byte
}

func (q *chunkQueue) push(b []byte, end bool) {
	q.chunks = append(q.chunks, queuedChunk{length: len(b), end: end})
	q.data = append(q.data, b...)
}

func (q *chunkQueue) pop() ([]byte, queuedChunk, bool) {
	if len(q.chunks) == 0 {
		return nil, queuedChunk{}, false
	}
	c := q.chunks[0]
	q.chunks = q.chunks[1:]
	if c.length > len(q.data) {
		c.length = len(q.data)
	}
	out := append([]byte{}, q.data[:c.length]...)
	q.data = q.data[c.length:]
	return out, c, true
}

// consolidate merges all chunks into one (end of the last one).
func (q *chunkQueue) consolidate() queuedChunk {
	if len(q.chunks) > 1 {
		end := q.chunks[len(q.chunks)-1].end
		q.chunks = []queuedChunk{{length: len(q.data), end: end}}
	}
	if len(q.chunks) == 0 {
		return queuedChunk{}
	}
	return q.chunks[0]
}

func (q *chunkQueue) empty() bool { return len(q.chunks) == 0 }
func (q *chunkQueue) bytes() int  { return len(q.data) }
func (q *chunkQueue) clear()      { q.chunks, q.data = nil, nil }

// piece is a not yet delivered part of a message: a data chunk or trailers.
type piece struct {
	data     []byte
	end      bool
	trailers *headerMap
}

// sentMsg remembers when a message awaiting a reply was sent.
type sentMsg struct {
	kind string
	at   time.Time
}

// procState is one direction of the filter: Envoy's ProcessorState
// (decoding or encoding) plus the part of the HTTP filter manager that
// holds, buffers and forwards that direction's headers, data and trailers.
type procState struct {
	x   *exchange
	dir direction

	// ProcessorState.
	sendHeaders           bool
	sendTrailers          bool
	bodyMode              extprocfilterv3.ProcessingMode_BodySendMode
	cb                    cbState
	paused                bool
	noBody                bool
	completeBodyAvailable bool
	trailersAvailable     bool
	trailersSentToServer  bool
	bodyReceived          bool
	bodyReplaced          bool
	partialBodyProcessed  bool
	sentAttributes        bool
	newTimeoutReceived    bool
	headers               *headerMap // headers_: held and mutable, nil when not available
	trailers              *headerMap // trailers_
	queue                 chunkQueue
	timer                 *time.Timer
	timerGen              uint64
	timerOn               bool
	sent                  []sentMsg

	// Filter manager emulation of this direction.
	hmap            *headerMap // the live header map
	headersEnd      bool       // the headers ended the message
	headersPassed   bool       // headers forwarded past the filter
	buf             []byte     // the filter manager's buffered data (decodingBuffer)
	hasBuf          bool
	endArrived      bool // end of stream reached the filter (headers or data)
	trailerMap      *headerMap
	trailersStopped bool
	outHeaders      *headerMap // forwarded headers (snapshot at pass time)
	outBody         [][]byte   // forwarded data pieces
	outTrailers     *headerMap // forwarded trailers
	endPassed       bool       // end of stream forwarded
	aborted         bool       // direction abandoned (local reply); nothing more passes
	started         bool       // headers reached the filter (encodeHeaders ran for responses)
	pending         []piece
	arrival         Arrival
}

func (s *procState) kind(what string) string { return s.dir.String() + "_" + what }

// setProcessingMode is {Decoding,Encoding}ProcessorState::setProcessingMode.
func (s *procState) setProcessingMode(m *extprocfilterv3.ProcessingMode) {
	if s.dir == dirRequest {
		s.sendHeaders = m.GetRequestHeaderMode() != extprocfilterv3.ProcessingMode_SKIP
		s.sendTrailers = m.GetRequestTrailerMode() == extprocfilterv3.ProcessingMode_SEND
		s.bodyMode = m.GetRequestBodyMode()
	} else {
		s.sendHeaders = m.GetResponseHeaderMode() != extprocfilterv3.ProcessingMode_SKIP
		s.sendTrailers = m.GetResponseTrailerMode() == extprocfilterv3.ProcessingMode_SEND
		s.bodyMode = m.GetResponseBodyMode()
	}
}

// noExternalProcess: nothing of this direction goes to the server.
func (s *procState) noExternalProcess() bool {
	return !s.sendHeaders && !s.sendTrailers && s.bodyMode == bodyNone
}

// shouldRemoveContentLength is ProcessorState::shouldRemoveContentLength
// (Envoy's ext_proc: content-length after a body mutation).
func (s *procState) shouldRemoveContentLength() bool {
	switch s.bodyMode {
	case bodyStreamed, bodyPartial:
		return true
	case bodyFDS:
		return !(s.x.v.allowContentLength() && s.x.f.GetAllowContentLengthHeader())
	case bodyBuffered:
		return !s.sendHeaders
	}
	return false
}

// onStartProcessorCall sets the callback state and (re)arms the message
// timer, except for FULL_DUPLEX_STREAMED (Envoy's ext_proc: the per-message timeout (message_timeout, 200 ms by default), re-armed on every message).
func (s *procState) onStartProcessorCall(next cbState) {
	s.cb = next
	if s.bodyMode != bodyFDS {
		s.armTimer(s.x.messageTimeout)
	}
	s.newTimeoutReceived = false
}

// onFinishProcessorCall stops the timer and moves to next.
func (s *procState) onFinishProcessorCall(next cbState) {
	s.stopTimer()
	s.cb = next
	s.newTimeoutReceived = false
}

func (s *procState) armTimer(d time.Duration) {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timerGen++
	gen, dir, x := s.timerGen, s.dir, s.x
	s.timerOn = true
	s.timer = time.AfterFunc(d, func() { x.post(evTimer{dir: dir, gen: gen}) })
}

func (s *procState) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timerOn = false
	s.timerGen++
}

// restartMessageTimer is ProcessorState::restartMessageTimer.
func (s *procState) restartMessageTimer(d time.Duration) bool {
	if s.timerOn && !s.newTimeoutReceived {
		s.armTimer(d)
		s.newTimeoutReceived = true
		return true
	}
	return false
}

// --- filter manager side ---------------------------------------------------

func (s *procState) addBuf(b []byte) {
	s.buf = append(s.buf, b...)
	s.hasBuf = true
}

func (s *procState) passHeaders() {
	if s.headersPassed || s.aborted {
		return
	}
	s.headersPassed = true
	s.outHeaders = s.hmap.clone()
}

func (s *procState) appendOut(b []byte) {
	if len(b) > 0 {
		s.outBody = append(s.outBody, append([]byte{}, b...))
	}
}

// inject is injectDataToFilterChain: data goes straight to the next filter.
func (s *procState) inject(b []byte, end bool) {
	if s.aborted {
		return
	}
	s.appendOut(b)
	if end {
		s.endPassed = true
	}
}

// continueChain is continueDecoding/continueEncoding: headers (if held),
// the buffered data, the end of stream if it arrived, and held trailers.
func (s *procState) continueChain() {
	if s.aborted {
		return
	}
	s.passHeaders()
	if s.hasBuf {
		b := s.buf
		s.buf, s.hasBuf = nil, false
		s.appendOut(b)
	}
	if s.endArrived {
		s.endPassed = true
	}
	if s.trailersStopped {
		s.trailersStopped = false
		s.outTrailers = s.trailerMap.clone()
		s.endPassed = true
	}
}

// continueIfNecessary is ProcessorState::continueIfNecessary.
func (s *procState) continueIfNecessary() {
	if s.paused {
		s.paused = false
		s.continueChain()
	}
}

// complete reports whether the whole message was forwarded.
func (s *procState) complete() bool { return s.headersPassed && s.endPassed && !s.aborted }

// clearAsyncState is ProcessorState::clearAsyncState: forget the call,
// inject what the chunk queue holds and continue.
func (s *procState) clearAsyncState() {
	s.onFinishProcessorCall(cbIdle)
	if len(s.queue.data) > 0 {
		all := s.queue.consolidate()
		s.inject(s.queue.data, all.end)
	}
	s.queue.clear()
	s.continueIfNecessary()
}

// --- reply handling (ProcessorState::handle*Response) ----------------------

// procErr is a failed reply: spurious (FailedPrecondition) or another error
// (local reply with status_on_error). msg is Envoy's status message.
type procErr struct {
	spurious bool
	msg      string
}

func spurious(msg string) *procErr { return &procErr{spurious: true, msg: msg} }

func (s *procState) rejected() { s.x.c.stats.rejectedHeaderMutations.Add(1) }

func (s *procState) applyMutation(hm *extprocv3.HeaderMutation, target *headerMap, replacing bool, removeCL bool) *procErr {
	if err := applyHeaderMutations(hm, target, replacing, s.x.c.checker, s.x.c.limits, s.rejected, removeCL); err != nil {
		return &procErr{msg: err.Error()}
	}
	return nil
}

func (s *procState) processHeaderMutation(cr *extprocv3.CommonResponse) *procErr {
	return s.applyMutation(cr.GetHeaderMutation(), s.headers,
		cr.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE, s.shouldRemoveContentLength())
}

func (s *procState) processHeaderMutationIfAvailable(cr *extprocv3.CommonResponse) *procErr {
	if s.headers != nil {
		return s.processHeaderMutation(cr)
	}
	s.x.log.Debug("ext_proc: response had header mutations but headers aren't available", "direction", s.dir)
	return nil
}

// clearRouteCache is DecodingProcessorState::clearRouteCache (clear_route_cache and the route cache): the
// route is re-evaluated when the router runs if the reply carries a header
// mutation and route_cache_action is CLEAR, or DEFAULT with
// clear_route_cache set.
func (s *procState) clearRouteCache(cr *extprocv3.CommonResponse) {
	if s.dir != dirRequest {
		return
	}
	if cr.GetHeaderMutation() == nil {
		if cr.GetClearRouteCache() {
			s.x.c.stats.clearRouteCacheIgnored.Add(1)
		}
		return
	}
	action := s.x.f.GetRouteCacheAction()
	if s.x.f.GetDisableClearRouteCache() {
		action = extprocfilterv3.ExternalProcessor_RETAIN
	}
	switch {
	case action == extprocfilterv3.ExternalProcessor_RETAIN:
		if cr.GetClearRouteCache() {
			s.x.c.stats.clearRouteCacheDisabled.Add(1)
		}
	case action == extprocfilterv3.ExternalProcessor_CLEAR || cr.GetClearRouteCache():
		s.x.routeCleared = true
	}
}

func (s *procState) callbackStateAfterHeaderResp(cr *extprocv3.CommonResponse) cbState {
	if cr.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE {
		return cbIdle
	}
	if s.bodyMode == bodyStreamed && s.x.f.GetSendBodyWithoutWaitingForHeaderResponse() && !s.queue.empty() {
		return cbStreamedBody
	}
	if s.bodyMode == bodyFDS {
		if s.bodyReceived {
			return cbStreamedBody
		}
		if s.trailersAvailable {
			return cbTrailers
		}
	}
	return cbIdle
}

func (s *procState) handleHeadersResponse(r *extprocv3.HeadersResponse) *procErr {
	if s.cb != cbHeaders {
		return spurious("spurious message")
	}
	x := s.x
	cr := r.GetResponse()
	if cr.GetHeaderMutation() != nil {
		if err := s.processHeaderMutation(cr); err != nil {
			return err
		}
	}
	s.clearRouteCache(cr)
	s.onFinishProcessorCall(s.callbackStateAfterHeaderResp(cr))

	if cr.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE {
		if bm := cr.GetBodyMutation(); bm != nil {
			s.headers.remove("content-length")
			s.bodyReplaced = true
			if !s.hasBuf {
				s.buf, s.hasBuf = applyBodyMutation(bm, []byte{}), true
			} else {
				s.buf = applyBodyMutation(bm, s.buf)
			}
		}
		s.queue.clear()
		s.bodyMode = bodyNone
		s.sendTrailers = false
	} else {
		switch {
		case s.noBody:
			// There never was a body.
		case s.completeBodyAvailable && s.bodyMode != bodyNone:
			if s.cb == cbIdle {
				if s.aborted {
					// A local reply (413 for a body that overflowed while
					// this headers call was outstanding) already ended the
					// decoder chain: Envoy's filter manager aborts it in
					// sendLocalReply and ignores continueDecoding, so the
					// late headers reply neither re-checks the limit nor
					// sends the body.
					return nil
				}
				// Envoy holds body data that arrives during the headers
				// call with StopIterationAndWatermark: past the buffer
				// limit it stops reading the downstream, so a body over
				// the limit is never complete here; reading resumes and
				// the rest arrives in BUFFERED mode, which overflows (413
				// for a request, 500 for a response). The client delivers
				// bodies whole, so it applies that outcome now.
				if s.bodyMode == bodyBuffered && x.checkOverflow(s) {
					return nil
				}
				if s.hasBuf {
					// The whole body came in before the headers reply: send
					// it as one message, processed with BUFFERED semantics.
					req := x.setupBodyChunk(s, s.buf, !s.trailersAvailable)
					x.sendBodyChunk(s, cbBufferedBody, req)
					return nil
				}
			} else {
				x.sendBufferedDataInStreamedMode(s, !s.trailersAvailable)
				return nil
			}
		case s.bodyMode == bodyBuffered:
			return nil // keep the headers until the body is complete
		case s.bodyMode == bodyStreamed:
			x.sendBufferedDataInStreamedMode(s, false)
			s.continueIfNecessary()
			return nil
		case s.bodyMode == bodyFDS:
			s.continueIfNecessary()
			return nil
		case s.bodyMode == bodyPartial:
			if s.hasBuf && len(s.buf) > 0 {
				s.queue.push(s.buf, false)
				s.buf, s.hasBuf = nil, false
			}
			if s.queue.bytes() > x.c.opts.bufferLimit {
				s.queue.consolidate()
				req := x.setupBodyChunk(s, s.queue.data, false)
				x.sendBodyChunk(s, cbBufferedPartialBody, req)
			}
			return nil
		}
		if s.sendTrailers && s.trailersAvailable {
			x.sendTrailers(s, s.trailers, false)
			return nil
		}
	}
	s.headers = nil
	s.continueIfNecessary()
	return nil
}

// isLastBodyResponse is the 1.37 helper deciding whether a body reply is
// the last of its direction (STREAMED / FULL_DUPLEX_STREAMED only).
func (s *procState) isLastBodyResponse(br *extprocv3.BodyResponse) bool {
	switch s.bodyMode {
	case bodyStreamed:
		if !s.queue.empty() {
			return s.queue.chunks[0].end
		}
	case bodyFDS:
		if sr := br.GetResponse().GetBodyMutation().GetStreamedResponse(); sr != nil {
			return sr.GetEndOfStream()
		}
	}
	return false
}

func (s *procState) handleBodyResponse(r *extprocv3.BodyResponse) *procErr {
	cr := r.GetResponse()
	var (
		cont bool
		err  *procErr
	)
	switch s.cb {
	case cbBufferedBody:
		cont, err = s.handleBufferedBodyCallback(cr)
	case cbStreamedBody:
		cont, err = s.handleStreamedBodyCallback(cr)
	case cbBufferedPartialBody:
		cont, err = s.handleBufferedPartialBodyCallback(cr)
	default:
		return spurious("spurious message")
	}
	if err != nil {
		return err
	}
	s.clearRouteCache(cr)
	return s.finalizeBodyResponse(cont)
}

func (s *procState) handleBufferedBodyCallback(cr *extprocv3.CommonResponse) (bool, *procErr) {
	if cr.GetHeaderMutation() != nil {
		if err := s.processHeaderMutationIfAvailable(cr); err != nil {
			return false, err
		}
	}
	if bm := cr.GetBodyMutation(); bm != nil {
		if err := s.validateContentLength(bm); err != nil {
			return false, err
		}
		s.buf = applyBodyMutation(bm, s.buf)
		s.hasBuf = true
	}
	s.onFinishProcessorCall(cbIdle)
	return true, nil
}

// validateContentLength is ProcessorState::validateContentLength (content-length after a body mutation).
func (s *procState) validateContentLength(bm *extprocv3.BodyMutation) *procErr {
	if s.headers == nil {
		return nil
	}
	v, ok := s.headers.first("content-length")
	if !ok {
		return nil
	}
	n, perr := parseUint(v)
	if !perr {
		return nil
	}
	if n != uint64(len(bm.GetBody())) {
		return &procErr{msg: "mismatch between content length and the length of the mutated body"}
	}
	return nil
}

func parseUint(v string) (uint64, bool) {
	if v == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func (s *procState) handleStreamedBodyCallback(cr *extprocv3.CommonResponse) (bool, *procErr) {
	if sr := cr.GetBodyMutation().GetStreamedResponse(); sr != nil {
		if s.bodyMode != bodyFDS {
			return false, spurious("spurious message: streamed_response is received while body_mode_ is not FULL_DUPLEX_STREAMED")
		}
		if len(sr.GetBody()) > 0 {
			s.inject(sr.GetBody(), sr.GetEndOfStream())
		}
		if sr.GetEndOfStream() {
			s.onFinishProcessorCall(cbIdle)
		} else {
			s.onFinishProcessorCall(cbStreamedBody)
		}
		return sr.GetEndOfStream(), nil
	}
	if s.bodyMode == bodyFDS {
		return false, spurious("spurious message: Normal body mutation response is received while body_mode_ is FULL_DUPLEX_STREAMED")
	}
	data, chunk, ok := s.queue.pop()
	if !ok {
		return false, spurious("spurious message")
	}
	if bm := cr.GetBodyMutation(); bm != nil {
		data = applyBodyMutation(bm, data)
	}
	if len(data) > 0 {
		s.inject(data, chunk.end)
	}
	if s.queue.empty() {
		s.onFinishProcessorCall(cbIdle)
	} else {
		s.onFinishProcessorCall(s.cb)
	}
	return chunk.end, nil
}

func (s *procState) handleBufferedPartialBodyCallback(cr *extprocv3.CommonResponse) (bool, *procErr) {
	data, chunk, ok := s.queue.pop()
	if !ok {
		return false, &procErr{msg: "Invalid chunk in partial body callback"}
	}
	if cr.GetHeaderMutation() != nil {
		if err := s.processHeaderMutationIfAvailable(cr); err != nil {
			return false, err
		}
	}
	if bm := cr.GetBodyMutation(); bm != nil {
		data = applyBodyMutation(bm, data)
	}
	if len(data) > 0 {
		s.inject(data, chunk.end)
	}
	s.onFinishProcessorCall(cbIdle)
	if len(s.queue.data) > 0 {
		all := s.queue.consolidate()
		s.inject(s.queue.data, all.end)
	}
	s.queue.clear()
	s.partialBodyProcessed = true
	return true, nil
}

func (s *procState) finalizeBodyResponse(cont bool) *procErr {
	s.headers = nil
	if s.sendTrailers && s.trailersAvailable && s.queue.empty() {
		s.x.sendTrailers(s, s.trailers, false)
		return nil
	}
	if cont || (s.trailersAvailable && s.queue.empty()) {
		s.continueIfNecessary()
	}
	return nil
}

func (s *procState) handleTrailersResponse(r *extprocv3.TrailersResponse) *procErr {
	if s.cb != cbTrailers && s.bodyMode != bodyFDS {
		return spurious("spurious message")
	}
	if hm := r.GetHeaderMutation(); hm != nil {
		if s.trailers != nil {
			if err := s.applyMutation(hm, s.trailers, false, false); err != nil {
				return err
			}
		} else {
			s.x.log.Warn("ext_proc: trailers response with a mutation before any trailers arrived; mutation ignored",
				"direction", s.dir)
		}
	}
	s.trailers = nil
	s.onFinishProcessorCall(cbIdle)
	s.continueIfNecessary()
	return nil
}
