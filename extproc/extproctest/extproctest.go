// Package extproctest drives an ext_proc server in-process the way Envoy
// does with flowproc's recommended filter configuration (headers SEND,
// bodies NONE, allow_mode_override: true), for tests and benchmarks of
// projects behind the real gRPC server.
//
// It is deliberately small: one exchange, bodies sent only when the server
// asks for them with a mode_override, replies recorded but not applied. The
// Envoy-faithful client (package envoy) is the full emulation.
package extproctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	"github.com/flowproc/flowproc/flowengine"
)

// Registrar is what Dial needs from a server; *extproc.Server implements it.
type Registrar interface {
	Register(g *grpc.Server)
	GRPCOptions() []grpc.ServerOption
}

// Dial serves srv on an in-memory listener and returns a client connection
// to it. The connection and the server are closed when tb ends.
func Dial(tb testing.TB, srv Registrar) *grpc.ClientConn {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer(srv.GRPCOptions()...)
	srv.Register(g)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = g.Serve(lis)
	}()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)),
	)
	if err != nil {
		tb.Fatalf("extproctest: dial: %v", err)
	}
	tb.Cleanup(func() {
		_ = conn.Close()
		g.Stop()
		<-served
	})
	return conn
}

// Request is an HTTP request as Envoy presents it to ext_proc.
type Request struct {
	Method    string // default GET
	Scheme    string // default http
	Authority string // default localhost
	Path      string // default /
	Headers   []flowengine.Header
	Body      []byte
	// Project is sent as x-flowproc-project gRPC metadata when non-empty.
	Project string
}

// Response is the upstream response Envoy would receive.
type Response struct {
	Status  int // default 200
	Headers []flowengine.Header
	Body    []byte
}

// Result is what the server replied during one exchange.
type Result struct {
	// Replies are all server messages, in order.
	Replies []*extprocv3.ProcessingResponse
	// Immediate is the ImmediateResponse that ended the exchange, if any.
	Immediate *extprocv3.ImmediateResponse
}

// Exchange runs one HTTP exchange against the ext_proc service on conn:
// request_headers, the request body if the server asks for it with a
// BUFFERED mode_override, response_headers (unless answered), the response
// body if asked for, then a half-close. It returns the replies, or an error
// for a transport failure, a reply of the wrong type or a non-OK status.
func Exchange(ctx context.Context, conn grpc.ClientConnInterface, req *Request, resp *Response) (*Result, error) {
	if req == nil {
		req = &Request{}
	}
	if resp == nil {
		resp = &Response{}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if req.Project != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-flowproc-project", req.Project)
	}
	stream, err := extprocv3.NewExternalProcessorClient(conn).Process(ctx)
	if err != nil {
		return nil, fmt.Errorf("extproctest: open stream: %w", err)
	}
	res := &Result{}
	step := func(m *extprocv3.ProcessingRequest, want string) (*extprocv3.ProcessingResponse, error) {
		if err := stream.Send(m); err != nil {
			return nil, fmt.Errorf("extproctest: send %s: %w", want, err)
		}
		r, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("extproctest: reply to %s: %w", want, err)
		}
		res.Replies = append(res.Replies, r)
		if ir := r.GetImmediateResponse(); ir != nil {
			res.Immediate = ir
			return r, nil
		}
		if got := ReplyKind(r); got != want {
			return nil, fmt.Errorf("extproctest: got a %s reply to %s", got, want)
		}
		return r, nil
	}

	r, err := step(RequestHeaders(req, len(req.Body) == 0), "request_headers")
	if err != nil || res.Immediate != nil {
		return finish(stream, res, err)
	}
	if r.GetModeOverride().GetRequestBodyMode() == procmodev3.ProcessingMode_BUFFERED && len(req.Body) > 0 &&
		r.GetRequestHeaders().GetResponse().GetStatus() != extprocv3.CommonResponse_CONTINUE_AND_REPLACE {
		if _, err := step(RequestBody(req.Body, true), "request_body"); err != nil || res.Immediate != nil {
			return finish(stream, res, err)
		}
	}
	r, err = step(ResponseHeaders(resp, len(resp.Body) == 0), "response_headers")
	if err != nil || res.Immediate != nil {
		return finish(stream, res, err)
	}
	if r.GetModeOverride().GetResponseBodyMode() == procmodev3.ProcessingMode_BUFFERED && len(resp.Body) > 0 &&
		r.GetResponseHeaders().GetResponse().GetStatus() != extprocv3.CommonResponse_CONTINUE_AND_REPLACE {
		if _, err := step(ResponseBody(resp.Body, true), "response_body"); err != nil {
			return finish(stream, res, err)
		}
	}
	return finish(stream, res, nil)
}

// finish half-closes the stream and waits for the server's status.
func finish(stream extprocv3.ExternalProcessor_ProcessClient, res *Result, err error) (*Result, error) {
	if err != nil {
		return res, err
	}
	if err := stream.CloseSend(); err != nil {
		return res, fmt.Errorf("extproctest: close send: %w", err)
	}
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("extproctest: stream ended: %w", err)
		}
		return res, fmt.Errorf("extproctest: unexpected %s reply after the exchange", ReplyKind(r))
	}
}

// ReplyKind names the oneof of a server reply: "request_headers",
// "response_body", "immediate_response", … or "none".
func ReplyKind(r *extprocv3.ProcessingResponse) string {
	switch r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		return "request_headers"
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		return "response_headers"
	case *extprocv3.ProcessingResponse_RequestBody:
		return "request_body"
	case *extprocv3.ProcessingResponse_ResponseBody:
		return "response_body"
	case *extprocv3.ProcessingResponse_RequestTrailers:
		return "request_trailers"
	case *extprocv3.ProcessingResponse_ResponseTrailers:
		return "response_trailers"
	case *extprocv3.ProcessingResponse_ImmediateResponse:
		return "immediate_response"
	case *extprocv3.ProcessingResponse_StreamedImmediateResponse:
		return "streamed_immediate_response"
	}
	return "none"
}

// HeaderMap builds an Envoy header map: pseudo-headers first, then headers,
// values in raw_value only, keys as given (Envoy sends them lower-case).
func HeaderMap(pseudo [][2]string, headers []flowengine.Header) *corev3.HeaderMap {
	hm := &corev3.HeaderMap{Headers: make([]*corev3.HeaderValue, 0, len(pseudo)+len(headers))}
	for _, p := range pseudo {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: p[0], RawValue: []byte(p[1])})
	}
	for _, h := range headers {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: h.Name, RawValue: []byte(h.Value)})
	}
	return hm
}

// RequestHeaders is the first message of a stream for req, with
// protocol_config NONE/NONE and an empty metadata_context, as Envoy 1.34+
// sends it.
func RequestHeaders(req *Request, eos bool) *extprocv3.ProcessingRequest {
	pseudo := [][2]string{
		{":authority", def(req.Authority, "localhost")},
		{":path", def(req.Path, "/")},
		{":method", def(req.Method, "GET")},
		{":scheme", def(req.Scheme, "http")},
	}
	return &extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
			Headers: HeaderMap(pseudo, req.Headers), EndOfStream: eos,
		}},
		MetadataContext: &corev3.Metadata{},
		ProtocolConfig:  &extprocv3.ProtocolConfiguration{},
	}
}

// ResponseHeaders is the response_headers message for resp.
func ResponseHeaders(resp *Response, eos bool) *extprocv3.ProcessingRequest {
	st := resp.Status
	if st == 0 {
		st = 200
	}
	return &extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{
			Headers: HeaderMap([][2]string{{":status", strconv.Itoa(st)}}, resp.Headers), EndOfStream: eos,
		}},
		MetadataContext: &corev3.Metadata{},
	}
}

// RequestBody is a request_body message.
func RequestBody(b []byte, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{
		Request:         &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: b, EndOfStream: eos}},
		MetadataContext: &corev3.Metadata{},
	}
}

// ResponseBody is a response_body message.
func ResponseBody(b []byte, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{
		Request:         &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: b, EndOfStream: eos}},
		MetadataContext: &corev3.Metadata{},
	}
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
