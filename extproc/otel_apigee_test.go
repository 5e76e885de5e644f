package extproc_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	_ "github.com/flowproc/flowproc/flowengine/apigee/policies"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestOpenTelemetryApigeePostClientFlow: an Apigee proxy's PostClientFlow
// ServiceCallout, which runs after the answer went to the client, gets a
// client span in the exchange's trace (under its post-response span) and
// sends traceparent and the caller's baggage to its target.
func TestOpenTelemetryApigeePostClientFlow(t *testing.T) {
	side := newHeaderServer(t)
	dir := t.TempDir()
	files := map[string]string{
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Response><Step><Name>AM-Answer</Name></Step></Response></PreFlow>
  <PostClientFlow name="PostClientFlow"><Response><Step><Name>SC-Log</Name></Step></Response></PostClientFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
		"policies/AM-Answer.xml": `<AssignMessage name="AM-Answer"><Set><Payload contentType="text/plain">hi</Payload><StatusCode>200</StatusCode></Set></AssignMessage>`,
		"policies/SC-Log.xml": `<ServiceCallout name="SC-Log"><Request><Set><Verb>POST</Verb><Payload>{request.uri}</Payload></Set></Request>
  <HTTPTargetConnection><URL>` + side.URL + `/log</URL></HTTPTargetConnection></ServiceCallout>`,
	}
	for name, data := range files {
		p := filepath.Join(dir, "apiproxy", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	client := upstream.NewHTTP(upstream.HTTPOptions{})
	t.Cleanup(client.CloseIdleConnections)
	p, errs := engine.Load(dir, engine.Options{Name: "orders", Upstream: client, Logger: slog.New(slog.DiscardHandler)})
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	exp := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	srv := extproc.New(extproc.Options{Resolver: projectResolver{"orders", p}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), OTel: extproc.NewOTel(tp)})
	resp, err := envoyClient(t, srv).Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/v1/x",
		Headers: []envoy.Header{{Name: "traceparent", Value: "00-" + incomingTraceID + "-" + incomingSpanID + "-01"}, {Name: "baggage", Value: "tenant=t1"}}}, noUpstream(t))
	if err != nil || resp.Status != 200 {
		t.Fatalf("got %v %v", resp, err)
	}
	waitStreamsDone(t, srv)
	post := waitSpan(t, exp, "flowproc orders post-response")
	call := waitSpan(t, exp, "POST")
	if call.Parent().SpanID() != post.SpanContext().SpanID() || call.SpanContext().TraceID().String() != incomingTraceID {
		t.Errorf("PostClientFlow callout span: parent %s trace %s, want under the post-response span %s in trace %s",
			call.Parent().SpanID(), call.SpanContext().TraceID(), post.SpanContext().SpanID(), incomingTraceID)
	}
	if got, want := side.header("/log", "traceparent"), "00-"+incomingTraceID+"-"+call.SpanContext().SpanID().String()+"-01"; got != want {
		t.Errorf("callout traceparent %q, want %q", got, want)
	}
	if got := side.header("/log", "baggage"); got != "tenant=t1" {
		t.Errorf("callout baggage %q, want tenant=t1", got)
	}
}
