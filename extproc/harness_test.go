package extproc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runnerFunc adapts a function to flowengine.Runner; it is how the tests
// fake the engine.
type runnerFunc func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome

func (f runnerFunc) Run(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
	return f(ctx, req, h)
}

// fakeResolver selects by project name first, then by path prefix.
type fakeResolver struct {
	byName   map[string]flowengine.Runner
	byPrefix map[string]flowengine.Runner
}

func (r fakeResolver) Resolve(name, path string) (flowengine.Runner, string, bool) {
	if name != "" {
		run, ok := r.byName[name]
		return run, name, ok
	}
	for p, run := range r.byPrefix {
		if strings.HasPrefix(path, p) {
			return run, strings.Trim(p, "/"), true
		}
	}
	return nil, "", false
}

// resolverFunc adapts a function to Resolver.
type resolverFunc func(name, path string) (flowengine.Runner, string, bool)

func (f resolverFunc) Resolve(name, path string) (flowengine.Runner, string, bool) {
	return f(name, path)
}

// one resolves every request to run under project "demo".
func one(run flowengine.Runner) Resolver {
	return resolverFunc(func(string, string) (flowengine.Runner, string, bool) { return run, "demo", true })
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a Server on an in-memory gRPC connection.
type testServer struct {
	*Server
	conn *grpc.ClientConn
	logs *syncBuffer
}

func newTestServer(t *testing.T, res Resolver, limit int64) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	s := New(Options{
		Resolver:  res,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BodyLimit: limit,
	})
	return &testServer{Server: s, conn: extproctest.Dial(t, s), logs: logs}
}

// client is the Envoy side of one stream.
type client struct {
	t      *testing.T
	stream extprocv3.ExternalProcessor_ProcessClient
	cancel context.CancelFunc
}

func (ts *testServer) open(t *testing.T, project string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	if project != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, ProjectMetadataKey, project)
	}
	stream, err := extprocv3.NewExternalProcessorClient(ts.conn).Process(ctx)
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	return &client{t: t, stream: stream, cancel: cancel}
}

func (c *client) send(m *extprocv3.ProcessingRequest) {
	c.t.Helper()
	if err := c.stream.Send(m); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// expect receives one reply and compares it exactly with want.
func (c *client) expect(want *extprocv3.ProcessingResponse) {
	c.t.Helper()
	got, err := c.stream.Recv()
	if err != nil {
		c.t.Fatalf("recv (want %s): %v", prototext.Format(want), err)
	}
	if !proto.Equal(got, want) {
		c.t.Fatalf("reply mismatch\n got: %s\nwant: %s", prototext.Format(got), prototext.Format(want))
	}
}

// end half-closes like Envoy and returns the stream's final status error
// (nil for OK).
func (c *client) end() error {
	c.t.Helper()
	_ = c.stream.CloseSend()
	for {
		m, err := c.stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		c.t.Fatalf("unexpected reply at the end: %s", prototext.Format(m))
	}
}

// Messages Envoy sends.

func hdrs(pseudo [][2]string, kv ...string) *corev3.HeaderMap {
	var hs []flowengine.Header
	for i := 0; i+1 < len(kv); i += 2 {
		hs = append(hs, flowengine.Header{Name: kv[i], Value: kv[i+1]})
	}
	return extproctest.HeaderMap(pseudo, hs)
}

func reqHeaders(method, path string, eos bool, pc *extprocv3.ProtocolConfiguration, kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
			Headers:     hdrs([][2]string{{":authority", "api.example.com"}, {":path", path}, {":method", method}, {":scheme", "https"}}, kv...),
			EndOfStream: eos,
		}},
		MetadataContext: &corev3.Metadata{},
		ProtocolConfig:  pc,
	}
}

func respHeaders(code string, eos bool, kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{
			Headers: hdrs([][2]string{{":status", code}}, kv...), EndOfStream: eos,
		}},
		MetadataContext: &corev3.Metadata{},
	}
}

// withAttributes adds Envoy's attributes (expression text to value) to m
// under the ext_proc filter's key, as Envoy sends request_attributes and
// response_attributes with the first message of a direction.
func withAttributes(m *extprocv3.ProcessingRequest, attrs map[string]any) *extprocv3.ProcessingRequest {
	st, err := structpb.NewStruct(attrs)
	if err != nil {
		panic(err) // test data only
	}
	m.Attributes = map[string]*structpb.Struct{attributesKey: st}
	return m
}

func reqBody(b string, eos bool) *extprocv3.ProcessingRequest {
	return extproctest.RequestBody([]byte(b), eos)
}

func respBody(b string, eos bool) *extprocv3.ProcessingRequest {
	return extproctest.ResponseBody([]byte(b), eos)
}

func reqTrailers() *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{
		RequestTrailers: &extprocv3.HttpTrailers{Trailers: hdrs(nil, "grpc-status", "0")}}}
}

func respTrailers() *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseTrailers{
		ResponseTrailers: &extprocv3.HttpTrailers{Trailers: hdrs(nil, "grpc-status", "0")}}}
}

func modes(req, resp procmodev3.ProcessingMode_BodySendMode, withoutWaiting bool) *extprocv3.ProtocolConfiguration {
	return &extprocv3.ProtocolConfiguration{RequestBodyMode: req, ResponseBodyMode: resp, SendBodyWithoutWaitingForHeaderResponse: withoutWaiting}
}

// Replies flowproc must send, written out literally (not with the code
// under test's builders).

func set(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, RawValue: []byte(v)}, Append: wrapperspb.Bool(false)}
}

func add(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, RawValue: []byte(v)}, Append: wrapperspb.Bool(true)}
}

func mut(remove []string, sets ...*corev3.HeaderValueOption) *extprocv3.HeaderMutation {
	return &extprocv3.HeaderMutation{SetHeaders: sets, RemoveHeaders: remove}
}

func wantReqHeaders(c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: c}}}
}

func wantRespHeaders(c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: c}}}
}

func wantReqBody(c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: c}}}
}

func wantRespBody(c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: c}}}
}

func withOverride(r *extprocv3.ProcessingResponse, req, resp procmodev3.ProcessingMode_BodySendMode) *extprocv3.ProcessingResponse {
	r.ModeOverride = &procmodev3.ProcessingMode{RequestBodyMode: req, ResponseBodyMode: resp}
	return r
}

func wantReqTrailers() *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
}

func wantRespTrailers() *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}
}

func bodyOf(b string) *extprocv3.BodyMutation {
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: []byte(b)}}
}

func streamed(b string, eos bool) *extprocv3.BodyMutation {
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{StreamedResponse: &extprocv3.StreamedBodyResponse{Body: []byte(b), EndOfStream: eos}}}
}

func wantImmediate(code int, headers *extprocv3.HeaderMutation, body, details string) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{
		Status: &typev3.HttpStatus{Code: typev3.StatusCode(code)}, Headers: headers, Body: []byte(body), Details: details,
	}}}
}

var jsonType = mut(nil, set("content-type", "application/json"))

// codeOf is the gRPC status code of a stream's end.
func codeOf(err error) string { return status.Code(err).String() }
