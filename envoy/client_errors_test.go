package envoy

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestMessageTimeout covers the per-message timer, failure_mode_allow on
// expiry and override_message_timeout (Envoy's ext_proc: the per-message timeout (message_timeout, 200 ms by default), re-armed on every message; the local replies the filter sends when it fails closed; the default 200 ms message_timeout fires under load).
// Timeouts are 30–400 ms; servers that must beat an extended timer answer
// after 1.5 s (timer extended to 8 s), those that must miss it answer after
// 1.5 s (timer 300–400 ms).
func TestMessageTimeout(t *testing.T) {
	never := func(st *fakeStream) error { // answers nothing, waits for the client to leave
		st.expect("request_headers")
		st.waitCtx(10 * time.Second)
		return nil
	}
	overrideThenReply := func(overrides ...*durationpb.Duration) func(st *fakeStream) error {
		return func(st *fakeStream) error {
			r := st.expect("request_headers")
			for _, d := range overrides {
				st.send(&extprocv3.ProcessingResponse{OverrideMessageTimeout: d})
			}
			st.waitCtx(1500 * time.Millisecond)
			st.send(st.passReply(r))
			return passThrough(st)
		}
	}
	tests := []struct {
		name        string
		filter      *extprocfilterv3.ExternalProcessor
		handler     func(st *fakeStream) error
		wantStatus  int
		wantLocal   bool
		wantDetails string
		upCalled    bool
		want        Stats
	}{
		{name: "no reply gives 504 (even with status_on_error)",
			filter:     &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(30), StatusOnError: &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable}},
			handler:    never,
			wantStatus: 504, wantLocal: true, wantDetails: "ext_proc_error_per-message_timeout_exceeded",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsClosed: 1, MessageTimeouts: 1}},
		{name: "failure_mode_allow continues unmodified",
			filter:     &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(30), FailureModeAllow: true},
			handler:    never,
			wantStatus: 200, wantDetails: "via_upstream",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsClosed: 1, MessageTimeouts: 1, FailureModeAllowed: 1}},
		{name: "override_message_timeout extends the running timer",
			filter:     &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(300), MaxMessageTimeout: ms(10000)},
			handler:    overrideThenReply(ms(8000)),
			wantStatus: 200, wantDetails: "via_upstream",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 2, StreamMsgsReceived: 2, StreamsClosed: 1, OverrideMessageTimeoutReceived: 1}},
		{name: "override ignored without max_message_timeout",
			filter:     &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(300)},
			handler:    overrideThenReply(ms(8000)),
			wantStatus: 504, wantLocal: true, wantDetails: "ext_proc_error_per-message_timeout_exceeded",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsClosed: 1, MessageTimeouts: 1, OverrideMessageTimeoutIgnored: 1}},
		{name: "override above max_message_timeout ignored",
			filter:     &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(300), MaxMessageTimeout: ms(400)},
			handler:    overrideThenReply(ms(8000)),
			wantStatus: 504, wantLocal: true, wantDetails: "ext_proc_error_per-message_timeout_exceeded",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsClosed: 1, MessageTimeouts: 1, OverrideMessageTimeoutIgnored: 1}},
		{name: "only the first override per call counts",
			filter:     &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(300), MaxMessageTimeout: ms(10000)},
			handler:    overrideThenReply(ms(400), ms(8000)),
			wantStatus: 504, wantLocal: true, wantDetails: "ext_proc_error_per-message_timeout_exceeded",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsClosed: 1, MessageTimeouts: 1,
				OverrideMessageTimeoutReceived: 1, OverrideMessageTimeoutIgnored: 1}},
		{name: "response direction timeout",
			// 300 ms, not 30: the request phase must answer within it even
			// on a loaded machine under the race detector (30 ms made the
			// request direction time out instead).
			filter: &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(300)},
			handler: func(st *fakeStream) error {
				st.send(st.passReply(st.expect("request_headers")))
				st.expect("response_headers")
				st.waitCtx(10 * time.Second)
				return nil
			},
			wantStatus: 504, wantLocal: true, wantDetails: "ext_proc_error_per-message_timeout_exceeded", upCalled: true,
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 2, StreamMsgsReceived: 1, StreamsClosed: 1, MessageTimeouts: 1}},
		{name: "FULL_DUPLEX_STREAMED arms no timer",
			filter: &extprocfilterv3.ExternalProcessor{MessageTimeout: ms(30), ProcessingMode: mode(SEND, SKIP, FDS, NONE, SEND, DEF)},
			handler: func(st *fakeStream) error {
				st.waitCtx(200 * time.Millisecond)
				return passThrough(st)
			},
			wantStatus: 200, wantDetails: "via_upstream",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 2, StreamMsgsReceived: 2, StreamsClosed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.handler)
			c := h.client(tc.filter)
			up := &captureUpstream{}
			resp := do(t, c, &HTTPRequest{Method: "POST", Path: "/", Authority: "h", Body: []byte("b")}, up)
			if resp.Status != tc.wantStatus || resp.Local != tc.wantLocal || resp.Details != tc.wantDetails {
				t.Errorf("response = %d local=%v %q, want %d %v %q", resp.Status, resp.Local, resp.Details, tc.wantStatus, tc.wantLocal, tc.wantDetails)
			}
			if tc.wantLocal && !tc.upCalled && up.calls() != 0 {
				t.Errorf("upstream called")
			}
			if !tc.wantLocal && string(up.last(t).Body) != "b" {
				t.Errorf("upstream body = %q", up.last(t).Body)
			}
			h.onlyStream()
			if got := c.Stats(); got != tc.want {
				t.Errorf("stats:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestServerClose covers the server ending the stream: OK → continue
// unmodified regardless of failure_mode_allow; non-OK → status_on_error
// with gRPC details, or fail-open (Envoy's ext_proc: a server that ends the stream with OK lets the request through unprocessed; a non-OK status fails closed; the local replies the filter sends when it fails closed; failure_mode_allow; returning OK after an internal error lets the request through).
func TestServerClose(t *testing.T) {
	closeAfterHeaders := func(err error) func(st *fakeStream) error {
		return func(st *fakeStream) error {
			st.expect("request_headers")
			return err
		}
	}
	tests := []struct {
		name        string
		filter      *extprocfilterv3.ExternalProcessor
		version     Version
		handler     func(st *fakeStream) error
		req         *HTTPRequest
		wantStatus  int
		wantDetails string
		wantUpBody  string
		want        Stats
	}{
		{name: "OK close continues unmodified", handler: closeAfterHeaders(nil),
			wantStatus: 200, wantDetails: "via_upstream", wantUpBody: "b",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsClosed: 1}},
		{name: "non-OK close fails closed with gRPC details", handler: closeAfterHeaders(status.Error(codes.Internal, "boom it")),
			wantStatus: 500, wantDetails: "ext_proc_error_gRPC_error_13{boom_it}",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsFailed: 1}},
		{name: "status_on_error (1.36+)", handler: closeAfterHeaders(status.Error(codes.Unavailable, "x")),
			filter:     &extprocfilterv3.ExternalProcessor{StatusOnError: &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable}},
			wantStatus: 503, wantDetails: "ext_proc_error_gRPC_error_14{x}",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsFailed: 1}},
		{name: "1.35: fixed 500, no message in details", handler: closeAfterHeaders(status.Error(codes.Unavailable, "x")),
			version:    Version{1, 35},
			filter:     &extprocfilterv3.ExternalProcessor{StatusOnError: &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable}},
			wantStatus: 500, wantDetails: "ext_proc_error_gRPC_error_14",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsFailed: 1}},
		{name: "non-OK close with failure_mode_allow continues", handler: closeAfterHeaders(status.Error(codes.Internal, "boom")),
			filter:     &extprocfilterv3.ExternalProcessor{FailureModeAllow: true},
			wantStatus: 200, wantDetails: "via_upstream", wantUpBody: "b",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 1, StreamsFailed: 1, StreamsClosed: 1, FailureModeAllowed: 1}},
		{name: "OK close releases queued STREAMED chunks",
			filter: &extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, STREAMED, NONE, DEF, DEF)},
			req: &HTTPRequest{Method: "POST", Path: "/", Authority: "h", BodyChunks: [][]byte{[]byte("A"), []byte("B")},
				Arrival: ArrivalAfterHeaders},
			handler: func(st *fakeStream) error {
				st.send(st.passReply(st.expect("request_headers")))
				st.expect("request_body")
				st.expect("request_body")
				return nil
			},
			wantStatus: 200, wantDetails: "via_upstream", wantUpBody: "AB",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 3, StreamMsgsReceived: 1, StreamsClosed: 1}},
		{name: "FULL_DUPLEX_STREAMED body sent: failure_mode_allow no longer applies (1.36+)",
			filter: &extprocfilterv3.ExternalProcessor{FailureModeAllow: true, ProcessingMode: mode(SEND, SKIP, FDS, NONE, SEND, DEF)},
			handler: func(st *fakeStream) error {
				st.expect("request_headers")
				st.expect("request_body")
				return status.Error(codes.Internal, "fds")
			},
			wantStatus: 500, wantDetails: "ext_proc_error_gRPC_error_13{fds}",
			want: Stats{StreamsStarted: 1, StreamMsgsSent: 2, StreamsFailed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.handler)
			v := tc.version
			if v == (Version{}) {
				v = DefaultVersion
			}
			c := h.client(tc.filter, WithVersion(v))
			req := tc.req
			if req == nil {
				req = &HTTPRequest{Method: "POST", Path: "/", Authority: "h", Headers: []Header{{"x-a", "1"}}, Body: []byte("b")}
			}
			up := &captureUpstream{}
			resp := do(t, c, req, up)
			if resp.Status != tc.wantStatus || resp.Details != tc.wantDetails {
				t.Errorf("response = %d %q, want %d %q", resp.Status, resp.Details, tc.wantStatus, tc.wantDetails)
			}
			if tc.wantUpBody != "" {
				if got := up.last(t); string(got.Body) != tc.wantUpBody || !slices.Equal(got.Headers, req.Headers) {
					t.Errorf("upstream got %v %q", got.Headers, got.Body)
				}
			} else if up.calls() != 0 {
				t.Errorf("upstream called")
			}
			if got := c.Stats(); got != tc.want {
				t.Errorf("stats:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestSpurious covers replies Envoy did not expect (Envoy's ext_proc: which reply Envoy accepts in each state; replies Envoy did not expect (spurious) fail the request; a FULL_DUPLEX_STREAMED server must answer with streamed_response, not body or clear_body; a reply of the wrong type or direction is spurious: Envoy up to 1.34 let the request through, 1.35 and later answer 500).
func TestSpurious(t *testing.T) {
	answer := func(kind string, rs ...*extprocv3.ProcessingResponse) func(*fakeStream) error {
		return replyTo(kind, rs...)
	}
	wrongDir := answer("request_headers", respHeadersResp(&extprocv3.CommonResponse{}))
	tests := []struct {
		name        string
		filter      *extprocfilterv3.ExternalProcessor
		version     Version
		handler     func(*fakeStream) error
		req         *HTTPRequest
		wantStatus  int
		wantDetails string
		wantFMA     uint64
	}{
		{name: "wrong direction fails closed (1.35+)", handler: wrongDir, wantStatus: 500, wantDetails: "spurious_message"},
		{name: "wrong direction passes on 1.34", version: Version{1, 34}, handler: wrongDir, wantStatus: 200, wantDetails: "via_upstream"},
		{name: "failure_mode_allow passes", filter: &extprocfilterv3.ExternalProcessor{FailureModeAllow: true},
			handler: wrongDir, wantStatus: 200, wantDetails: "via_upstream", wantFMA: 1},
		{name: "empty ProcessingResponse", handler: answer("request_headers", &extprocv3.ProcessingResponse{}),
			wantStatus: 500, wantDetails: "unhandled_message"},
		{name: "mode_override alone is not a reply", handler: answer("request_headers", &extprocv3.ProcessingResponse{
			ModeOverride: &extprocfilterv3.ProcessingMode{}}),
			filter:     &extprocfilterv3.ExternalProcessor{AllowModeOverride: true},
			wantStatus: 500, wantDetails: "unhandled_message"},
		{name: "streamed_response outside FULL_DUPLEX_STREAMED",
			filter:     &extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SKIP, STREAMED, NONE, DEF, DEF)},
			handler:    answer("request_body", reqBodyResp(streamed([]byte("x"), true))),
			req:        post2(ArrivalAfterHeaders), // StreamedBodyCallback (whole-body chunks use BUFFERED semantics)
			wantStatus: 500, wantDetails: "spurious_message:_streamed_response_is_received_while_body_mode__is_not_FULL_DUPLEX_STREAMED"},
		{name: "plain body reply in FULL_DUPLEX_STREAMED",
			filter:     &extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SKIP, FDS, NONE, SEND, DEF)},
			handler:    answer("request_body", reqBodyResp(&extprocv3.CommonResponse{BodyMutation: bodyMut("x")})),
			wantStatus: 500, wantDetails: "spurious_message:_Normal_body_mutation_response_is_received_while_body_mode__is_FULL_DUPLEX_STREAMED"},
		{name: "FULL_DUPLEX_STREAMED body reply before the headers reply",
			filter: &extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SKIP, FDS, NONE, SEND, DEF)},
			handler: func(st *fakeStream) error {
				st.expect("request_headers")
				b := st.expect("request_body")
				st.send(reqBodyResp(streamed(b.GetRequestBody().GetBody(), true)))
				return passThrough(st)
			},
			wantStatus: 500, wantDetails: "spurious_message"},
		{name: "trailers reply without a trailers call", handler: answer("request_headers", reqTrailersResp(nil)),
			wantStatus: 500, wantDetails: "spurious_message"},
		{name: "body reply while waiting for headers", handler: answer("request_headers", reqBodyResp(&extprocv3.CommonResponse{})),
			wantStatus: 500, wantDetails: "spurious_message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.handler)
			v := tc.version
			if v == (Version{}) {
				v = DefaultVersion
			}
			c := h.client(tc.filter, WithVersion(v))
			req := tc.req
			if req == nil {
				req = &HTTPRequest{Method: "POST", Path: "/", Authority: "h", Body: []byte("b")}
			}
			resp := do(t, c, req, &captureUpstream{})
			if resp.Status != tc.wantStatus || resp.Details != tc.wantDetails {
				t.Errorf("response = %d %q, want %d %q", resp.Status, resp.Details, tc.wantStatus, tc.wantDetails)
			}
			if s := c.Stats(); s.SpuriousMsgsReceived != 1 || s.FailureModeAllowed != tc.wantFMA {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

// TestStartFailure: a stream that cannot be opened is a gRPC error
// (Envoy's ext_proc: one stream per HTTP request, opened with the first message; the local replies the filter sends when it fails closed).
func TestStartFailure(t *testing.T) {
	ign := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ign) })
	conn, err := grpc.NewClient("passthrough:///down",
		grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return nil, errors.New("connection refused") }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	tests := []struct {
		name       string
		fma        bool
		wantStatus int
		wantPrefix string
		want       Stats
	}{
		{"fail closed", false, 500, "ext_proc_error_gRPC_error_14{", Stats{StreamsFailed: 1}},
		{"fail open", true, 200, "via_upstream", Stats{StreamsFailed: 1, StreamsClosed: 1, FailureModeAllowed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(conn, NewFilterConfig(&extprocfilterv3.ExternalProcessor{FailureModeAllow: tc.fma}))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			resp := do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, &captureUpstream{})
			if resp.Status != tc.wantStatus || !strings.HasPrefix(resp.Details, tc.wantPrefix) {
				t.Errorf("response = %d %q", resp.Status, resp.Details)
			}
			if got := c.Stats(); got != tc.want {
				t.Errorf("stats = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestBufferLimit: BUFFERED bodies over the buffer limit get Envoy's
// filter-manager replies; streaming modes do not (Envoy's ext_proc: what Envoy sends and expects in each body mode; a BUFFERED body over the buffer limit (1 MiB) fails with 413 or 500, and grpc-go's 4 MiB message limit needs raising too).
func TestBufferLimit(t *testing.T) {
	big := []byte("0123456789")
	tests := []struct {
		name        string
		pm          *extprocfilterv3.ProcessingMode
		override    *extprocfilterv3.ProcessingMode // mode_override on the request headers reply
		resp        *UpstreamResponse
		wantStatus  int
		wantDetails string
		wantSeq     []string
	}{
		{name: "BUFFERED request over the limit gets 413, through response processing",
			pm:         mode(SEND, SEND, BUFFERED, NONE, DEF, DEF),
			wantStatus: 413, wantDetails: "request_payload_too_large",
			wantSeq: []string{"request_headers eos=false", "response_headers eos=false"}},
		{name: "BUFFERED response over the limit gets 500",
			pm:         mode(SEND, SEND, NONE, BUFFERED, DEF, DEF),
			resp:       &UpstreamResponse{Status: 200, Body: big},
			wantStatus: 500, wantDetails: "response_payload_too_large",
			wantSeq: []string{"request_headers eos=false", "response_headers eos=false"}},
		{name: "a body over the limit that came during the headers call, then mode_override BUFFERED, gets 413",
			override:   &extprocfilterv3.ProcessingMode{RequestBodyMode: BUFFERED},
			wantStatus: 413, wantDetails: "request_payload_too_large",
			wantSeq: []string{"request_headers eos=false", "response_headers eos=false"}},
		{name: "STREAMED request is not limited",
			pm:         mode(SEND, SEND, STREAMED, NONE, DEF, DEF),
			wantStatus: 200, wantDetails: "via_upstream",
			wantSeq: []string{"request_headers eos=false", `request_body "0123456789" eos=true`, "response_headers eos=false"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			handler := passThrough
			if tc.override != nil {
				handler = func(st *fakeStream) error {
					return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
						resp := st.passReply(r)
						if reqKind(r) == "request_headers" {
							resp.ModeOverride = tc.override
						}
						return []*extprocv3.ProcessingResponse{resp}
					})
				}
			}
			h := newHarness(t, handler)
			c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: tc.pm, AllowModeOverride: tc.override != nil}, WithBufferLimit(8))
			resp := do(t, c, &HTTPRequest{Method: "POST", Path: "/", Authority: "h", BodyChunks: [][]byte{big[:5], big[5:]}}, &captureUpstream{resp: tc.resp})
			if resp.Status != tc.wantStatus || resp.Details != tc.wantDetails {
				t.Errorf("response = %d %q, want %d %q", resp.Status, resp.Details, tc.wantStatus, tc.wantDetails)
			}
			// The 413 runs through response processing: the server sees its
			// headers. What the decoding state sends after the local reply
			// is not asserted.
			if got := h.onlyStream().kinds(); len(got) < len(tc.wantSeq) || !slices.Equal(got[:len(tc.wantSeq)], tc.wantSeq) {
				t.Errorf("sequence = %q, want prefix %q", got, tc.wantSeq)
			}
			if reqs := h.onlyStream().requests(); tc.wantStatus == 413 && (len(reqs) < 2 || !slices.Contains(headersOf(reqs[1]), ":status=413")) {
				t.Errorf("server did not see the 413: %d requests", len(reqs))
			}
			// A 413 goes through the filter chain, so the client waits for
			// the reply to every message it sent: a second local reply for
			// the same overflow (on the late request headers reply) used
			// to finish the exchange without waiting for the 413's
			// response headers reply, racing the server's Recv of them.
			// (The 500 for a response is a direct local reply that ends
			// the stream; its response headers reply is not awaited.)
			if got := c.Stats().StreamMsgsReceived; tc.wantStatus == 413 && got != uint64(len(tc.wantSeq)) {
				t.Errorf("stream_msgs_received = %d, want %d", got, len(tc.wantSeq))
			}
		})
	}
}

// TestModeOverride covers when mode_override is honoured and how the new
// mode is computed (Envoy's ext_proc: mode_override is honoured only with allow_mode_override and only in a headers reply).
func TestModeOverride(t *testing.T) {
	withOverride := func(kind string, mo *extprocfilterv3.ProcessingMode) func(*fakeStream) error {
		return func(st *fakeStream) error {
			return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
				resp := st.passReply(r)
				if reqKind(r) == kind {
					resp.ModeOverride = mo
				}
				return []*extprocv3.ProcessingResponse{resp}
			})
		}
	}
	toBuffered := &extprocfilterv3.ProcessingMode{RequestBodyMode: BUFFERED}
	allowed := func(f *extprocfilterv3.ExternalProcessor) *extprocfilterv3.ExternalProcessor {
		f.AllowModeOverride = true
		return f
	}
	tests := []struct {
		name    string
		filter  *extprocfilterv3.ExternalProcessor
		version Version
		handler func(*fakeStream) error
		want    []string
		wantCL  bool
	}{
		{name: "accepted on the headers reply", filter: allowed(&extprocfilterv3.ExternalProcessor{}),
			handler: withOverride("request_headers", toBuffered),
			want:    []string{"request_headers eos=false", `request_body "AB" eos=true`, "response_headers eos=false"}, wantCL: true},
		{name: "ignored without allow_mode_override", filter: &extprocfilterv3.ExternalProcessor{},
			handler: withOverride("request_headers", toBuffered),
			want:    []string{"request_headers eos=false", "response_headers eos=false"}, wantCL: true},
		{name: "ignored with send_body_without_waiting_for_header_response",
			filter:  allowed(&extprocfilterv3.ExternalProcessor{SendBodyWithoutWaitingForHeaderResponse: true}),
			handler: withOverride("request_headers", toBuffered),
			want:    []string{"request_headers eos=false", "response_headers eos=false"}, wantCL: true},
		{name: "ignored when the filter is configured FULL_DUPLEX_STREAMED (1.36+)",
			filter:  allowed(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, NONE, FDS, DEF, SEND)}),
			handler: withOverride("request_headers", &extprocfilterv3.ProcessingMode{RequestBodyMode: BUFFERED, ResponseBodyMode: FDS}),
			want:    []string{"request_headers eos=false", "response_headers eos=false", `response_body "ok" eos=true`}, wantCL: true},
		{name: "allowed_override_modes match", filter: allowed(&extprocfilterv3.ExternalProcessor{
			AllowedOverrideModes: []*extprocfilterv3.ProcessingMode{{RequestBodyMode: STREAMED}, {RequestBodyMode: BUFFERED}}}),
			handler: withOverride("request_headers", toBuffered),
			want:    []string{"request_headers eos=false", `request_body "AB" eos=true`, "response_headers eos=false"}, wantCL: true},
		{name: "allowed_override_modes mismatch", filter: allowed(&extprocfilterv3.ExternalProcessor{
			AllowedOverrideModes: []*extprocfilterv3.ProcessingMode{{RequestBodyMode: STREAMED}}}),
			handler: withOverride("request_headers", toBuffered),
			want:    []string{"request_headers eos=false", "response_headers eos=false"}, wantCL: true},
		{name: "body modes are absolute: unset means NONE",
			filter:  allowed(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, BUFFERED, NONE, DEF, DEF)}),
			handler: withOverride("request_headers", &extprocfilterv3.ProcessingMode{ResponseHeaderMode: SKIP}),
			want:    []string{"request_headers eos=false"}, wantCL: true},
		{name: "ignored on a body reply (no headers reply pending)",
			filter:  allowed(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, STREAMED, NONE, DEF, DEF)}),
			handler: withOverride("request_body", &extprocfilterv3.ProcessingMode{ResponseBodyMode: BUFFERED}),
			want:    []string{"request_headers eos=false", `request_body "AB" eos=true`, "response_headers eos=false"}},
		{name: "content-length kept when overriding NONE to STREAMED",
			filter:  allowed(&extprocfilterv3.ExternalProcessor{}),
			handler: withOverride("request_headers", &extprocfilterv3.ProcessingMode{RequestBodyMode: STREAMED}),
			want:    []string{"request_headers eos=false", `request_body "AB" eos=true`, "response_headers eos=false"}, wantCL: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.handler)
			c := h.client(tc.filter)
			up := &captureUpstream{}
			resp := do(t, c, post2(ArrivalImmediate), up)
			if resp.Status != 200 {
				t.Fatalf("response = %d %q", resp.Status, resp.Details)
			}
			if got := h.onlyStream().kinds(); !slices.Equal(got, tc.want) {
				t.Errorf("sequence = %q, want %q", got, tc.want)
			}
			if _, ok := hget(up.last(t).Headers, "content-length"); ok != tc.wantCL {
				t.Errorf("upstream content-length present = %v, want %v", ok, tc.wantCL)
			}
		})
	}
}

// TestEarlyClose: 1.37 closes the stream right after the last expected
// response; earlier releases keep it until the response headers
// (Envoy's ext_proc: Envoy ends a stream by half-closing and then cancelling it; a client closes by half-closing, then cancelling). The server sees the end as EOF/Canceled.
func TestEarlyClose(t *testing.T) {
	tests := []struct {
		version       Version
		closedAtRoute bool
	}{{Version{1, 37}, true}, {Version{1, 36}, false}}
	for _, tc := range tests {
		t.Run(tc.version.String(), func(t *testing.T) {
			h := newHarness(t, passThrough)
			c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SKIP, NONE, NONE, DEF, DEF)}, WithVersion(tc.version))
			closedWhenUpstreamCalled := false
			up := &captureUpstream{hook: func(context.Context, *HTTPRequest) {
				ss := h.streams()
				if len(ss) != 1 {
					return
				}
				select {
				case <-ss[0].ended:
					closedWhenUpstreamCalled = true
				case <-time.After(300 * time.Millisecond):
				}
			}}
			do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, up)
			if closedWhenUpstreamCalled != tc.closedAtRoute {
				t.Errorf("stream closed before the upstream call = %v, want %v", closedWhenUpstreamCalled, tc.closedAtRoute)
			}
			st := h.onlyStream()
			if code := status.Code(st.endErr); !errors.Is(st.endErr, io.EOF) && code != codes.Canceled {
				t.Errorf("server saw the stream end with %v, want EOF or Canceled", st.endErr)
			}
			if s := c.Stats(); s.StreamsClosed != 1 {
				t.Errorf("streams_closed = %d", s.StreamsClosed)
			}
		})
	}
}

// TestGracefulClose: with the graceful-close knob the client half-closes
// and waits, so the server sees EOF and ends the RPC itself (Envoy ends a stream by half-closing and then cancelling it).
func TestGracefulClose(t *testing.T) {
	h := newHarness(t, passThrough)
	c := h.client(nil, WithGracefulClose(2*time.Second))
	do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, &captureUpstream{})
	if st := h.onlyStream(); !errors.Is(st.endErr, io.EOF) {
		t.Errorf("server saw %v, want io.EOF", st.endErr)
	}
}

// TestUpstreamFailure: a failed upstream is the router's 503 local reply,
// which does go through response processing (Envoy's ext_proc: response_headers are sent also for a local reply the router makes; how an Envoy-emulating client behaves
// step 10).
func TestUpstreamFailure(t *testing.T) {
	h := newHarness(t, replyTo("response_headers", respHeadersResp(&extprocv3.CommonResponse{HeaderMutation: mutation(nil, setH("x-seen", "1"))})))
	c := h.client(nil)
	resp := do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, &captureUpstream{err: errors.New("dial tcp: refused")})
	if resp.Status != 503 || !resp.Local || resp.Details != "upstream_reset_before_response_started{connection_failure}" {
		t.Errorf("response = %d local=%v %q", resp.Status, resp.Local, resp.Details)
	}
	if v, _ := hget(resp.Headers, "x-seen"); v != "1" {
		t.Errorf("the server's mutation of the 503 is missing: %v", resp.Headers)
	}
	if got := h.onlyStream().requests(); len(got) != 2 || !slices.Contains(headersOf(got[1]), ":status=503") {
		t.Errorf("server did not see the 503 response headers: %v", h.onlyStream().kinds())
	}
}

// TestStreamIdleTimeout: with FULL_DUPLEX_STREAMED there is no message
// timer, so a silent server is only ended by the HCM idle timeout (FULL_DUPLEX_STREAMED needs trailer mode SEND).
func TestStreamIdleTimeout(t *testing.T) {
	h := newHarness(t, func(st *fakeStream) error {
		_ = st.drain()
		return nil
	})
	c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SKIP, FDS, NONE, SEND, DEF)},
		WithStreamIdleTimeout(100*time.Millisecond))
	resp := do(t, c, post2(ArrivalImmediate), &captureUpstream{})
	if resp.Status != 408 || resp.Details != "stream_idle_timeout" || string(resp.Body) != "stream timeout" {
		t.Errorf("response = %d %q %q", resp.Status, resp.Details, resp.Body)
	}
}

// TestContextCancel: Do returns the context error and leaks nothing.
func TestContextCancel(t *testing.T) {
	h := newHarness(t, func(st *fakeStream) error {
		st.expect("request_headers")
		st.waitCtx(10 * time.Second)
		return nil
	})
	c := h.client(&extprocfilterv3.ExternalProcessor{MessageTimeout: ms(10000)})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, &HTTPRequest{Method: "GET", Path: "/"}, &captureUpstream{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}
