package envoy

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

func post2(arrival Arrival) *HTTPRequest {
	return &HTTPRequest{Method: "POST", Scheme: "http", Authority: "example.com", Path: "/upload",
		Headers:    []Header{{"content-type", "text/plain"}, {"content-length", "2"}},
		BodyChunks: [][]byte{[]byte("A"), []byte("B")}, Arrival: arrival}
}

// TestCanonicalSequences checks the exact ProcessingRequest sequence per
// processing mode against a pass-through server (Envoy's ext_proc: the message sequence of each processing mode; what Envoy sends and expects in each body mode; trailers are sent only in mode SEND and only when the message has them; how an Envoy-emulating client behaves).
func TestCanonicalSequences(t *testing.T) {
	trailers := []Header{{"x-t", "1"}}
	tests := []struct {
		name        string
		pm          *extprocfilterv3.ProcessingMode
		sbw         bool // send_body_without_waiting_for_header_response
		opts        []Option
		req         *HTTPRequest
		resp        *UpstreamResponse
		want        []string
		wantUpBody  string
		wantUpTrail []Header
	}{
		{
			// the message sequence of each processing mode "Default mode": headers only, both directions.
			name: "default mode POST",
			req:  post2(ArrivalImmediate),
			want: []string{"request_headers eos=false", "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			// headers are sent as raw_value with lower-case keys, pseudo-headers first: end_of_stream=true iff the headers end the message.
			name: "GET without body",
			req:  &HTTPRequest{Method: "GET", Path: "/", Authority: "h"},
			want: []string{"request_headers eos=true", "response_headers eos=false"},
		},
		{
			// the message sequence of each processing mode "BUFFERED request": one message with the whole body.
			name: "BUFFERED request",
			pm:   mode(SEND, SEND, BUFFERED, NONE, DEF, DEF),
			req:  post2(ArrivalImmediate),
			want: []string{"request_headers eos=false", `request_body "AB" eos=true`, "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			// the message sequence of each processing mode STREAMED, data before the headers reply: one chunk.
			name: "STREAMED request data before headers reply",
			pm:   mode(SEND, SEND, STREAMED, NONE, DEF, DEF),
			req:  post2(ArrivalImmediate),
			want: []string{"request_headers eos=false", `request_body "AB" eos=true`, "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			// the message sequence of each processing mode STREAMED, headers reply before data: one message per chunk.
			name: "STREAMED request data after headers reply",
			pm:   mode(SEND, SEND, STREAMED, NONE, DEF, DEF),
			req:  post2(ArrivalAfterHeaders),
			want: []string{"request_headers eos=false", `request_body "A" eos=false`, `request_body "B" eos=true`, "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			// what Envoy sends and expects in each body mode STREAMED with one message in flight at a time.
			name: "STREAMED request lockstep",
			pm:   mode(SEND, SEND, STREAMED, NONE, DEF, DEF),
			req:  post2(ArrivalLockstep),
			want: []string{"request_headers eos=false", `request_body "A" eos=false`, `request_body "B" eos=true`, "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			// the message sequence of each processing mode FDS: chunks sent without waiting for the headers reply;
			// the upstream gets what the server streams back.
			name: "FULL_DUPLEX_STREAMED request",
			pm:   mode(SEND, SEND, FDS, NONE, SEND, DEF),
			req:  post2(ArrivalImmediate),
			want: []string{"request_headers eos=false", `request_body "A" eos=false`, `request_body "B" eos=true`, "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			// the message sequence of each processing mode FDS with trailers: bodies eos=false, trailers sent at once,
			// the TrailersResponse ends the direction.
			name: "FULL_DUPLEX_STREAMED request with trailers",
			pm:   mode(SEND, SEND, FDS, NONE, SEND, DEF),
			req: &HTTPRequest{Method: "POST", Path: "/t", Authority: "h", BodyChunks: [][]byte{[]byte("A"), []byte("B")},
				Trailers: trailers},
			want: []string{"request_headers eos=false", `request_body "A" eos=false`, `request_body "B" eos=false`,
				"request_trailers x-t=1", "response_headers eos=false"},
			wantUpBody: "AB", wantUpTrail: trailers,
		},
		{
			// what Envoy sends and expects in each body mode FDS response direction.
			name: "FULL_DUPLEX_STREAMED response",
			pm:   mode(SEND, SEND, NONE, FDS, DEF, SEND),
			req:  &HTTPRequest{Method: "GET", Path: "/", Authority: "h"},
			resp: &UpstreamResponse{Status: 200, BodyChunks: [][]byte{[]byte("x"), []byte("y")}},
			want: []string{"request_headers eos=true", "response_headers eos=false", `response_body "x" eos=false`, `response_body "y" eos=true`},
		},
		{
			// send_body_without_waiting_for_header_response: STREAMED chunks go out while the headers reply is pending.
			name: "STREAMED with send_body_without_waiting_for_header_response",
			pm:   mode(SEND, SEND, STREAMED, NONE, DEF, DEF),
			sbw:  true,
			req:  post2(ArrivalImmediate),
			want: []string{"request_headers eos=false", `request_body "A" eos=false`, `request_body "B" eos=true`, "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			// the message sequence of each processing mode trailers: the last body message has eos=false, then trailers.
			name: "STREAMED request with trailers SEND",
			pm:   mode(SEND, SEND, STREAMED, NONE, SEND, DEF),
			req: &HTTPRequest{Method: "POST", Path: "/t", Authority: "h", BodyChunks: [][]byte{[]byte("A"), []byte("B")},
				Trailers: trailers, Arrival: ArrivalAfterHeaders},
			want: []string{"request_headers eos=false", `request_body "A" eos=false`, `request_body "B" eos=false`,
				"request_trailers x-t=1", "response_headers eos=false"},
			wantUpBody: "AB", wantUpTrail: trailers,
		},
		{
			// what Envoy sends and expects in each body mode BUFFERED + trailers: body eos=false, trailers after the body reply.
			name: "BUFFERED request with trailers SEND",
			pm:   mode(SEND, SEND, BUFFERED, NONE, SEND, DEF),
			req: &HTTPRequest{Method: "POST", Path: "/t", Authority: "h", BodyChunks: [][]byte{[]byte("A"), []byte("B")},
				Trailers: trailers},
			want:       []string{"request_headers eos=false", `request_body "AB" eos=false`, "request_trailers x-t=1", "response_headers eos=false"},
			wantUpBody: "AB", wantUpTrail: trailers,
		},
		{
			// trailers are sent only in mode SEND and only when the message has them: trailers SKIP → never sent, but still forwarded.
			name: "STREAMED request with trailers SKIP",
			pm:   mode(SEND, SEND, STREAMED, NONE, SKIP, DEF),
			req: &HTTPRequest{Method: "POST", Path: "/t", Authority: "h", BodyChunks: [][]byte{[]byte("A")},
				Trailers: trailers, Arrival: ArrivalAfterHeaders},
			want:       []string{"request_headers eos=false", `request_body "A" eos=false`, "response_headers eos=false"},
			wantUpBody: "A", wantUpTrail: trailers,
		},
		{
			// what Envoy sends and expects in each body mode BUFFERED_PARTIAL: sent as soon as the queue exceeds the
			// limit (eos=false); later data passes unmodified.
			name: "BUFFERED_PARTIAL over the limit",
			pm:   mode(SEND, SEND, PARTIAL, NONE, DEF, DEF),
			opts: []Option{WithBufferLimit(4)},
			req: &HTTPRequest{Method: "POST", Path: "/p", Authority: "h",
				BodyChunks: [][]byte{[]byte("abc"), []byte("def"), []byte("gh")}, Arrival: ArrivalAfterHeaders},
			want:       []string{"request_headers eos=false", `request_body "abcdef" eos=false`, "response_headers eos=false"},
			wantUpBody: "abcdefgh",
		},
		{
			// what Envoy sends and expects in each body mode BUFFERED_PARTIAL under the limit behaves like BUFFERED.
			name: "BUFFERED_PARTIAL under the limit",
			pm:   mode(SEND, SEND, PARTIAL, NONE, DEF, DEF),
			req:  post2(ArrivalAfterHeaders),
			want: []string{"request_headers eos=false", `request_body "AB" eos=true`, "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			// what Envoy sends and expects in each body mode response direction is symmetric.
			name: "BUFFERED response",
			pm:   mode(SEND, SEND, NONE, BUFFERED, DEF, DEF),
			req:  &HTTPRequest{Method: "GET", Path: "/", Authority: "h"},
			want: []string{"request_headers eos=true", "response_headers eos=false", `response_body "ok" eos=true`},
		},
		{
			name: "STREAMED response chunks after headers reply",
			pm:   mode(SEND, SEND, NONE, STREAMED, DEF, DEF),
			req:  &HTTPRequest{Method: "GET", Path: "/", Authority: "h"},
			resp: &UpstreamResponse{Status: 200, BodyChunks: [][]byte{[]byte("x"), []byte("y")}, Arrival: ArrivalAfterHeaders},
			want: []string{"request_headers eos=true", "response_headers eos=false", `response_body "x" eos=false`, `response_body "y" eos=true`},
		},
		{
			// one stream per HTTP request, opened with the first message: with request headers SKIP the stream opens at the body.
			name: "request headers SKIP, BUFFERED body",
			pm:   mode(SKIP, SEND, BUFFERED, NONE, DEF, DEF),
			req:  post2(ArrivalImmediate),
			want: []string{`request_body "AB" eos=true`, "response_headers eos=false"}, wantUpBody: "AB",
		},
		{
			name: "response trailers SEND",
			pm:   mode(SEND, SEND, NONE, NONE, DEF, SEND),
			req:  &HTTPRequest{Method: "GET", Path: "/", Authority: "h"},
			resp: &UpstreamResponse{Status: 200, Body: []byte("z"), Trailers: []Header{{"grpc-status", "0"}}},
			want: []string{"request_headers eos=true", "response_headers eos=false", "response_trailers grpc-status=0"},
		},
		{
			// one stream per HTTP request, opened with the first message: nothing to send → no stream at all.
			name: "everything SKIP",
			pm:   mode(SKIP, SKIP, NONE, NONE, SKIP, SKIP),
			req:  post2(ArrivalImmediate),
			want: nil, wantUpBody: "AB",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, passThrough)
			c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: tc.pm, MessageTimeout: ms(2000),
				SendBodyWithoutWaitingForHeaderResponse: tc.sbw}, tc.opts...)
			up := &captureUpstream{resp: tc.resp}
			resp := do(t, c, tc.req, up)
			if resp.Status != 200 || resp.Local {
				t.Fatalf("response = %d local=%v details=%q", resp.Status, resp.Local, resp.Details)
			}
			var got []string
			if tc.want != nil {
				got = h.onlyStream().kinds()
			} else if n := len(h.streams()); n != 0 {
				t.Fatalf("want no stream, got %d", n)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("sequence:\n got %q\nwant %q", got, tc.want)
			}
			fwd := up.last(t)
			if string(fwd.Body) != tc.wantUpBody {
				t.Errorf("upstream body = %q, want %q", fwd.Body, tc.wantUpBody)
			}
			if !reflect.DeepEqual(fwd.Trailers, tc.wantUpTrail) {
				t.Errorf("upstream trailers = %v, want %v", fwd.Trailers, tc.wantUpTrail)
			}
			wantBody := "ok"
			if tc.resp != nil {
				wantBody = string(tc.resp.Body)
				for _, c := range tc.resp.BodyChunks {
					wantBody += string(c)
				}
			}
			if string(resp.Body) != wantBody {
				t.Errorf("response body = %q, want %q", resp.Body, wantBody)
			}
		})
	}
}

// TestMessageEncoding checks how messages are built (Envoy's ext_proc: the fields of a ProcessingRequest; headers are sent as raw_value with lower-case keys, pseudo-headers first; how an Envoy-emulating client behaves): raw_value only, lower-case keys, pseudo-headers first,
// metadata_context on every message, protocol_config on the first message
// only (1.34+).
func TestMessageEncoding(t *testing.T) {
	tests := []struct {
		name       string
		version    Version
		wantConfig bool
	}{
		{"1.37 sends protocol_config", Version{1, 37}, true},
		{"1.34 sends protocol_config", Version{1, 34}, true},
		{"1.33 has no protocol_config", Version{1, 33}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, passThrough)
			c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, BUFFERED, STREAMED, DEF, DEF)},
				WithVersion(tc.version))
			req := &HTTPRequest{Method: "POST", Scheme: "https", Authority: "api.example.com", Path: "/a?b=1",
				Headers: []Header{{"X-Mixed-Case", "V1"}, {"accept", "*/*"}, {"accept", "text/html"}}, Body: []byte("hi")}
			do(t, c, req, &captureUpstream{resp: &UpstreamResponse{Status: 201, Headers: []Header{{"Server", "up"}}, Body: []byte("r")}})
			reqs := h.onlyStream().requests()
			if len(reqs) != 4 {
				t.Fatalf("want 4 messages, got %v", h.onlyStream().kinds())
			}
			for i, r := range reqs {
				if r.GetMetadataContext() == nil {
					t.Errorf("message %d (%s) has no metadata_context", i, reqKind(r))
				}
				if (r.GetProtocolConfig() != nil) != (i == 0 && tc.wantConfig) {
					t.Errorf("message %d (%s): protocol_config = %v", i, reqKind(r), r.GetProtocolConfig())
				}
				if r.GetObservabilityMode() {
					t.Errorf("message %d: observability_mode set", i)
				}
			}
			if tc.wantConfig {
				pc := reqs[0].GetProtocolConfig()
				if pc.GetRequestBodyMode() != BUFFERED || pc.GetResponseBodyMode() != STREAMED || pc.GetSendBodyWithoutWaitingForHeaderResponse() {
					t.Errorf("protocol_config = %v", pc)
				}
			}
			wantReq := []string{":authority=api.example.com", ":path=/a?b=1", ":method=POST", ":scheme=https",
				"x-mixed-case=V1", "accept=*/*", "accept=text/html"}
			if got := headersOf(reqs[0]); !slices.Equal(got, wantReq) {
				t.Errorf("request headers = %q, want %q", got, wantReq)
			}
			for _, hv := range reqs[0].GetRequestHeaders().GetHeaders().GetHeaders() {
				if hv.GetValue() != "" {
					t.Errorf("header %s has value %q; Envoy fills raw_value only", hv.GetKey(), hv.GetValue())
				}
			}
			if got := headersOf(reqs[2]); !slices.Equal(got, []string{":status=201", "server=up"}) {
				t.Errorf("response headers = %q", got)
			}
		})
	}
}

// TestAttributes checks attributes["envoy.filters.http.ext_proc"] on the
// first message of each direction, keyed by expression text, unknown
// expressions omitted (Envoy's ext_proc: attributes are sent only when configured; the request attributes Envoy evaluates (request_attributes / response_attributes)).
func TestAttributes(t *testing.T) {
	h := newHarness(t, passThrough)
	c := h.client(&extprocfilterv3.ExternalProcessor{
		ProcessingMode: mode(SEND, SEND, BUFFERED, NONE, DEF, DEF),
		RequestAttributes: []string{"request.path", "request.method", "request.headers['x-a']", "upstream.address", "request.headers['absent']",
			"source.address", "source.port", "connection.mtls", "connection.tls_version", "connection.subject_peer_certificate"},
		ResponseAttributes: []string{"response.code", "request.url_path"},
	})
	do(t, c, &HTTPRequest{Method: "PUT", Path: "/p?q=1", Authority: "h", Headers: []Header{{"x-a", "1"}}, Body: []byte("b"),
		Downstream: Downstream{Address: "192.0.2.1:4242", TLSVersion: "TLSv1.3"}}, &captureUpstream{})
	reqs := h.onlyStream().requests()
	if len(reqs) != 3 {
		t.Fatalf("messages: %v", h.onlyStream().kinds())
	}
	a := reqs[0].GetAttributes()[filterName].GetFields()
	if a["request.path"].GetStringValue() != "/p?q=1" || a["request.method"].GetStringValue() != "PUT" ||
		a["request.headers['x-a']"].GetStringValue() != "1" {
		t.Errorf("request attributes = %v", a)
	}
	if _, ok := a["upstream.address"]; ok {
		t.Errorf("unsupported expression should be omitted: %v", a)
	}
	if a["source.address"].GetStringValue() != "192.0.2.1:4242" || a["source.port"].GetNumberValue() != 4242 ||
		a["connection.tls_version"].GetStringValue() != "TLSv1.3" {
		t.Errorf("connection attributes = %v", a)
	}
	if v, ok := a["connection.mtls"]; !ok || v.GetBoolValue() {
		t.Errorf("connection.mtls = %v, want false", v)
	}
	if _, ok := a["connection.subject_peer_certificate"]; ok {
		t.Errorf("a peer subject without a client certificate should be omitted: %v", a)
	}
	if _, ok := a["request.headers['absent']"]; ok {
		t.Errorf("absent header should be omitted: %v", a)
	}
	if reqs[1].GetAttributes() != nil {
		t.Errorf("second request-direction message carries attributes: %v", reqs[1].GetAttributes())
	}
	ra := reqs[2].GetAttributes()[filterName].GetFields()
	if ra["response.code"].GetNumberValue() != 200 || ra["request.url_path"].GetStringValue() != "/p" {
		t.Errorf("response attributes = %v", ra)
	}
}

// TestObservabilityMode: every message flagged, no protocol_config, no
// waiting for replies, stream close deferred by deferred_close_timeout
// (Envoy's ext_proc: observability mode).
func TestObservabilityMode(t *testing.T) {
	h := newHarness(t, func(st *fakeStream) error {
		// A server that never answers: the client must not wait.
		_ = st.drain()
		return nil
	})
	c := h.client(&extprocfilterv3.ExternalProcessor{
		ObservabilityMode:    true,
		ProcessingMode:       mode(SEND, SEND, STREAMED, BUFFERED, DEF, DEF),
		DeferredCloseTimeout: ms(30),
		MessageTimeout:       ms(20),
	})
	start := time.Now()
	resp := do(t, c, post2(ArrivalImmediate), &captureUpstream{})
	if resp.Status != 200 || string(resp.Body) != "ok" {
		t.Fatalf("response = %d %q", resp.Status, resp.Body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("exchange took %v; observability mode must not wait", d)
	}
	st := h.onlyStream() // ended by the deferred close
	want := []string{"request_headers eos=false", `request_body "A" eos=false`, `request_body "B" eos=true`, "response_headers eos=false"}
	if got := st.kinds(); !slices.Equal(got, want) {
		t.Errorf("sequence = %q, want %q (response body BUFFERED is not sent in observability mode)", got, want)
	}
	for _, r := range st.requests() {
		if !r.GetObservabilityMode() || r.GetProtocolConfig() != nil {
			t.Errorf("%s: observability_mode=%v protocol_config=%v", reqKind(r), r.GetObservabilityMode(), r.GetProtocolConfig())
		}
	}
	if s := c.Stats(); s.StreamMsgsSent != 4 || s.MessageTimeouts != 0 {
		t.Errorf("stats = %+v", s)
	}
}

// TestTrailerMutation: a TrailersResponse mutation applies to the
// forwarded trailers (Envoy's ext_proc: trailers are sent only in mode SEND and only when the message has them; where mutations apply).
func TestTrailerMutation(t *testing.T) {
	h := newHarness(t, func(st *fakeStream) error {
		return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
			if reqKind(r) == "request_trailers" {
				return []*extprocv3.ProcessingResponse{reqTrailersResp(mutation([]string{"x-drop"}, setH("x-added", "yes")))}
			}
			return []*extprocv3.ProcessingResponse{st.passReply(r)}
		})
	})
	c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SKIP, NONE, NONE, SEND, DEF)})
	up := &captureUpstream{}
	do(t, c, &HTTPRequest{Method: "POST", Path: "/", Authority: "h", Body: []byte("b"),
		Trailers: []Header{{"x-drop", "1"}, {"x-keep", "2"}}}, up)
	want := []Header{{"x-keep", "2"}, {"x-added", "yes"}}
	if got := up.last(t).Trailers; !reflect.DeepEqual(got, want) {
		t.Errorf("forwarded trailers = %v, want %v", got, want)
	}
	if got := strings.Join(h.onlyStream().kinds(), "|"); got != "request_headers eos=false|request_trailers x-drop=1,x-keep=2" {
		t.Errorf("sequence = %s", got)
	}
}

// TestBodyReplyHeaderMutation: a body reply's header_mutation applies only
// while the headers are still held — BUFFERED with header SEND, the
// whole-body STREAMED chunk, BUFFERED_PARTIAL — and is ignored otherwise
// (Envoy's ext_proc: CommonResponse: CONTINUE_AND_REPLACE and the header and body mutations header_mutation row, what Envoy sends and expects in each body mode; where mutations apply).
func TestBodyReplyHeaderMutation(t *testing.T) {
	tests := []struct {
		name    string
		pm      *extprocfilterv3.ProcessingMode
		arrival Arrival
		applied bool
	}{
		{"BUFFERED", mode(SEND, SKIP, BUFFERED, NONE, DEF, DEF), ArrivalImmediate, true},
		{"BUFFERED with header SKIP", mode(SKIP, SKIP, BUFFERED, NONE, DEF, DEF), ArrivalImmediate, false},
		{"STREAMED whole body before the headers reply", mode(SEND, SKIP, STREAMED, NONE, DEF, DEF), ArrivalImmediate, true},
		{"STREAMED per chunk", mode(SEND, SKIP, STREAMED, NONE, DEF, DEF), ArrivalAfterHeaders, false},
		{"BUFFERED_PARTIAL", mode(SEND, SKIP, PARTIAL, NONE, DEF, DEF), ArrivalAfterHeaders, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(st *fakeStream) error {
				return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
					if reqKind(r) == "request_body" {
						return []*extprocv3.ProcessingResponse{reqBodyResp(&extprocv3.CommonResponse{HeaderMutation: mutation(nil, setH("x-b", "1"))})}
					}
					return []*extprocv3.ProcessingResponse{st.passReply(r)}
				})
			})
			c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: tc.pm})
			up := &captureUpstream{}
			do(t, c, post2(tc.arrival), up)
			fwd := up.last(t)
			if _, ok := hget(fwd.Headers, "x-b"); ok != tc.applied {
				t.Errorf("x-b applied = %v, want %v (headers %v)", ok, tc.applied, fwd.Headers)
			}
			if string(fwd.Body) != "AB" {
				t.Errorf("body = %q", fwd.Body)
			}
		})
	}
}

// TestClearRouteCache: the counters for clear_route_cache requests the
// filter does not honour (Envoy's ext_proc: clear_route_cache and the route cache; clear_route_cache without a header mutation is ignored).
func TestClearRouteCache(t *testing.T) {
	tests := []struct {
		name                  string
		filter                *extprocfilterv3.ExternalProcessor
		mut                   *extprocv3.HeaderMutation
		wantIgnored, wantDisa uint64
	}{
		{"without a header mutation", nil, nil, 1, 0},
		{"with a header mutation", nil, mutation(nil, setH("x", "1")), 0, 0},
		{"disabled by disable_clear_route_cache", &extprocfilterv3.ExternalProcessor{DisableClearRouteCache: true}, mutation(nil, setH("x", "1")), 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, replyTo("request_headers", reqHeadersResp(&extprocv3.CommonResponse{HeaderMutation: tc.mut, ClearRouteCache: true})))
			c := h.client(tc.filter)
			do(t, c, &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}, &captureUpstream{})
			if s := c.Stats(); s.ClearRouteCacheIgnored != tc.wantIgnored || s.ClearRouteCacheDisabled != tc.wantDisa {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}
