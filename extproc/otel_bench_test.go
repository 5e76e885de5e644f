package extproc

import (
	"context"
	"io"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/flat"
)

// BenchmarkProcessObservability measures the example project's exchanges
// (as BenchmarkProcessExample) with each observability option: off (the
// default: compare with BenchmarkProcessExample on the commit before), step
// metrics, and OpenTelemetry with a batch exporter that drops spans,
// sampling none, 1% and every exchange (no incoming traceparent: the
// root sampler decides).
func BenchmarkProcessObservability(b *testing.B) {
	example, errs := flat.Load("../examples/hello", flat.Options{Env: []string{}})
	if example == nil {
		b.Fatal(errs)
	}
	tracing := func(s sdktrace.Sampler) func(b *testing.B) *OTel {
		return func(b *testing.B) *OTel {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			return NewOTel(tp)
		}
	}
	modes := []struct {
		name    string
		steps   bool
		tracing func(b *testing.B) *OTel
	}{
		{"off", false, nil},
		{"step-metrics", true, nil},
		{"otel-sample-none", false, tracing(sdktrace.NeverSample())},
		{"otel-sample-1pct", false, tracing(sdktrace.TraceIDRatioBased(0.01))},
		{"otel-sample-all", false, tracing(sdktrace.AlwaysSample())},
	}
	routes := []struct {
		name, path string
		sent       int
	}{
		{"proxied", "/api/upstream/items/42?expand=1", 2},
		{"templated", "/api/hello/world?lang=de", 1},
	}
	for _, r := range routes {
		for _, m := range modes {
			b.Run(r.name+"/"+m.name, func(b *testing.B) {
				opts := Options{Resolver: one(runnerFunc(example.Run)), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), StepMetrics: m.steps}
				if m.tracing != nil {
					opts.OTel = m.tracing(b)
				}
				s := New(opts)
				ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
				req := *benchRequest
				req.Path = r.path
				msgs := benchScript()
				msgs[0] = extproctest.RequestHeaders(&req, true)
				b.ReportAllocs()
				for b.Loop() {
					st := &fakeStream{ctx: ctx, script: msgs}
					if err := s.Process(st); err != nil || st.sent != r.sent {
						b.Fatalf("process: %v, %d replies", err, st.sent)
					}
				}
			})
		}
	}
}

var _ flowengine.Runner = (*flat.Project)(nil)
