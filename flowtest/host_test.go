package flowtest

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// recordingClient answers every call with res (or err) and records it.
type recordingClient struct {
	res   *upstream.Result
	err   error
	calls []*upstream.Call
}

func (c *recordingClient) Do(_ context.Context, call *upstream.Call) (*upstream.Result, error) {
	c.calls = append(c.calls, call)
	return c.res, c.err
}

func testRequest() *flowengine.Request {
	return &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/a",
		Headers: []flowengine.Header{{Name: "accept", Value: "*/*"}, {Name: "x-old", Value: "1"}}}
}

func TestHostForwardFailureIsEnvoysLocalReply(t *testing.T) {
	tests := []struct {
		kind        upstream.Kind
		wantStatus  int
		wantDetails string
		wantBody    string
		wantErr     bool
	}{
		{upstream.KindConnect, 503, "upstream_reset_before_response_started{connection_failure}",
			"upstream connect error or disconnect/reset before headers. reset reason: connection failure", false},
		{upstream.KindTLS, 503, "upstream_reset_before_response_started{connection_failure}",
			"upstream connect error or disconnect/reset before headers. reset reason: connection failure", false},
		{upstream.KindHTTP, 503, "upstream_reset_before_response_started{connection_termination}",
			"upstream connect error or disconnect/reset before headers. reset reason: connection termination", false},
		{upstream.KindTimeout, 504, "response_timeout", "upstream request timeout", false},
		{upstream.KindCanceled, 0, "", "", true},
		{upstream.KindInvalid, 0, "", "", true},
		{upstream.KindUnmocked, 0, "", "", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			c := &recordingClient{res: &upstream.Result{ID: "main", Err: &upstream.Error{Kind: tt.kind, Message: "boom"}}}
			h := NewHost(testRequest(), nil, c)
			resp, err := h.Forward(context.Background(), nil)
			if tt.wantErr {
				var ue *upstream.Error
				if !errors.As(err, &ue) || ue.Kind != tt.kind {
					t.Fatalf("err = %v, want the call's %s error", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus || resp.CodeDetails != tt.wantDetails || !resp.LocalReply() {
				t.Errorf("response %d %q local=%v", resp.Status, resp.CodeDetails, resp.LocalReply())
			}
			b, err := h.ResponseBody(context.Background())
			if err != nil || string(b) != tt.wantBody {
				t.Errorf("body %q, %v; want %q", b, err, tt.wantBody)
			}
			if got, _ := h.Upstream(); got != resp {
				t.Errorf("Upstream() = %v, want the local reply", got)
			}
		})
	}
}

func TestHostForwardResponseIsViaUpstream(t *testing.T) {
	c := &recordingClient{res: &upstream.Result{ID: "main", Status: 503, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("busy")}}
	resp, err := NewHost(testRequest(), nil, c).Forward(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 503 || resp.CodeDetails != "via_upstream" || resp.LocalReply() {
		t.Errorf("response %d %q local=%v", resp.Status, resp.CodeDetails, resp.LocalReply())
	}
}

func TestHostForwardMethod(t *testing.T) {
	c := &recordingClient{res: &upstream.Result{ID: "main", Status: 200}}
	h := NewHost(testRequest(), []byte("b"), c)
	_, err := h.Forward(context.Background(), &flowengine.Mutation{
		SetHeaders:    []flowengine.Header{{Name: ":method", Value: "POST"}, {Name: "X-New", Value: "2"}},
		RemoveHeaders: []string{"x-old"},
		Path:          "/b",
	})
	if err != nil {
		t.Fatal(err)
	}
	call := c.calls[0]
	if call.Method != "POST" || call.URL != "https://api.example.com/b" {
		t.Errorf("call %s %s", call.Method, call.URL)
	}
	want := []upstream.Field{{Name: "accept", Value: "*/*"}, {Name: "X-New", Value: "2"}}
	if len(call.Headers) != len(want) {
		t.Fatalf("headers %v, want %v", call.Headers, want)
	}
	for i := range want {
		if call.Headers[i] != want[i] {
			t.Errorf("headers %v, want %v", call.Headers, want)
		}
	}
}

func TestHostForwardRefusesOtherPseudoHeaders(t *testing.T) {
	for _, m := range []*flowengine.Mutation{
		{SetHeaders: []flowengine.Header{{Name: ":path", Value: "/x"}}},
		{SetHeaders: []flowengine.Header{{Name: ":method", Value: ""}}},
	} {
		c := &recordingClient{res: &upstream.Result{ID: "main", Status: 200}}
		if _, err := NewHost(testRequest(), nil, c).Forward(context.Background(), m); err == nil || len(c.calls) != 0 {
			t.Errorf("%v: err = %v, calls %d; want an error and no call", m.SetHeaders, err, len(c.calls))
		}
	}
}
