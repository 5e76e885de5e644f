package envoy

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// fakeExtProc is an in-process ext_proc server (over bufconn) whose
// behaviour per stream is a Go function: a script of expected requests and
// replies, or a generic responder.
type fakeExtProc struct {
	extprocv3.UnimplementedExternalProcessorServer
	t      *testing.T
	handle func(st *fakeStream) error

	mu      sync.Mutex
	streams []*fakeStream
	opened  chan *fakeStream
}

// fakeStream is the server side of one Process stream.
type fakeStream struct {
	t   *testing.T
	srv extprocv3.ExternalProcessor_ProcessServer
	md  metadata.MD

	mu     sync.Mutex
	reqs   []*extprocv3.ProcessingRequest
	endErr error         // what Recv returned when the client side ended
	ended  chan struct{} // closed once Recv returned an error
	once   sync.Once
}

func (f *fakeExtProc) Process(srv extprocv3.ExternalProcessor_ProcessServer) error {
	md, _ := metadata.FromIncomingContext(srv.Context())
	st := &fakeStream{t: f.t, srv: srv, md: md, ended: make(chan struct{})}
	f.mu.Lock()
	f.streams = append(f.streams, st)
	f.mu.Unlock()
	select {
	case f.opened <- st:
	default:
	}
	defer func() {
		// A handler that stopped reading learns of the end from its context.
		st.mu.Lock()
		if st.endErr == nil {
			st.endErr = srv.Context().Err()
		}
		st.mu.Unlock()
		st.once.Do(func() { close(st.ended) })
	}()
	return f.handle(st)
}

// recv reads the next request, recording it (or the end of the stream).
func (st *fakeStream) recv() (*extprocv3.ProcessingRequest, error) {
	r, err := st.srv.Recv()
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		if st.endErr == nil {
			st.endErr = err
		}
		st.once.Do(func() { close(st.ended) })
		return nil, err
	}
	st.reqs = append(st.reqs, r)
	return r, nil
}

// expect reads the next request and checks its kind.
func (st *fakeStream) expect(kind string) *extprocv3.ProcessingRequest {
	r, err := st.recv()
	if err != nil {
		st.t.Errorf("fake server: want %s, stream ended: %v", kind, err)
		return nil
	}
	if got := reqKind(r); got != kind {
		st.t.Errorf("fake server: want %s, got %s", kind, describeReq(r))
	}
	return r
}

func (st *fakeStream) send(r *extprocv3.ProcessingResponse) {
	if err := st.srv.Send(r); err != nil {
		st.t.Logf("fake server: send: %v", err)
	}
}

// drain reads until the client ends the stream; it returns the error Recv
// gave (io.EOF or Canceled).
func (st *fakeStream) drain() error {
	for {
		if _, err := st.recv(); err != nil {
			return err
		}
	}
}

// waitCtx waits d or until the stream's context ends.
func (st *fakeStream) waitCtx(d time.Duration) {
	select {
	case <-time.After(d):
	case <-st.srv.Context().Done():
	}
}

func (st *fakeStream) requests() []*extprocv3.ProcessingRequest {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]*extprocv3.ProcessingRequest(nil), st.reqs...)
}

func (st *fakeStream) kinds() []string {
	var out []string
	for _, r := range st.requests() {
		out = append(out, describeReq(r))
	}
	return out
}

// harness wires a fake server, a client connection and goleak.
type harness struct {
	t    *testing.T
	srv  *fakeExtProc
	conn *grpc.ClientConn
	lis  *bufconn.Listener
}

func newHarness(t *testing.T, handle func(st *fakeStream) error) *harness {
	t.Helper()
	ign := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ign) })
	lis := bufconn.Listen(1 << 20)
	fs := &fakeExtProc{t: t, handle: handle, opened: make(chan *fakeStream, 64)}
	gs := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(gs, fs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &harness{t: t, srv: fs, conn: conn, lis: lis}
}

// client builds a Client on the harness connection; it is closed at cleanup.
// Unless the test sets message_timeout, it gets 5 s instead of Envoy's
// 200 ms so that a loaded CI machine cannot turn a slow fake server into a
// 504 (tests of the timer set their own value).
func (h *harness) client(p *extprocfilterv3.ExternalProcessor, opts ...Option) *Client {
	h.t.Helper()
	if p == nil {
		p = &extprocfilterv3.ExternalProcessor{}
	}
	if p.GetMessageTimeout() == nil {
		p = proto.Clone(p).(*extprocfilterv3.ExternalProcessor)
		p.MessageTimeout = ms(5000)
	}
	return h.clientFor(NewFilterConfig(p), opts...)
}

func (h *harness) clientFor(fc *FilterConfig, opts ...Option) *Client {
	h.t.Helper()
	c, err := NewClient(h.conn, fc, opts...)
	if err != nil {
		h.t.Fatalf("NewClient: %v", err)
	}
	h.t.Cleanup(func() { _ = c.Close() })
	return c
}

func (h *harness) streams() []*fakeStream {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return append([]*fakeStream(nil), h.srv.streams...)
}

// onlyStream returns the single stream of the test, waiting for the server
// side to see the client end it.
func (h *harness) onlyStream() *fakeStream {
	h.t.Helper()
	ss := h.streams()
	for deadline := time.Now().Add(5 * time.Second); len(ss) == 0 && time.Now().Before(deadline); ss = h.streams() {
		time.Sleep(2 * time.Millisecond) // observability mode does not wait for the server
	}
	if len(ss) != 1 {
		h.t.Fatalf("want 1 stream, got %d", len(ss))
	}
	select {
	case <-ss[0].ended:
	case <-time.After(5 * time.Second):
		h.t.Fatalf("stream not ended by the client")
	}
	return ss[0]
}

// do runs one exchange with a 10 s safety deadline.
func do(t *testing.T, c *Client, req *HTTPRequest, up Upstream) *HTTPResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, req, up)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	return resp
}

// --- generic server behaviours ------------------------------------------------

// passThrough answers every message with an empty reply of the matching
// type (FULL_DUPLEX_STREAMED bodies: echoed as streamed_response) and ends
// when the client does. Observability-mode messages get no reply.
func passThrough(st *fakeStream) error {
	return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
		return []*extprocv3.ProcessingResponse{st.passReply(r)}
	})
}

// respond answers each request with what fn returns.
func respond(st *fakeStream, fn func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse) error {
	for {
		r, err := st.recv()
		if err != nil {
			return nil
		}
		if r.GetObservabilityMode() {
			continue
		}
		for _, resp := range fn(r) {
			if resp != nil {
				st.send(resp)
			}
		}
	}
}

// protocolConfig returns the protocol_config of the stream's first message.
func (st *fakeStream) protocolConfig() *extprocv3.ProtocolConfiguration {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.reqs) == 0 {
		return nil
	}
	return st.reqs[0].GetProtocolConfig()
}

// passReply is the pass-through reply to r (FULL_DUPLEX_STREAMED bodies,
// as announced by protocol_config, are echoed as streamed_response).
func (st *fakeStream) passReply(r *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	c := &extprocv3.CommonResponse{}
	pc := st.protocolConfig()
	switch q := r.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return reqHeadersResp(c)
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return respHeadersResp(c)
	case *extprocv3.ProcessingRequest_RequestBody:
		if pc.GetRequestBodyMode() == extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
			return reqBodyResp(streamed(q.RequestBody.GetBody(), q.RequestBody.GetEndOfStream()))
		}
		return reqBodyResp(c)
	case *extprocv3.ProcessingRequest_ResponseBody:
		if pc.GetResponseBodyMode() == extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
			return respBodyResp(streamed(q.ResponseBody.GetBody(), q.ResponseBody.GetEndOfStream()))
		}
		return respBodyResp(c)
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}
	}
	return nil
}

// --- message builders ------------------------------------------------------------

func reqHeadersResp(c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: c}}}
}

func respHeadersResp(c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: c}}}
}

func reqBodyResp(c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: c}}}
}

func respBodyResp(c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: c}}}
}

func reqTrailersResp(m *extprocv3.HeaderMutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{HeaderMutation: m}}}
}

func streamed(b []byte, eos bool) *extprocv3.CommonResponse {
	return &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{
		StreamedResponse: &extprocv3.StreamedBodyResponse{Body: b, EndOfStream: eos}}}}
}

func bodyMut(b string) *extprocv3.BodyMutation {
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: []byte(b)}}
}

func clearBody() *extprocv3.BodyMutation {
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}}
}

// setH is a raw_value set_headers entry (append unset = overwrite).
func setH(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, RawValue: []byte(v)}}
}

func appendH(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, RawValue: []byte(v)}, Append: wrapperspb.Bool(true)}
}

func mutation(rm []string, set ...*corev3.HeaderValueOption) *extprocv3.HeaderMutation {
	return &extprocv3.HeaderMutation{RemoveHeaders: rm, SetHeaders: set}
}

func immediate(code typev3.StatusCode, body, details string) *extprocv3.ProcessingResponse {
	ir := &extprocv3.ImmediateResponse{Body: []byte(body), Details: details}
	if code != 0 {
		ir.Status = &typev3.HttpStatus{Code: code}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: ir}}
}

func ms(n int) *durationpb.Duration { return durationpb.New(time.Duration(n) * time.Millisecond) }

// mode builds a ProcessingMode: header modes SEND/SKIP as given, body modes,
// trailer modes.
func mode(reqH, respH extprocfilterv3.ProcessingMode_HeaderSendMode, reqB, respB extprocfilterv3.ProcessingMode_BodySendMode,
	reqT, respT extprocfilterv3.ProcessingMode_HeaderSendMode) *extprocfilterv3.ProcessingMode {
	return &extprocfilterv3.ProcessingMode{RequestHeaderMode: reqH, ResponseHeaderMode: respH, RequestBodyMode: reqB,
		ResponseBodyMode: respB, RequestTrailerMode: reqT, ResponseTrailerMode: respT}
}

const (
	SEND = extprocfilterv3.ProcessingMode_SEND
	SKIP = extprocfilterv3.ProcessingMode_SKIP
	DEF  = extprocfilterv3.ProcessingMode_DEFAULT

	NONE     = extprocfilterv3.ProcessingMode_NONE
	STREAMED = extprocfilterv3.ProcessingMode_STREAMED
	BUFFERED = extprocfilterv3.ProcessingMode_BUFFERED
	PARTIAL  = extprocfilterv3.ProcessingMode_BUFFERED_PARTIAL
	FDS      = extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED
)

// --- descriptions ------------------------------------------------------------------

func reqKind(r *extprocv3.ProcessingRequest) string {
	switch r.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return "request_headers"
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return "response_headers"
	case *extprocv3.ProcessingRequest_RequestBody:
		return "request_body"
	case *extprocv3.ProcessingRequest_ResponseBody:
		return "response_body"
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return "request_trailers"
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return "response_trailers"
	}
	return "unknown"
}

// describeReq renders a request compactly: kind, body and end_of_stream.
func describeReq(r *extprocv3.ProcessingRequest) string {
	switch q := r.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return fmt.Sprintf("request_headers eos=%v", q.RequestHeaders.GetEndOfStream())
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return fmt.Sprintf("response_headers eos=%v", q.ResponseHeaders.GetEndOfStream())
	case *extprocv3.ProcessingRequest_RequestBody:
		return fmt.Sprintf("request_body %q eos=%v", q.RequestBody.GetBody(), q.RequestBody.GetEndOfStream())
	case *extprocv3.ProcessingRequest_ResponseBody:
		return fmt.Sprintf("response_body %q eos=%v", q.ResponseBody.GetBody(), q.ResponseBody.GetEndOfStream())
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return "request_trailers " + hdrString(q.RequestTrailers.GetTrailers())
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return "response_trailers " + hdrString(q.ResponseTrailers.GetTrailers())
	}
	return "unknown"
}

func hdrString(m *corev3.HeaderMap) string {
	var parts []string
	for _, h := range m.GetHeaders() {
		parts = append(parts, h.GetKey()+"="+string(h.GetRawValue()))
	}
	return strings.Join(parts, ",")
}

// headersOf returns the header list of a headers message as key=raw_value.
func headersOf(r *extprocv3.ProcessingRequest) []string {
	var m *corev3.HeaderMap
	if h := r.GetRequestHeaders(); h != nil {
		m = h.GetHeaders()
	} else {
		m = r.GetResponseHeaders().GetHeaders()
	}
	var out []string
	for _, h := range m.GetHeaders() {
		out = append(out, h.GetKey()+"="+string(h.GetRawValue()))
	}
	return out
}

// --- upstream --------------------------------------------------------------------

// captureUpstream records what the upstream receives and answers resp.
type captureUpstream struct {
	mu   sync.Mutex
	got  []*HTTPRequest
	resp *UpstreamResponse
	err  error
	hook func(ctx context.Context, r *HTTPRequest)
}

func (u *captureUpstream) RoundTrip(ctx context.Context, r *HTTPRequest) (*UpstreamResponse, error) {
	if u.hook != nil {
		u.hook(ctx, r)
	}
	u.mu.Lock()
	u.got = append(u.got, r)
	u.mu.Unlock()
	if u.err != nil {
		return nil, u.err
	}
	if u.resp != nil {
		return u.resp, nil
	}
	return &UpstreamResponse{Status: 200, Headers: []Header{{"content-type", "text/plain"}}, Body: []byte("ok")}, nil
}

func (u *captureUpstream) calls() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.got)
}

func (u *captureUpstream) last(t *testing.T) *HTTPRequest {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		t.Fatalf("upstream was not called")
	}
	return u.got[len(u.got)-1]
}

func hget(hs []Header, name string) (string, bool) {
	for _, h := range hs {
		if h.Name == name {
			return h.Value, true
		}
	}
	return "", false
}
