package extproc

import (
	"context"
	"io"
	"log/slog"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

// benchRunners are the runners the Process benchmarks measure.
var benchRunners = []struct {
	name string
	run  runnerFunc
}{
	{"noop", func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		if _, err := h.Forward(ctx, &flowengine.Mutation{}); err != nil {
			return nil
		}
		return &flowengine.Outcome{Kind: flowengine.Forwarded}
	}},
	{"mutations", func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		if _, err := h.Forward(ctx, &flowengine.Mutation{
			SetHeaders:    []flowengine.Header{{Name: "x-user", Value: "alice"}, {Name: "authorization", Value: "Bearer abc.def.ghi"}},
			RemoveHeaders: []string{"cookie"},
			Path:          "/v2" + req.Path,
		}); err != nil {
			return nil
		}
		return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "cache-control", Value: "no-store"}, {Name: "x-request-id", Value: req.ID}}, AddHeaders: []flowengine.Header{{Name: "set-cookie", Value: "s=1"}}, RemoveHeaders: []string{"server"}}, Flow: "items"}
	}},
}

var (
	benchRequest = &extproctest.Request{
		Method: "GET", Path: "/items/42?expand=1", Authority: "api.example.com", Scheme: "https",
		Headers: []flowengine.Header{
			{Name: "user-agent", Value: "curl/8.5.0"}, {Name: "accept", Value: "application/json"},
			{Name: "x-request-id", Value: "7f1c9a2e-1b7a-4c55-9f0e-2b1d1f0c9e11"}, {Name: "x-forwarded-proto", Value: "https"},
			{Name: "cookie", Value: "session=abc"},
		},
	}
	benchResponse = &extproctest.Response{Status: 200, Headers: []flowengine.Header{
		{Name: "content-type", Value: "application/json"}, {Name: "content-length", Value: "42"}, {Name: "server", Value: "upstream"},
	}}
)

// benchScript is what Envoy sends for benchRequest and benchResponse.
func benchScript() []*extprocv3.ProcessingRequest {
	return []*extprocv3.ProcessingRequest{
		extproctest.RequestHeaders(benchRequest, true),
		extproctest.ResponseHeaders(benchResponse, false),
	}
}

func benchServer(run runnerFunc) *Server {
	return New(Options{Resolver: one(run), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
}

// BenchmarkProcessGRPC measures one header-only exchange (request_headers →
// response_headers, then Envoy's half-close) through the real gRPC server
// over an in-memory connection. Client-side work is included.
func BenchmarkProcessGRPC(b *testing.B) {
	for _, br := range benchRunners {
		b.Run(br.name, func(b *testing.B) {
			conn := extproctest.Dial(b, benchServer(br.run))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				res, err := extproctest.Exchange(ctx, conn, benchRequest, benchResponse)
				if err != nil || len(res.Replies) != 2 {
					b.Fatalf("exchange: %v %v", res, err)
				}
			}
		})
	}
}

// BenchmarkProcessHandler measures the same exchange through Process with
// an in-process stream: the server's own cost without the transport.
func BenchmarkProcessHandler(b *testing.B) {
	for _, br := range benchRunners {
		b.Run(br.name, func(b *testing.B) {
			s := benchServer(br.run)
			ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
			msgs := benchScript()
			b.ReportAllocs()
			for b.Loop() {
				// grpcStreamContext: what GRPCOptions' tap and the transport give every stream.
				st := &fakeStream{ctx: grpcStreamContext(ctx), script: msgs}
				if err := s.Process(st); err != nil || st.sent != 2 {
					b.Fatalf("process: %v, %d replies", err, st.sent)
				}
			}
		})
	}
}

// grpcStreamContext is the context gRPC's transport gives a stream's
// handler: the tap's (WithStreamCancel) with its Done channel already made,
// as grpc-go's http2Server makes it right after the tap (operateHeaders:
// s.ctxDone = s.ctx.Done()), for the no-op's streams too.
func grpcStreamContext(ctx context.Context) context.Context {
	c := WithStreamCancel(ctx)
	_ = c.Done()
	return c
}
