package extproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// instrumentationName names the tracer of exchange and step spans.
const instrumentationName = "github.com/flowproc/flowproc/extproc"

// OTel is the server's OpenTelemetry tracing: one server span per
// exchange, a child span per flow step (for sampled exchanges) and per side
// call. Create it with OTelFromEnv (production) or NewOTel, and set
// it as Options.OTel. A nil *OTel is tracing off: it costs nothing.
type OTel struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	// shutdown flushes and stops the provider OTelFromEnv built; nil
	// for NewOTel (the caller owns its provider).
	shutdown func(context.Context) error
}

// NewOTel returns an OTel that starts spans from tp and reads the W3C
// trace context (traceparent, tracestate) and W3C baggage from request
// headers; side calls carry both on (flowengine/upstream). The caller owns
// tp (and shuts it down).
func NewOTel(tp trace.TracerProvider) *OTel {
	return &OTel{tracer: tp.Tracer(instrumentationName), prop: upstream.Propagator()}
}

// ErrOTelConfig is wrapped by OTelFromEnv's errors about the OTEL_*
// variables.
var ErrOTelConfig = errors.New("OpenTelemetry configuration")

// OTelFromEnv configures tracing from the standard OpenTelemetry
// environment variables of the process. Tracing is
// off — a nil *OTel and no error — unless OTEL_TRACES_EXPORTER is
// "otlp", or it is unset and an OTLP endpoint is set
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
// OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn it off; any
// other exporter name is an error (flowproc builds in OTLP only).
//
// The protocol is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" (the default) or "grpc".
// The exporters read the endpoint, headers, timeout, compression and TLS
// variables themselves; the SDK reads OTEL_TRACES_SAMPLER(_ARG) and the
// OTEL_BSP_* batch settings; the resource comes from OTEL_SERVICE_NAME
// (default "flowproc") and OTEL_RESOURCE_ATTRIBUTES.
func OTelFromEnv(ctx context.Context) (*OTel, error) {
	getenv := os.Getenv
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return nil, nil
	}
	switch exp := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); exp {
	case "none":
		return nil, nil
	case "":
		if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return nil, nil
		}
	case "otlp":
	default:
		return nil, fmt.Errorf("%w: OTEL_TRACES_EXPORTER=%q: flowproc supports otlp and none", ErrOTelConfig, exp)
	}
	proto := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch strings.TrimSpace(proto) {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("%w: OTLP protocol %q: flowproc supports http/protobuf and grpc", ErrOTelConfig, proto)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: OTLP exporter: %w", ErrOTelConfig, err)
	}
	opts := []resource.Option{resource.WithTelemetrySDK(), resource.WithFromEnv()}
	if getenv("OTEL_SERVICE_NAME") == "" {
		// WithFromEnv runs last and overrides it when OTEL_RESOURCE_ATTRIBUTES names one.
		opts = []resource.Option{resource.WithTelemetrySDK(), resource.WithAttributes(semconv.ServiceName("flowproc")), resource.WithFromEnv()}
	}
	res, err := resource.New(ctx, opts...)
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("%w: resource: %w", ErrOTelConfig, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t := NewOTel(tp)
	t.shutdown = tp.Shutdown
	return t, nil
}

// Shutdown flushes the spans not exported yet and stops the exporter of a
// OTel built by OTelFromEnv; a no-op otherwise (and for nil).
func (t *OTel) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("flush OpenTelemetry spans: %w", err)
	}
	return nil
}

// headerCarrier reads the W3C trace context from request headers (names
// are lower-case from Envoy).
type headerCarrier []flowengine.Header

func (h headerCarrier) Get(key string) string {
	key = strings.ToLower(key)
	for _, f := range h {
		if f.Name == key {
			return f.Value
		}
	}
	return ""
}

// Set is never used: the carrier is only extracted from.
func (h headerCarrier) Set(string, string) {}

func (h headerCarrier) Keys() []string {
	keys := make([]string, len(h))
	for i, f := range h {
		keys[i] = f.Name
	}
	return keys
}

// exchangeSpan is the OpenTelemetry state of one traced exchange.
type exchangeSpan struct {
	span  trace.Span
	ctx   context.Context // the run's context with the span
	steps *stepSpans      // nil when the exchange is not sampled
}

// startSpan starts the exchange's server span, child of the trace context
// Envoy passed on in the request headers, puts it in the run's context (so
// side calls become its children and carry traceparent), and for a
// sampled exchange sets a Tracer on the request that turns step events into
// child spans.
func (x *exchange) startSpan(t *OTel) {
	r := &x.request
	parent := t.prop.Extract(x.ctx, headerCarrier(r.Headers))
	scheme := r.Scheme
	if scheme == "" {
		scheme = "http"
	}
	path, query, _ := strings.Cut(r.Path, "?")
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(r.Method),
		semconv.URLScheme(scheme),
		semconv.URLPath(path),
		attribute.String("flowproc.project", x.project),
	}
	if query != "" {
		attrs = append(attrs, semconv.URLQuery(query))
	}
	if host, port, err := net.SplitHostPort(r.Authority); err == nil {
		attrs = append(attrs, semconv.ServerAddress(host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.ServerPort(p))
		}
	} else if r.Authority != "" {
		attrs = append(attrs, semconv.ServerAddress(r.Authority))
	}
	if ua := headerCarrier(r.Headers).Get("user-agent"); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	if c := r.ClientInfo(); c.Address != "" {
		attrs = append(attrs, semconv.ClientAddress(c.Address))
	}
	if r.ID != "" {
		attrs = append(attrs, attribute.String("flowproc.request_id", r.ID))
	}
	ctx, sp := t.tracer.Start(parent, spanName(x.project), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(x.start), trace.WithAttributes(attrs...))
	x.ctx = ctx
	x.otel, x.observed = &exchangeSpan{span: sp, ctx: ctx}, true
	if sp.IsRecording() && sp.SpanContext().IsSampled() {
		x.otel.steps = &stepSpans{tracer: t.tracer, parent: ctx, server: sp}
		r.Trace = flowengine.MultiTracer(r.Trace, x.otel.steps)
	}
}

// endSpan ends the exchange's span with its outcome: the flow in the name,
// the status, the error code.
func (x *exchange) endSpan(outcome string) {
	o := x.otel
	if o == nil {
		return
	}
	x.otel = nil
	sp := o.span
	if o.steps != nil {
		o.steps.flush()
	}
	if !sp.IsRecording() {
		sp.End()
		return
	}
	name := spanName(x.project)
	if x.out != nil && x.out.Flow != "" {
		name += " " + x.out.Flow
		sp.SetAttributes(attribute.String("flowproc.flow", x.out.Flow))
	}
	sp.SetName(name)
	sp.SetAttributes(attribute.String("flowproc.project", x.project), attribute.String("flowproc.outcome", outcome))
	if x.status > 0 {
		sp.SetAttributes(semconv.HTTPResponseStatusCode(x.status))
	}
	code := x.errorCode
	if code == "" && x.out != nil {
		code = x.out.Error
	}
	if code != "" {
		sp.SetAttributes(semconv.ErrorTypeKey.String(code))
	}
	// A server span is an error for 5xx answers and for exchanges that
	// failed without one (HTTP semantic conventions).
	if x.status >= 500 || outcome == outcomeError || outcome == outcomePanic {
		sp.SetStatus(codes.Error, code)
	}
	sp.End()
}

// spanName is the exchange span's name before the flow is known:
// "flowproc PROJECT", or "flowproc" for an exchange that matched no project.
func spanName(project string) string {
	if project == "" {
		return "flowproc"
	}
	return "flowproc " + project
}

// startUnroutedSpan starts the exchange span of an exchange the server
// answers before any project runs (no project matches, the path is not
// normalized): an operator looking for a request in the tracing backend
// finds it there, with its status and error code, like every other.
func (x *exchange) startUnroutedSpan() {
	if t := x.s.otel; t != nil && x.otel == nil {
		x.startSpan(t)
	}
}
