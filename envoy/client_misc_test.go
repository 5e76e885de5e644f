package envoy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// nopProcessor is an ExternalProcessorClient for config-only tests.
type nopProcessor struct{}

func (nopProcessor) Process(context.Context, ...grpc.CallOption) (extprocv3.ExternalProcessor_ProcessClient, error) {
	return nil, errors.New("nopProcessor: no streams")
}

func wrapBool(b bool) *wrapperspb.BoolValue { return wrapperspb.Bool(b) }

// TestConcurrentDo: one Client, many exchanges in parallel, one stream
// each (Envoy's ext_proc: one stream per HTTP request, opened with the first message).
func TestConcurrentDo(t *testing.T) {
	h := newHarness(t, func(st *fakeStream) error {
		return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
			resp := st.passReply(r)
			if reqKind(r) == "request_headers" {
				// Echo the path into a header so cross-talk would show.
				var path string
				for _, hv := range r.GetRequestHeaders().GetHeaders().GetHeaders() {
					if hv.GetKey() == ":path" {
						path = string(hv.GetRawValue())
					}
				}
				resp.GetRequestHeaders().Response.HeaderMutation = mutation(nil, setH("x-path", path))
			}
			return []*extprocv3.ProcessingResponse{resp}
		})
	})
	c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, BUFFERED, NONE, DEF, DEF), MessageTimeout: ms(5000)})
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := fmt.Sprintf("/r/%d", i)
			up := UpstreamFunc(func(_ context.Context, r *HTTPRequest) (*UpstreamResponse, error) {
				if v, _ := hget(r.Headers, "x-path"); v != path || string(r.Body) != path {
					return nil, fmt.Errorf("upstream for %s got x-path %q body %q", path, v, r.Body)
				}
				return &UpstreamResponse{Status: 200}, nil
			})
			resp, err := c.Do(context.Background(), &HTTPRequest{Method: "POST", Path: path, Authority: "h", Body: []byte(path)}, up)
			if err != nil {
				errs <- err
				return
			}
			if resp.Status != 200 {
				errs <- fmt.Errorf("%s: status %d %q", path, resp.Status, resp.Details)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := c.Stats(); s.StreamsStarted != n || s.StreamMsgsSent != 3*n || s.StreamMsgsReceived != 3*n {
		t.Errorf("stats = %+v", s)
	}
}

// TestOnMessageAndStats: the latency hook sees every accepted reply and
// the counters carry Envoy's names (Envoy's ext_proc: the filter's counters).
func TestOnMessageAndStats(t *testing.T) {
	h := newHarness(t, passThrough)
	var mu sync.Mutex
	var kinds []string
	c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, STREAMED, NONE, SEND, DEF)},
		WithOnMessage(func(kind string, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if d < 0 {
				t.Errorf("negative latency for %s", kind)
			}
			kinds = append(kinds, kind)
		}))
	do(t, c, &HTTPRequest{Method: "POST", Path: "/", Authority: "h", BodyChunks: [][]byte{[]byte("a"), []byte("b")},
		Trailers: []Header{{"t", "1"}}, Arrival: ArrivalAfterHeaders}, &captureUpstream{})
	want := []string{"request_headers", "request_body", "request_body", "request_trailers", "response_headers"}
	mu.Lock()
	got := append([]string(nil), kinds...)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("OnMessage kinds = %v, want %v", got, want)
	}
	m := c.Stats().Map()
	if m["streams_started"] != 1 || m["stream_msgs_sent"] != 5 || m["stream_msgs_received"] != 5 || m["streams_closed"] != 1 {
		t.Errorf("stats = %v", m)
	}
}

// TestDynamicMetadata: only receiving namespaces are kept; forwarding
// namespaces are sent in metadata_context, including what the server wrote
// earlier (Envoy's ext_proc: metadata_context is set on every message; dynamic metadata reaches Envoy only for configured receiving namespaces; dynamic metadata needs receiving_namespaces).
func TestDynamicMetadata(t *testing.T) {
	dm, _ := structpb.NewStruct(map[string]any{"ext_proc": map[string]any{"k": "v"}, "dropped": map[string]any{"x": 1.0}})
	tests := []struct {
		name      string
		opts      *extprocfilterv3.MetadataOptions
		wantKept  bool
		wantFwdEP bool
	}{
		{name: "receiving and forwarding", wantKept: true, wantFwdEP: true, opts: &extprocfilterv3.MetadataOptions{
			ReceivingNamespaces:  &extprocfilterv3.MetadataOptions_MetadataNamespaces{Untyped: []string{"ext_proc"}},
			ForwardingNamespaces: &extprocfilterv3.MetadataOptions_MetadataNamespaces{Untyped: []string{"ext_proc", "jwt"}}}},
		{name: "no receiving namespaces drops everything", opts: &extprocfilterv3.MetadataOptions{
			ForwardingNamespaces: &extprocfilterv3.MetadataOptions_MetadataNamespaces{Untyped: []string{"ext_proc", "jwt"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := reqHeadersResp(&extprocv3.CommonResponse{})
			reply.DynamicMetadata = dm
			h := newHarness(t, replyTo("request_headers", reply))
			c := h.client(&extprocfilterv3.ExternalProcessor{MetadataOptions: tc.opts})
			jwt, _ := structpb.NewStruct(map[string]any{"sub": "u"})
			other, _ := structpb.NewStruct(map[string]any{"y": "z"})
			resp := do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h",
				DynamicMetadata: map[string]*structpb.Struct{"jwt": jwt, "other": other}}, &captureUpstream{})
			_, kept := resp.DynamicMetadata["ext_proc"]
			if kept != tc.wantKept || resp.DynamicMetadata["dropped"] != nil {
				t.Errorf("dynamic metadata = %v", resp.DynamicMetadata)
			}
			reqs := h.onlyStream().requests()
			first := reqs[0].GetMetadataContext().GetFilterMetadata()
			if first["jwt"].GetFields()["sub"].GetStringValue() != "u" || first["other"] != nil || first["ext_proc"] != nil {
				t.Errorf("first metadata_context = %v", first)
			}
			second := reqs[1].GetMetadataContext().GetFilterMetadata()
			if got := second["ext_proc"].GetFields()["k"].GetStringValue() == "v"; got != tc.wantFwdEP {
				t.Errorf("response_headers metadata_context = %v", second)
			}
		})
	}
}

// TestHCMHeaders: the optional HCM emulation adds x-forwarded-proto and
// x-request-id before the filter sees the headers.
func TestHCMHeaders(t *testing.T) {
	h := newHarness(t, passThrough)
	c := h.client(nil, WithHCMHeaders())
	up := &captureUpstream{}
	do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h", Scheme: "https"}, up)
	got := headersOf(h.onlyStream().requests()[0])
	if !slices.Contains(got, "x-forwarded-proto=https") {
		t.Errorf("server saw %v", got)
	}
	if id, ok := hget(up.last(t).Headers, "x-request-id"); !ok || len(id) != 36 {
		t.Errorf("x-request-id = %q", id)
	}
}

// TestDoMisuse: errors are returned only for misuse.
func TestDoMisuse(t *testing.T) {
	c, err := NewClientFromProcessor(nopProcessor{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  *HTTPRequest
		up   Upstream
	}{
		{"nil request", nil, &captureUpstream{}},
		{"nil upstream", &HTTPRequest{Method: "GET", Path: "/"}, nil},
		{"no method", &HTTPRequest{Path: "/"}, &captureUpstream{}},
	}
	for _, tc := range tests {
		if _, err := c.Do(context.Background(), tc.req, tc.up); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
	_ = c.Close()
	if _, err := c.Do(context.Background(), &HTTPRequest{Method: "GET", Path: "/"}, &captureUpstream{}); !errors.Is(err, ErrClientClosed) {
		t.Errorf("after Close: err = %v", err)
	}
	if _, err := NewClient(nil, nil); err == nil {
		t.Error("NewClient(nil) succeeded")
	}
}

// TestMisbehavingServerNeverCrashes feeds every processing mode with
// replies drawn (seeded) from a set of malformed, out-of-order and hostile
// messages: each exchange must end with a response (Envoy's ext_proc: every message needs its reply; the
// client turns every violation into Envoy's answer) and nothing may leak.
func TestMisbehavingServerNeverCrashes(t *testing.T) {
	hostile := []func(r *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse{
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return &extprocv3.ProcessingResponse{}
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{}}
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{}}
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{}}
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return reqHeadersResp(&extprocv3.CommonResponse{Status: extprocv3.CommonResponse_CONTINUE_AND_REPLACE, BodyMutation: clearBody(),
				HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{nil, {}}}})
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return reqBodyResp(streamed(nil, true))
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return respBodyResp(&extprocv3.CommonResponse{BodyMutation: bodyMut("zz"), HeaderMutation: mutation([]string{":status"}, setH(":status", "0"))})
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return &extprocv3.ProcessingResponse{OverrideMessageTimeout: durationpb.New(-time.Second)}
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return &extprocv3.ProcessingResponse{ModeOverride: &extprocfilterv3.ProcessingMode{RequestBodyMode: FDS, ResponseBodyMode: PARTIAL},
				Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{}}}
		},
		func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{
				HeaderMutation: mutation(nil, setH("x", "y"))}}}
		},
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	h := newHarness(t, func(st *fakeStream) error {
		return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
			mu.Lock()
			defer mu.Unlock()
			var out []*extprocv3.ProcessingResponse
			for i := rng.IntN(3); i >= 0; i-- {
				if rng.IntN(2) == 0 {
					out = append(out, st.passReply(r))
				} else {
					out = append(out, hostile[rng.IntN(len(hostile))](r))
				}
			}
			return out
		})
	})
	modes := []*extprocfilterv3.ProcessingMode{
		mode(SEND, SEND, NONE, NONE, DEF, DEF),
		mode(SEND, SEND, BUFFERED, BUFFERED, SEND, SEND),
		mode(SEND, SEND, STREAMED, STREAMED, SEND, SEND),
		mode(SEND, SEND, PARTIAL, PARTIAL, DEF, DEF),
		mode(SEND, SEND, FDS, FDS, SEND, SEND),
	}
	for i := 0; i < 60; i++ {
		m := modes[i%len(modes)]
		c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: m, AllowModeOverride: i%2 == 0,
			MessageTimeout: ms(300), FailureModeAllow: i%3 == 0}, WithBufferLimit(4), WithStreamIdleTimeout(2*time.Second))
		req := &HTTPRequest{Method: "POST", Path: "/", Authority: "h", BodyChunks: [][]byte{[]byte("abc"), []byte("def")},
			Trailers: []Header{{"t", "1"}}, Arrival: Arrival(i % 3)}
		up := &captureUpstream{resp: &UpstreamResponse{Status: 200, BodyChunks: [][]byte{[]byte("123"), []byte("45")},
			Trailers: []Header{{"u", "2"}}, Arrival: Arrival((i + 1) % 3)}}
		resp := do(t, c, req, up)
		if resp.Status == 0 && !resp.Reset {
			t.Errorf("exchange %d: empty response %+v", i, resp)
		}
	}
}
