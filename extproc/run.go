package extproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/flowengine"
)

// Exchange outcomes, the outcome label of flowproc_exchanges_total and the
// outcome field of flat_access.
const (
	outcomeAnswered  = "answered"
	outcomeForwarded = "forwarded"
	outcomeNoProject = "no_project"
	outcomeError     = "error"
	outcomeCancelled = "cancelled"
	outcomePanic     = "panic"
)

// FLAT error code for "no project / path not found" (FLAT docs: error codes).
const codeNotFound = 3204

// jsonHeaders are the headers of flowproc's own JSON error answers.
var jsonHeaders = []flowengine.Header{{Name: "content-type", Value: "application/json"}}

// serve runs the exchange: the first message, project selection, the run
// and the final reply. Its error is Process's result.
func (x *exchange) serve() error {
	first, err := x.first()
	if err != nil {
		if streamClosed(err) {
			return nil
		}
		return x.fatal
	}
	h, ok := first.Request.(*extprocv3.ProcessingRequest_RequestHeaders)
	switch {
	case first.GetObservabilityMode():
		return x.protocolError(codes.FailedPrecondition, "observability_mode is not supported: flowproc must reply to Envoy")
	case first.Request == nil:
		return x.protocolError(codes.InvalidArgument, "ProcessingRequest with no request set")
	case !ok:
		return x.protocolError(codes.FailedPrecondition, "first message on an ext_proc stream must be request_headers, got %T", first.Request)
	}
	x.setup(h.RequestHeaders, first.GetProtocolConfig())
	x.client.first = first
	x.request.ClientSource = &x.client // read when a run asks (attributes.go)
	if answered, err := x.checkPath(); answered {
		return err
	}

	var name string
	if x.tap != nil && x.tap.tapped {
		name = x.tap.project
	} else if v := metadata.ValueFromIncomingContext(x.stream.Context(), ProjectMetadataKey); len(v) > 0 {
		name = v[0]
	}
	var (
		runner flowengine.Runner
		found  bool
	)
	if x.s.resolver != nil {
		runner, x.project, found = x.s.resolver.Resolve(name, x.request.Path)
	}
	if !found || runner == nil {
		x.project = "" // keep metric labels to known projects
		x.outcome, x.errorCode = outcomeNoProject, errCodeNoProject
		x.startUnroutedSpan()
		return x.answerError(404, "no project for this request", codeNotFound)
	}
	o, p, stack := x.run(x.traced(runner))
	if p != nil {
		return x.panicked(p, stack)
	}
	return x.finish(o)
}

// setup records the request headers message: the exchange's Request and the
// effective body modes from protocol_config (NONE/NONE when absent;
// Envoy's ext_proc: protocol_config is set only on the first message of a stream).
func (x *exchange) setup(h *extprocv3.HttpHeaders, pc *extprocv3.ProtocolConfiguration) {
	now := time.Now()
	x.start = now // one clock reading for the exchange's start and the phase's
	x.req.seen, x.req.headersOwed, x.req.eos, x.req.since = true, true, h.GetEndOfStream(), now
	x.owe(x.req.since)
	x.request.Received = x.req.since
	if pc != nil {
		x.req.mode, x.resp.mode = pc.GetRequestBodyMode(), pc.GetResponseBodyMode()
		sww := pc.GetSendBodyWithoutWaitingForHeaderResponse()
		x.req.eager = x.req.mode == modeFDS || sww && x.req.mode == modeStreamed
		x.resp.eager = x.resp.mode == modeFDS || sww && x.resp.mode == modeStreamed
	}
	r := &x.request
	r.BodyKnownEmpty = x.req.eos
	// Decided once: record writes the access log with the Outcome's fields
	// exactly when the run was asked for them.
	r.AccessLog = x.s.log.Enabled(context.Background(), slog.LevelInfo)
	hs := h.GetHeaders().GetHeaders()
	r.Headers = slices.Grow(r.Headers[:0], len(hs)) // a reused exchange's slice (recycle)
	for _, hv := range hs {
		k, v := hv.GetKey(), headerValue(hv)
		switch k {
		case ":method":
			r.Method = v
		case ":scheme":
			r.Scheme = v
		case ":authority":
			r.Authority = v
		case ":path":
			r.Path = v
		default:
			if len(k) > 0 && k[0] == ':' {
				continue
			}
			if k == "x-request-id" && r.ID == "" {
				r.ID = v
			}
			if k == UpstreamSchemeHeader {
				x.schemeIn = true
			}
			r.Headers = append(r.Headers, flowengine.Header{Name: k, Value: v})
		}
	}
}

// run calls the runner, recovering a panic (the engine recovers its own;
// this guards the server against any runner).
func (x *exchange) run(runner flowengine.Runner) (o *flowengine.Outcome, p any, stack []byte) {
	x.observeRun()
	defer func() {
		if r := recover(); r != nil {
			p, stack = r, debug.Stack()
		}
	}()
	return runner.Run(x.ctx, &x.request, x), nil, nil
}

// finish turns the run's outcome into the final reply.
func (x *exchange) finish(o *flowengine.Outcome) error {
	x.out = o
	if o != nil && o.Project != "" {
		x.project = o.Project
	}
	switch {
	case x.fatal != nil:
		return x.fatal
	case x.req.tooLarge && !x.req.released:
		x.outcome = outcomeAnswered
		return x.answerError(413, "request body too large", 0)
	case x.refusedBody():
		x.outcome = outcomeError
		return x.answerError(503, bodyBudgetMessage, CodeBodyBudget)
	case o == nil:
		x.outcome, x.errorCode = outcomeError, errCodeNoOutcome
		return x.answerError(500, "internal server error", 0)
	case o.Kind == flowengine.Answered:
		x.outcome = outcomeAnswered
		if !x.canAnswer() {
			return x.result(nil)
		}
		return x.result(x.answer(o.Status, o.SetHeaders, o.AddHeaders, o.Body, x.project))
	}
	x.outcome = outcomeForwarded
	if !x.forwarded {
		if _, err := x.Forward(x.ctx, nil); err != nil {
			return x.result(err)
		}
	}
	if !x.resp.seen {
		return x.result(nil) // Envoy ended the stream without response_headers
	}
	x.status = o.Status
	if x.status == 0 {
		x.status = x.response.Status
	}
	if err := x.releaseResponse(o); err != nil {
		return x.result(err)
	}
	x.completed = true
	x.traceDone() // the last reply is out; the drain waits for Envoy only
	return x.result(x.drain())
}

// result maps an error met while finishing to Process's result: nil when
// Envoy ended the stream, the stream's fatal status, or otherwise a 500
// answer (or Internal when the response can no longer be replaced).
func (x *exchange) result(err error) error {
	switch {
	case x.fatal != nil:
		return x.fatal
	case err == nil || x.closed || streamClosed(err):
		return nil
	}
	if x.refusedBody() {
		x.outcome = outcomeError
		return x.answerError(503, bodyBudgetMessage, CodeBodyBudget)
	}
	x.s.log.Error("exchange failed", "requestID", x.request.ID, "project", x.project, "error", err)
	message := "internal server error"
	if errors.Is(err, ErrReplyTooLarge) {
		x.errorCode, message = errCodeReplyTooLarge, "response too large for the proxy"
	}
	if x.errorCode == "" {
		x.errorCode = errCodeStream
	}
	if x.canAnswer() {
		x.outcome = outcomeError
		return x.answerError(500, message, 0)
	}
	return status.Error(codes.Internal, "flowproc: exchange failed (see logs)")
}

// answerError answers with a FLAT-style JSON error document.
func (x *exchange) answerError(code int, message string, flatCode int) error {
	body, _ := json.Marshal(errorDoc{Error: errorBody{
		Message: message, Status: code, Code: flatCode, RequestID: x.request.ID,
	}})
	err := x.answer(code, jsonHeaders, nil, body, x.project)
	if err == nil || x.closed || streamClosed(err) {
		return nil
	}
	if x.fatal != nil {
		return x.fatal
	}
	return status.Error(codes.Internal, "flowproc: cannot answer")
}

// errorDoc is flowproc's own error response body, in FLAT's client-visible
// format (FLAT docs: error codes).
type errorDoc struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Message   string `json:"message"`
	Status    int    `json:"status"`
	Code      int    `json:"code,omitempty"`
	RequestID string `json:"requestID,omitempty"`
}

// panicked handles a recovered panic: logged with the request ID and stack,
// counted, answered 500 when the response can still be replaced, else a
// non-OK status so Envoy fails closed.
func (x *exchange) panicked(p any, stack []byte) error {
	x.s.metrics.panics.Inc()
	x.outcome, x.errorCode = outcomePanic, errCodePanic
	x.s.log.Error("panic recovered", "requestID", x.request.ID, "project", x.project,
		"panic", fmt.Sprint(p), "stack", string(stack))
	if x.canAnswer() {
		body, _ := json.Marshal(errorDoc{Error: errorBody{
			Message: "internal server error", Status: 500, RequestID: x.request.ID,
		}})
		if err := x.answer(500, jsonHeaders, nil, body, x.project); err == nil || x.closed {
			return nil
		}
	}
	if x.closed {
		return nil
	}
	return status.Error(codes.Internal, "flowproc: internal error (see logs)")
}

// reservedLogKeys are flat_access fields that Outcome.Log fields may not
// overwrite; colliding custom fields get a "log_" prefix.
var reservedLogKeys = map[string]bool{
	"time": true, "level": true, "msg": true, "type": true, "requestID": true, "method": true,
	"url": true, "path": true, "status": true, "project": true, "flow": true, "realtime": true,
	"outcome": true, "error": true, "code": true,
}

// record counts the exchange and writes its flat_access record.
func (x *exchange) record() {
	m := x.s.metrics
	if x.errorCode != "" {
		m.errors.WithLabelValues(x.errorCode).Inc()
	}
	if x.fatal != nil {
		x.s.log.Error("ext_proc stream failed", "requestID", x.request.ID, "project", x.project, "error", x.fatal)
	}
	if !x.req.seen {
		return
	}
	outcome := x.outcome
	switch {
	case x.fatal != nil:
		outcome = outcomeError
	case outcome == outcomePanic:
	case x.closed && !x.completed && !(outcome == outcomeForwarded && x.req.released):
		outcome = outcomeCancelled
	case outcome == "":
		outcome = outcomeCancelled
	}
	var (
		flow    string
		errCode string
		fields  []byte
	)
	id := x.request.ID
	if o := x.out; o != nil {
		flow, errCode, fields = o.Flow, o.Error, o.Log
		if id == "" {
			id = o.RequestID
		}
	}
	if errCode != "" {
		m.errors.WithLabelValues(errCode).Inc()
	}
	m.exchanges.incHinted(&x.series, x.shard, exchangeLabels{x.project, flow, outcome})
	m.countProjectError(x.project, x.status, x.completed,
		x.errorCode != "" || errCode != "" || outcome == outcomeError || outcome == outcomePanic)
	x.endSpan(outcome)

	if !x.request.AccessLog {
		return
	}
	ctx := context.Background()
	scheme := x.request.Scheme
	if scheme == "" {
		scheme = "http"
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("type", "flat_access"),
		slog.String("requestID", truncate(id, LogFieldLimit)),
		slog.String("method", truncate(x.request.Method, LogFieldLimit)),
		slog.String("url", truncate(scheme+"://"+x.request.Authority+x.request.Path, LogFieldLimit)),
		slog.String("path", truncate(x.request.Path, LogFieldLimit)),
		slog.Int("status", x.status),
		slog.String("project", x.project),
	)
	if flow != "" {
		attrs = append(attrs, slog.String("flow", flow))
	}
	attrs = append(attrs,
		slog.Float64("realtime", time.Since(x.start).Seconds()),
		slog.String("outcome", outcome))
	if x.errorCode != "" {
		attrs = append(attrs, slog.String("error", x.errorCode))
	}
	if errCode != "" {
		attrs = append(attrs, slog.String("code", errCode))
	}
	attrs = appendLogFields(attrs, fields)
	x.s.log.LogAttrs(ctx, slog.LevelInfo, "flat_access", attrs...)
}

// logFieldName is the record's name for the custom field k: reserved
// names get a log_ prefix.
func logFieldName(k string) string {
	if reservedLogKeys[k] {
		return "log_" + k
	}
	return k
}

// appendLogFields merges the Outcome.Log JSON object into attrs, keys
// sorted, each bounded by customAttr and all together by LogCustomLimit. A
// value that is not a JSON object is logged under logError.
func appendLogFields(attrs []slog.Attr, fields []byte) []slog.Attr {
	if len(bytes.TrimSpace(fields)) == 0 {
		return attrs
	}
	var buf [maxFastLogFields]logField
	if fs, ok := scanLogFields(fields, buf[:]); ok {
		var lim customLimit
		for i := range fs {
			a, n := fs[i].attr(logFieldName(fs[i].key))
			attrs = lim.add(attrs, a, n)
		}
		return lim.done(attrs)
	}
	return appendLogFieldsJSON(attrs, fields)
}

// appendLogFieldsJSON is appendLogFields through encoding/json, for any
// Outcome.Log scanLogFields does not take.
func appendLogFieldsJSON(attrs []slog.Attr, fields []byte) []slog.Attr {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(fields))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return append(attrs, slog.String("logError", "custom log fields: "+err.Error()))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var lim customLimit
	for _, k := range keys {
		a, n := customAttr(logFieldName(k), m[k])
		attrs = lim.add(attrs, a, n)
	}
	return lim.done(attrs)
}

// customLimit bounds the custom log fields of one record together by
// LogCustomLimit: fields that would pass it are dropped and counted.
type customLimit struct{ total, dropped int }

// add appends a, whose size is n, unless it would pass the limit.
func (l *customLimit) add(attrs []slog.Attr, a slog.Attr, n int) []slog.Attr {
	if l.total+n > LogCustomLimit {
		l.dropped++
		return attrs
	}
	l.total += n
	return append(attrs, a)
}

// done appends the count of dropped fields, when there are any.
func (l *customLimit) done(attrs []slog.Attr) []slog.Attr {
	if l.dropped > 0 {
		attrs = append(attrs, slog.Int("log_dropped_fields", l.dropped))
	}
	return attrs
}
