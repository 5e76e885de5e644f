package envoy

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// replyTo answers messages of one kind with fixed replies and everything
// else with a pass-through reply.
func replyTo(kind string, replies ...*extprocv3.ProcessingResponse) func(st *fakeStream) error {
	return func(st *fakeStream) error {
		return respond(st, func(r *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
			if reqKind(r) == kind {
				return replies
			}
			return []*extprocv3.ProcessingResponse{st.passReply(r)}
		})
	}
}

func baseReq() *HTTPRequest {
	return &HTTPRequest{Method: "GET", Path: "/orig", Authority: "h",
		Headers: []Header{{"x-a", "1"}, {"x-envoy-foo", "e"}, {"x-del", "d"}}}
}

// TestHeaderMutations applies request-headers replies and checks what the
// upstream sees, the local reply on errors and rejected_header_mutations
// (Envoy's ext_proc: header mutations: removals first, then sets; raw_value only; append, not append_action; mutation_rules decide which headers may change; invalid header names or values are errors; setting value instead of raw_value leaves the header empty; setting both value and raw_value is rejected; append_action is ignored; only append works; :authority, host, :method, :scheme and x-envoy-* changes are ignored unless mutation_rules allow them).
func TestHeaderMutations(t *testing.T) {
	type upCheck func(t *testing.T, up *HTTPRequest)
	hasHeaders := func(want ...Header) upCheck {
		return func(t *testing.T, up *HTTPRequest) {
			t.Helper()
			for _, w := range want {
				if !slices.Contains(up.Headers, w) {
					t.Errorf("upstream headers %v lack %v", up.Headers, w)
				}
			}
		}
	}
	unchanged := func(t *testing.T, up *HTTPRequest) {
		t.Helper()
		want := []Header{{"x-a", "1"}, {"x-envoy-foo", "e"}, {"x-del", "d"}}
		if !reflect.DeepEqual(up.Headers, want) || up.Path != "/orig" || up.Method != "GET" || up.Authority != "h" || up.Scheme != "http" {
			t.Errorf("upstream request changed: %+v", up)
		}
	}
	tests := []struct {
		name        string
		rules       *mutationrulesv3.HeaderMutationRules
		opts        []Option
		mut         *extprocv3.HeaderMutation
		wantStatus  int    // 0: upstream reached
		wantDetails string // for local replies
		wantRejects uint64
		check       upCheck
	}{
		{name: "set raw_value overwrites", mut: mutation(nil, setH("x-a", "2")),
			check: func(t *testing.T, up *HTTPRequest) {
				if got := headerValues(up.Headers, "x-a"); !slices.Equal(got, []string{"2"}) {
					t.Errorf("x-a = %v", got)
				}
			}},
		{name: "append true adds an entry", mut: mutation(nil, appendH("x-a", "2")),
			check: func(t *testing.T, up *HTTPRequest) {
				if got := headerValues(up.Headers, "x-a"); !slices.Equal(got, []string{"1", "2"}) {
					t.Errorf("x-a = %v", got)
				}
			}},
		{name: "append_action is ignored", mut: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{
			Header: &corev3.HeaderValue{Key: "x-a", RawValue: []byte("2")}, AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD}}},
			check: func(t *testing.T, up *HTTPRequest) {
				if got := headerValues(up.Headers, "x-a"); !slices.Equal(got, []string{"2"}) {
					t.Errorf("x-a = %v (append_action must be ignored, append defaults to false)", got)
				}
			}},
		{name: "value-only sets an empty header", mut: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{
			Header: &corev3.HeaderValue{Key: "x-v", Value: "v"}}}},
			check: hasHeaders(Header{"x-v", ""})},
		{name: "value and raw_value both set", mut: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{
			Header: &corev3.HeaderValue{Key: "x-v", Value: "v", RawValue: []byte("v")}}}},
			wantStatus: 500, wantDetails: "Only_one_of_value_or_raw_value_in_the_HeaderValue_message_should_be_set.", wantRejects: 1},
		{name: "invalid value character", mut: mutation(nil, setH("x-v", "a\nb")),
			wantStatus: 500, wantDetails: "Invalid_character_in_set_headers_mutation.", wantRejects: 1},
		{name: "invalid name character", mut: mutation(nil, setH("bad key", "v")),
			wantStatus: 500, wantDetails: "Invalid_character_in_set_headers_mutation.", wantRejects: 1},
		{name: "invalid remove name", mut: mutation([]string{"bad key"}),
			wantStatus: 500, wantDetails: "Invalid_character_in_remove_headers_mutation.", wantRejects: 1},
		{name: "routing and x-envoy headers ignored by default",
			mut:         mutation(nil, setH("host", "evil"), setH(":authority", "evil"), setH(":method", "PUT"), setH(":scheme", "https"), setH("x-envoy-foo", "x")),
			wantRejects: 5, check: unchanged},
		{name: ":path may be set", mut: mutation(nil, setH(":path", "/new")),
			check: func(t *testing.T, up *HTTPRequest) {
				if up.Path != "/new" {
					t.Errorf("path = %q", up.Path)
				}
			}},
		{name: "pseudo-headers and host can never be removed", mut: mutation([]string{":path", "host", ":authority"}),
			wantRejects: 3, check: unchanged},
		{name: "x-envoy removal ignored", mut: mutation([]string{"x-envoy-foo"}), wantRejects: 1, check: unchanged},
		{name: "append to a pseudo-header ignored", mut: mutation(nil, appendH(":path", "/x")), wantRejects: 1, check: unchanged},
		{name: "remove runs before set", mut: mutation([]string{"x-a", "x-del"}, setH("x-a", "3"), setH("x-del", "again")),
			check: func(t *testing.T, up *HTTPRequest) {
				want := []Header{{"x-envoy-foo", "e"}, {"x-a", "3"}, {"x-del", "again"}}
				if !reflect.DeepEqual(up.Headers, want) {
					t.Errorf("headers = %v, want %v", up.Headers, want)
				}
			}},
		{name: "keys are lower-cased", mut: mutation(nil, setH("X-Up", "1")), check: hasHeaders(Header{"x-up", "1"})},
		// Each value is its own raw_value, though the client converts them
		// in one allocation (rawValues): entries without a header or with
		// only value in between do not shift them.
		{name: "several values, with gaps", mut: mutation(nil, setH("x-one", "first"), &corev3.HeaderValueOption{}, setH("x-two", ""),
			&corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: "x-text", Value: "ignored"}}, setH("x-three", "third value")),
			check: hasHeaders(Header{"x-one", "first"}, Header{"x-two", ""}, Header{"x-text", ""}, Header{"x-three", "third value"})},
		{name: "allow_all_routing", rules: &mutationrulesv3.HeaderMutationRules{AllowAllRouting: wrapperspb.Bool(true)},
			mut: mutation(nil, setH(":authority", "new.example"), setH(":method", "PUT")),
			check: func(t *testing.T, up *HTTPRequest) {
				if up.Authority != "new.example" || up.Method != "PUT" {
					t.Errorf("authority/method = %q %q", up.Authority, up.Method)
				}
			}},
		{name: "allow_all_routing still validates :scheme", rules: &mutationrulesv3.HeaderMutationRules{AllowAllRouting: wrapperspb.Bool(true)},
			mut: mutation(nil, setH(":scheme", "ftp")), wantRejects: 1, check: unchanged},
		{name: "allow_envoy", rules: &mutationrulesv3.HeaderMutationRules{AllowEnvoy: wrapperspb.Bool(true)},
			mut: mutation(nil, setH("x-envoy-foo", "x")), check: hasHeaders(Header{"x-envoy-foo", "x"})},
		{name: "disallow_is_error", rules: &mutationrulesv3.HeaderMutationRules{DisallowIsError: wrapperspb.Bool(true)},
			mut: mutation(nil, setH("x-envoy-foo", "x")), wantStatus: 500, wantDetails: "Invalid_attempt_to_modify_x-envoy-foo", wantRejects: 1},
		{name: "disallow_is_error on removal", rules: &mutationrulesv3.HeaderMutationRules{DisallowIsError: wrapperspb.Bool(true)},
			mut: mutation([]string{":path"}), wantStatus: 500, wantDetails: "Invalid_attempt_to_remove_:path", wantRejects: 1},
		{name: "disallow_all", rules: &mutationrulesv3.HeaderMutationRules{DisallowAll: wrapperspb.Bool(true)},
			mut: mutation(nil, setH("x-a", "2")), wantRejects: 1, check: unchanged},
		{name: "allow_expression wins over the defaults",
			rules: &mutationrulesv3.HeaderMutationRules{AllowExpression: &matcherv3.RegexMatcher{Regex: "x-envoy-.*"}},
			mut:   mutation(nil, setH("x-envoy-foo", "x")), check: hasHeaders(Header{"x-envoy-foo", "x"})},
		{name: "disallow_expression", rules: &mutationrulesv3.HeaderMutationRules{DisallowExpression: &matcherv3.RegexMatcher{Regex: "x-a"}},
			mut: mutation(nil, setH("x-a", "2"), setH("x-ab", "3")), wantRejects: 1, check: hasHeaders(Header{"x-a", "1"}, Header{"x-ab", "3"})},
		{name: "disallow_system", rules: &mutationrulesv3.HeaderMutationRules{DisallowSystem: wrapperspb.Bool(true)},
			mut: mutation(nil, setH(":path", "/x")), wantRejects: 1, check: unchanged},
		{name: "mutation count over max_headers_count", opts: []Option{WithHeaderLimits(3, 60)},
			mut:        mutation(nil, setH("a", "1"), setH("b", "1"), setH("c", "1"), setH("d", "1")),
			wantStatus: 500, wantDetails: "Header_mutation_remove_header_count_0_or_set_header_count_4_exceed_the_HCM_header_countlimit_3", wantRejects: 1},
		{name: "result over max_request_headers_kb", opts: []Option{WithHeaderLimits(100, 1)},
			mut:        mutation(nil, setH("x-big", strings.Repeat("b", 1100))),
			wantStatus: 500, wantDetails: "Header_mutation_causes_end_result_header_count_8_or_header_size_1169_bytes,_exceeding_the_count_limit_100_or_the_size_limit_1_kilobytes", wantRejects: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, replyTo("request_headers", reqHeadersResp(&extprocv3.CommonResponse{HeaderMutation: tc.mut})))
			c := h.client(&extprocfilterv3.ExternalProcessor{MutationRules: tc.rules}, tc.opts...)
			up := &captureUpstream{}
			resp := do(t, c, baseReq(), up)
			if got := c.Stats().RejectedHeaderMutations; got != tc.wantRejects {
				t.Errorf("rejected_header_mutations = %d, want %d", got, tc.wantRejects)
			}
			if tc.wantStatus != 0 {
				if resp.Status != tc.wantStatus || !resp.Local || resp.Details != tc.wantDetails {
					t.Errorf("response = %d local=%v details=%q, want %d %q", resp.Status, resp.Local, resp.Details, tc.wantStatus, tc.wantDetails)
				}
				if len(resp.Body) != 0 {
					t.Errorf("ext_proc error replies have an empty body, got %q", resp.Body)
				}
				if up.calls() != 0 {
					t.Errorf("upstream called despite the mutation error")
				}
				return
			}
			if resp.Status != 200 {
				t.Fatalf("response = %d %q", resp.Status, resp.Details)
			}
			tc.check(t, up.last(t))
		})
	}
}

func headerValues(hs []Header, name string) []string {
	var out []string
	for _, h := range hs {
		if h.Name == name {
			out = append(out, h.Value)
		}
	}
	return out
}

// TestStatusMutation: :status may be set in a response headers reply when
// numeric and ≥ 200; invalid values are ignored (Envoy's ext_proc: a :status mutation must be numeric and at least 200).
func TestStatusMutation(t *testing.T) {
	tests := []struct {
		value      string
		wantStatus int
		rejects    uint64
	}{{"201", 201, 0}, {"99", 200, 1}, {"abc", 200, 1}}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			h := newHarness(t, replyTo("response_headers", respHeadersResp(&extprocv3.CommonResponse{HeaderMutation: mutation(nil, setH(":status", tc.value))})))
			c := h.client(nil)
			resp := do(t, c, baseReq(), &captureUpstream{})
			if resp.Status != tc.wantStatus || c.Stats().RejectedHeaderMutations != tc.rejects {
				t.Errorf("status = %d rejects = %d, want %d %d", resp.Status, c.Stats().RejectedHeaderMutations, tc.wantStatus, tc.rejects)
			}
		})
	}
}

// TestContentLength covers the content-length rules per body mode and the
// BUFFERED validation (Envoy's ext_proc: content-length after a body mutation; a replaced BUFFERED body needs a matching content-length in the same reply; content-length set in STREAMED or FULL_DUPLEX_STREAMED mode is skipped).
func TestContentLength(t *testing.T) {
	post := func() *HTTPRequest {
		return &HTTPRequest{Method: "POST", Path: "/", Authority: "h", Headers: []Header{{"content-length", "2"}}, Body: []byte("ab")}
	}
	tests := []struct {
		name        string
		pm          *extprocfilterv3.ProcessingMode
		version     Version
		allowCL     bool
		kind        string
		reply       *extprocv3.ProcessingResponse
		wantStatus  int
		wantDetails string
		wantCL      string // "" = absent
		wantBody    string
	}{
		{name: "BUFFERED body change without fixing content-length", pm: mode(SEND, SKIP, BUFFERED, NONE, DEF, DEF),
			kind: "request_body", reply: reqBodyResp(&extprocv3.CommonResponse{BodyMutation: bodyMut("xyz")}),
			wantStatus: 500, wantDetails: "mismatch_between_content_length_and_the_length_of_the_mutated_body"},
		{name: "BUFFERED body change with content-length set in the same reply", pm: mode(SEND, SKIP, BUFFERED, NONE, DEF, DEF),
			kind:   "request_body",
			reply:  reqBodyResp(&extprocv3.CommonResponse{HeaderMutation: mutation(nil, setH("content-length", "3")), BodyMutation: bodyMut("xyz")}),
			wantCL: "3", wantBody: "xyz"},
		{name: "BUFFERED body change with content-length removed", pm: mode(SEND, SKIP, BUFFERED, NONE, DEF, DEF),
			kind:     "request_body",
			reply:    reqBodyResp(&extprocv3.CommonResponse{HeaderMutation: mutation([]string{"content-length"}), BodyMutation: bodyMut("xyz")}),
			wantBody: "xyz"},
		{name: "BUFFERED clear_body is compared against 0", pm: mode(SEND, SKIP, BUFFERED, NONE, DEF, DEF),
			kind: "request_body", reply: reqBodyResp(&extprocv3.CommonResponse{BodyMutation: clearBody()}),
			wantStatus: 500, wantDetails: "mismatch_between_content_length_and_the_length_of_the_mutated_body"},
		{name: "BUFFERED clear_body with content-length 0", pm: mode(SEND, SKIP, BUFFERED, NONE, DEF, DEF),
			kind:   "request_body",
			reply:  reqBodyResp(&extprocv3.CommonResponse{HeaderMutation: mutation(nil, setH("content-length", "0")), BodyMutation: clearBody()}),
			wantCL: "0", wantBody: ""},
		{name: "BUFFERED with header SKIP strips content-length", pm: mode(SKIP, SKIP, BUFFERED, NONE, DEF, DEF),
			kind: "request_body", reply: reqBodyResp(&extprocv3.CommonResponse{BodyMutation: bodyMut("xyz")}), wantBody: "xyz"},
		{name: "STREAMED strips content-length and skips setting it", pm: mode(SEND, SKIP, STREAMED, NONE, DEF, DEF),
			kind: "request_headers", reply: reqHeadersResp(&extprocv3.CommonResponse{HeaderMutation: mutation(nil, setH("content-length", "9"))}),
			wantBody: "ab"},
		{name: "BUFFERED_PARTIAL strips content-length", pm: mode(SEND, SKIP, PARTIAL, NONE, DEF, DEF),
			kind: "request_body", reply: reqBodyResp(&extprocv3.CommonResponse{BodyMutation: bodyMut("xyz")}), wantBody: "xyz"},
		{name: "FULL_DUPLEX_STREAMED strips content-length", pm: mode(SEND, SKIP, FDS, NONE, SEND, DEF),
			kind: "-", wantBody: "ab"},
		{name: "FULL_DUPLEX_STREAMED keeps it with allow_content_length_header on 1.38", pm: mode(SEND, SKIP, FDS, NONE, SEND, DEF),
			version: Version{1, 38}, allowCL: true, kind: "-", wantCL: "2", wantBody: "ab"},
		{name: "allow_content_length_header is ignored before 1.38", pm: mode(SEND, SKIP, FDS, NONE, SEND, DEF),
			version: Version{1, 37}, allowCL: true, kind: "-", wantBody: "ab"},
		{name: "NONE keeps content-length even when set inconsistently", pm: mode(SEND, SKIP, NONE, NONE, DEF, DEF),
			kind: "request_headers", reply: reqHeadersResp(&extprocv3.CommonResponse{HeaderMutation: mutation(nil, setH("content-length", "9"))}),
			wantCL: "9", wantBody: "ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var handler func(*fakeStream) error = passThrough
			if tc.reply != nil {
				handler = replyTo(tc.kind, tc.reply)
			}
			h := newHarness(t, handler)
			v := tc.version
			if v == (Version{}) {
				v = DefaultVersion
			}
			c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: tc.pm, AllowContentLengthHeader: tc.allowCL}, WithVersion(v))
			up := &captureUpstream{}
			resp := do(t, c, post(), up)
			if tc.wantStatus != 0 {
				if resp.Status != tc.wantStatus || resp.Details != tc.wantDetails || up.calls() != 0 {
					t.Fatalf("response = %d %q (upstream calls %d), want %d %q", resp.Status, resp.Details, up.calls(), tc.wantStatus, tc.wantDetails)
				}
				return
			}
			if resp.Status != 200 {
				t.Fatalf("response = %d %q", resp.Status, resp.Details)
			}
			fwd := up.last(t)
			cl, ok := hget(fwd.Headers, "content-length")
			if tc.wantCL == "" && ok || tc.wantCL != "" && cl != tc.wantCL {
				t.Errorf("upstream content-length = %q (present %v), want %q", cl, ok, tc.wantCL)
			}
			if string(fwd.Body) != tc.wantBody {
				t.Errorf("upstream body = %q, want %q", fwd.Body, tc.wantBody)
			}
			// The server always sees the original content-length (headers are sent as raw_value with lower-case keys, pseudo-headers first).
			if pm := tc.pm; pm.GetRequestHeaderMode() != SKIP {
				if got := headersOf(h.onlyStream().requests()[0]); !slices.Contains(got, "content-length=2") {
					t.Errorf("server saw %v, want the original content-length", got)
				}
			}
		})
	}
}

// TestContinueAndReplace covers CONTINUE_AND_REPLACE in a headers reply
// (Envoy's ext_proc: CommonResponse: CONTINUE_AND_REPLACE and the header and body mutations).
func TestContinueAndReplace(t *testing.T) {
	tests := []struct {
		name       string
		req        *HTTPRequest
		reply      *extprocv3.CommonResponse
		wantMethod string
		wantBody   string
		wantCL     bool
		wantSeq    []string
	}{
		{
			name: "GET becomes POST with a new body; :method allowed despite default rules",
			req:  &HTTPRequest{Method: "GET", Path: "/", Authority: "h"},
			reply: &extprocv3.CommonResponse{Status: extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
				HeaderMutation: mutation(nil, setH(":method", "POST")), BodyMutation: bodyMut("new")},
			wantMethod: "POST", wantBody: "new",
			wantSeq: []string{"request_headers eos=true", "response_headers eos=false"},
		},
		{
			name: "body replaced, later original data dropped, no body messages",
			req: &HTTPRequest{Method: "POST", Path: "/", Authority: "h", Headers: []Header{{"content-length", "4"}},
				BodyChunks: [][]byte{[]byte("ab"), []byte("cd")}, Arrival: ArrivalAfterHeaders},
			reply:      &extprocv3.CommonResponse{Status: extprocv3.CommonResponse_CONTINUE_AND_REPLACE, BodyMutation: bodyMut("new")},
			wantMethod: "POST", wantBody: "new",
			wantSeq: []string{"request_headers eos=false", "response_headers eos=false"},
		},
		{
			name: "without body_mutation the original body passes untouched",
			req: &HTTPRequest{Method: "POST", Path: "/", Authority: "h", Headers: []Header{{"content-length", "4"}},
				Body: []byte("abcd")},
			reply:      &extprocv3.CommonResponse{Status: extprocv3.CommonResponse_CONTINUE_AND_REPLACE},
			wantMethod: "POST", wantBody: "abcd", wantCL: true,
			wantSeq: []string{"request_headers eos=false", "response_headers eos=false"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, replyTo("request_headers", reqHeadersResp(tc.reply)))
			c := h.client(&extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, BUFFERED, NONE, SEND, DEF)})
			up := &captureUpstream{}
			resp := do(t, c, tc.req, up)
			if resp.Status != 200 {
				t.Fatalf("response = %d %q", resp.Status, resp.Details)
			}
			fwd := up.last(t)
			if fwd.Method != tc.wantMethod || string(fwd.Body) != tc.wantBody {
				t.Errorf("upstream got %s %q, want %s %q", fwd.Method, fwd.Body, tc.wantMethod, tc.wantBody)
			}
			if _, ok := hget(fwd.Headers, "content-length"); ok != tc.wantCL {
				t.Errorf("content-length present = %v, want %v", ok, tc.wantCL)
			}
			if got := h.onlyStream().kinds(); !slices.Equal(got, tc.wantSeq) {
				t.Errorf("sequence = %q, want %q", got, tc.wantSeq)
			}
		})
	}
}

// TestImmediateResponse covers ImmediateResponse handling (Envoy's ext_proc: an ImmediateResponse status below 200 is sent as 200; how an Envoy-emulating client behaves).
func TestImmediateResponse(t *testing.T) {
	deny := immediate(typev3.StatusCode_Forbidden, "denied", "policy denied")
	deny.GetImmediateResponse().Headers = mutation(nil, setH("x-r", "1"), setH("x-envoy-z", "1"))
	tests := []struct {
		name        string
		filter      *extprocfilterv3.ExternalProcessor
		kind        string
		replies     []*extprocv3.ProcessingResponse
		req         *HTTPRequest
		resp        *UpstreamResponse
		wantStatus  int
		wantBody    string
		wantHeaders []Header
		wantDetails string
		wantReset   bool
		wantSeq     []string
		wantRejects uint64
		wantSpur    uint64
	}{
		{name: "deny at request headers", kind: "request_headers", replies: []*extprocv3.ProcessingResponse{deny},
			wantStatus: 403, wantBody: "denied", wantDetails: "policy_denied", wantRejects: 1,
			wantHeaders: []Header{{"x-r", "1"}, {"content-length", "6"}, {"content-type", "text/plain"}},
			wantSeq:     []string{"request_headers eos=true"}},
		{name: "status absent means 200", kind: "request_headers", replies: []*extprocv3.ProcessingResponse{immediate(0, "", "")},
			wantStatus: 200, wantSeq: []string{"request_headers eos=true"}},
		{name: "status below 200 means 200", kind: "request_headers", replies: []*extprocv3.ProcessingResponse{immediate(typev3.StatusCode_Continue, "x", "")},
			wantStatus: 200, wantBody: "x", wantHeaders: []Header{{"content-length", "1"}, {"content-type", "text/plain"}},
			wantSeq: []string{"request_headers eos=true"}},
		{name: "later messages are ignored", kind: "request_headers",
			replies:    []*extprocv3.ProcessingResponse{immediate(typev3.StatusCode_Unauthorized, "", "no"), respHeadersResp(&extprocv3.CommonResponse{})},
			wantStatus: 401, wantDetails: "no", wantSeq: []string{"request_headers eos=true"}},
		{name: "replaces the upstream response at response headers", kind: "response_headers",
			replies:    []*extprocv3.ProcessingResponse{immediate(typev3.StatusCode_BadGateway, "bad", "resp")},
			wantStatus: 502, wantBody: "bad", wantDetails: "resp", wantHeaders: []Header{{"content-length", "3"}, {"content-type", "text/plain"}},
			wantSeq: []string{"request_headers eos=true", "response_headers eos=false"}},
		{name: "unsolicited, while a body chunk is pending", kind: "request_body",
			filter:     &extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, STREAMED, NONE, DEF, DEF)},
			req:        &HTTPRequest{Method: "POST", Path: "/", Authority: "h", Body: []byte("b")},
			replies:    []*extprocv3.ProcessingResponse{immediate(typev3.StatusCode_TooManyRequests, "", "")},
			wantStatus: 429, wantSeq: []string{"request_headers eos=false", `request_body "b" eos=true`}},
		{name: "after response headers went downstream the stream is reset", kind: "response_body",
			filter: &extprocfilterv3.ExternalProcessor{ProcessingMode: mode(SEND, SEND, NONE, STREAMED, DEF, DEF)},
			resp: &UpstreamResponse{Status: 200, Headers: []Header{{"x-u", "1"}}, BodyChunks: [][]byte{[]byte("p1"), []byte("p2")},
				Arrival: ArrivalAfterHeaders},
			replies:    []*extprocv3.ProcessingResponse{immediate(typev3.StatusCode_Forbidden, "late", "too_late")},
			wantStatus: 200, wantHeaders: []Header{{"x-u", "1"}}, wantDetails: "too_late", wantReset: true,
			wantSeq: []string{"request_headers eos=true", "response_headers eos=false", `response_body "p1" eos=false`, `response_body "p2" eos=true`}},
		{name: "content-type from the mutation is kept", kind: "request_headers",
			replies: []*extprocv3.ProcessingResponse{func() *extprocv3.ProcessingResponse {
				r := immediate(typev3.StatusCode_OK, "{}", "")
				r.GetImmediateResponse().Headers = mutation(nil, setH("content-type", "application/json"))
				return r
			}()},
			wantStatus: 200, wantBody: "{}", wantHeaders: []Header{{"content-type", "application/json"}, {"content-length", "2"}},
			wantSeq: []string{"request_headers eos=true"}},
		{name: "disable_immediate_response makes it spurious", kind: "request_headers",
			filter:     &extprocfilterv3.ExternalProcessor{DisableImmediateResponse: true},
			replies:    []*extprocv3.ProcessingResponse{deny},
			wantStatus: 500, wantDetails: "unhandled_immediate_response_due_to_config_disabled_it", wantSpur: 1,
			wantSeq: []string{"request_headers eos=true"}},
		{name: "gRPC request gets a trailers-only gRPC reply", kind: "request_headers",
			req:        &HTTPRequest{Method: "POST", Path: "/svc/M", Authority: "h", Headers: []Header{{"content-type", "application/grpc"}}, Body: []byte("x")},
			replies:    []*extprocv3.ProcessingResponse{immediate(typev3.StatusCode_Forbidden, "no way%", "d")},
			wantStatus: 200, wantDetails: "d",
			wantHeaders: []Header{{"content-type", "application/grpc"}, {"grpc-status", "7"}, {"grpc-message", "no way%25"}},
			wantSeq:     []string{"request_headers eos=false"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, replyTo(tc.kind, tc.replies...))
			c := h.client(tc.filter)
			req := tc.req
			if req == nil {
				req = &HTTPRequest{Method: "GET", Path: "/", Authority: "h"}
			}
			up := &captureUpstream{resp: tc.resp}
			resp := do(t, c, req, up)
			if resp.Status != tc.wantStatus || string(resp.Body) != tc.wantBody || resp.Details != tc.wantDetails || resp.Reset != tc.wantReset {
				t.Errorf("response = %d %q details=%q reset=%v, want %d %q %q %v",
					resp.Status, resp.Body, resp.Details, resp.Reset, tc.wantStatus, tc.wantBody, tc.wantDetails, tc.wantReset)
			}
			if !tc.wantReset && !resp.Local {
				t.Errorf("want a local reply")
			}
			if !reflect.DeepEqual(resp.Headers, tc.wantHeaders) {
				t.Errorf("headers = %v, want %v", resp.Headers, tc.wantHeaders)
			}
			if got := h.onlyStream().kinds(); !slices.Equal(got, tc.wantSeq) {
				t.Errorf("sequence = %q, want %q (no response_headers for a local reply)", got, tc.wantSeq)
			}
			s := c.Stats()
			if s.RejectedHeaderMutations != tc.wantRejects || s.SpuriousMsgsReceived != tc.wantSpur {
				t.Errorf("stats = %+v", s)
			}
			if tc.kind == "request_headers" && up.calls() != 0 {
				t.Errorf("upstream called")
			}
		})
	}
}
