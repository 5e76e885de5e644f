package upstream

import (
	"context"
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName names the tracer of side-call spans.
const instrumentationName = "github.com/flowproc/flowproc/flowengine/upstream"

// propagator is the W3C Trace Context and Baggage propagator (Propagator).
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Propagator returns what side calls carry and what the ext_proc server
// reads from requests: the W3C Trace Context (traceparent, tracestate) and
// W3C Baggage (baggage) headers, so a caller's baggage reaches the side
// calls' targets.
func Propagator() propagation.TextMapPropagator { return propagator }

// startCallSpan starts the client span of one side call when ctx carries a
// span context (the host traces the exchange with OpenTelemetry), and
// injects traceparent/tracestate and baggage into req's headers so that
// the callee joins the trace. Without a span context it does nothing and returns a
// nil span: side calls of untraced exchanges cost one context lookup.
func startCallSpan(ctx context.Context, c *Call, req *http.Request) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsValid() {
		return ctx, nil
	}
	ctx, sp := parent.TracerProvider().Tracer(instrumentationName).Start(ctx, req.Method,
		trace.WithSpanKind(trace.SpanKindClient))
	if sp.IsRecording() {
		attrs := []attribute.KeyValue{
			semconv.HTTPRequestMethodKey.String(req.Method),
			semconv.ServerAddress(req.URL.Hostname()),
			semconv.URLFull(req.URL.Redacted()),
		}
		if p, err := strconv.Atoi(targetPort(req)); err == nil {
			attrs = append(attrs, semconv.ServerPort(p))
		}
		if c.ID != "" {
			attrs = append(attrs, attribute.String("flowproc.call.id", c.ID))
		}
		sp.SetAttributes(attrs...)
	}
	propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	return ctx, sp
}

// endCallSpan ends a side call's span with the result: the status code,
// or the failure kind as error.type. 4xx and 5xx answers are errors for a
// client span (OpenTelemetry HTTP semantic conventions).
func endCallSpan(sp trace.Span, r *Result) {
	if sp == nil {
		return
	}
	defer sp.End()
	if !sp.IsRecording() || r == nil {
		return
	}
	switch {
	case r.Err != nil:
		sp.SetAttributes(semconv.ErrorTypeKey.String(string(r.Err.Kind)))
		sp.SetStatus(codes.Error, r.Err.Error())
	default:
		sp.SetAttributes(semconv.HTTPResponseStatusCode(r.Status))
		if r.CacheHit {
			sp.SetAttributes(attribute.Bool("flowproc.cache.hit", true))
		}
		if r.Status >= 400 {
			sp.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(r.Status)))
			sp.SetStatus(codes.Error, "")
		}
	}
}

// targetPort is the port a request goes to, explicit or the scheme's default.
func targetPort(req *http.Request) string {
	_, port, err := net.SplitHostPort(dialAddr(req))
	if err != nil {
		return ""
	}
	return port
}
