package noopserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/flowproc/flowproc/extproc/extproctest"
)

var (
	reqHeaders  = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{}}}}
	reqBody     = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: []byte("abc"), EndOfStream: true}}}
	reqTrailers = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: &extprocv3.HttpTrailers{}}}
	rspHeaders  = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{}}}}
	rspBody     = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte("xyz"), EndOfStream: false}}}
	rspTrailers = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: &extprocv3.HttpTrailers{}}}
)

// kind describes a reply: its type, status and mutations.
func kind(r *extprocv3.ProcessingResponse) string {
	if r == nil {
		return "nil"
	}
	var c *extprocv3.CommonResponse
	name := ""
	switch x := r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		name, c = "request_headers", x.RequestHeaders.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		name, c = "response_headers", x.ResponseHeaders.GetResponse()
	case *extprocv3.ProcessingResponse_RequestBody:
		name, c = "request_body", x.RequestBody.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseBody:
		name, c = "response_body", x.ResponseBody.GetResponse()
	case *extprocv3.ProcessingResponse_RequestTrailers:
		return fmt.Sprintf("request_trailers mutation=%v", x.RequestTrailers.GetHeaderMutation() != nil)
	case *extprocv3.ProcessingResponse_ResponseTrailers:
		return fmt.Sprintf("response_trailers mutation=%v", x.ResponseTrailers.GetHeaderMutation() != nil)
	default:
		return fmt.Sprintf("%T", r.GetResponse())
	}
	if c == nil {
		return name + " no CommonResponse"
	}
	s := fmt.Sprintf("%s %s headers=%v", name, c.GetStatus(), c.GetHeaderMutation() != nil)
	if sr := c.GetBodyMutation().GetStreamedResponse(); sr != nil {
		return s + fmt.Sprintf(" streamed=%q eos=%v", sr.GetBody(), sr.GetEndOfStream())
	}
	return s + fmt.Sprintf(" body=%v", c.GetBodyMutation() != nil)
}

func TestReply(t *testing.T) {
	tests := []struct {
		name            string
		req             *extprocv3.ProcessingRequest
		fdsReq, fdsResp bool
		want            string
	}{
		{name: "request headers", req: reqHeaders, want: "request_headers CONTINUE headers=false body=false"},
		{name: "response headers", req: rspHeaders, want: "response_headers CONTINUE headers=false body=false"},
		{name: "request body", req: reqBody, want: "request_body CONTINUE headers=false body=false"},
		{name: "response body", req: rspBody, want: "response_body CONTINUE headers=false body=false"},
		{name: "request trailers", req: reqTrailers, want: "request_trailers mutation=false"},
		{name: "response trailers", req: rspTrailers, want: "response_trailers mutation=false"},
		{name: "FDS request body is echoed", req: reqBody, fdsReq: true, want: `request_body CONTINUE headers=false streamed="abc" eos=true`},
		{name: "FDS response body is echoed", req: rspBody, fdsResp: true, want: `response_body CONTINUE headers=false streamed="xyz" eos=false`},
		{name: "FDS on the other direction only", req: reqBody, fdsResp: true, want: "request_body CONTINUE headers=false body=false"},
		{name: "unknown message", req: &extprocv3.ProcessingRequest{}, want: "nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kind(Reply(tc.req, tc.fdsReq, tc.fdsResp)); got != tc.want {
				t.Errorf("Reply = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestProcessOverGRPC(t *testing.T) {
	conn := extproctest.Dial(t, &Server{})
	api := extprocv3.NewExternalProcessorClient(conn)
	withPC := func(m *extprocv3.ProcessingRequest, req, resp procmodev3.ProcessingMode_BodySendMode) *extprocv3.ProcessingRequest {
		c := &extprocv3.ProcessingRequest{Request: m.GetRequest(), ProtocolConfig: &extprocv3.ProtocolConfiguration{RequestBodyMode: req, ResponseBodyMode: resp}}
		return c
	}
	observed := &extprocv3.ProcessingRequest{Request: reqHeaders.GetRequest(), ObservabilityMode: true}
	tests := []struct {
		name string
		send []*extprocv3.ProcessingRequest
		want []string
	}{
		{
			name: "every message type, in order",
			send: []*extprocv3.ProcessingRequest{reqHeaders, reqBody, reqTrailers, rspHeaders, rspBody, rspTrailers},
			want: []string{
				"request_headers CONTINUE headers=false body=false", "request_body CONTINUE headers=false body=false",
				"request_trailers mutation=false", "response_headers CONTINUE headers=false body=false",
				"response_body CONTINUE headers=false body=false", "response_trailers mutation=false",
			},
		},
		{
			name: "FULL_DUPLEX_STREAMED from protocol_config",
			send: []*extprocv3.ProcessingRequest{withPC(reqHeaders, procmodev3.ProcessingMode_FULL_DUPLEX_STREAMED, procmodev3.ProcessingMode_NONE), reqBody, rspHeaders},
			want: []string{
				"request_headers CONTINUE headers=false body=false", `request_body CONTINUE headers=false streamed="abc" eos=true`,
				"response_headers CONTINUE headers=false body=false",
			},
		},
		{
			name: "observability mode gets no reply",
			send: []*extprocv3.ProcessingRequest{observed, rspHeaders},
			want: []string{"response_headers CONTINUE headers=false body=false"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := api.Process(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.send {
				if err := stream.Send(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.CloseSend(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for range len(tc.send) + 1 {
				r, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Recv: %v", err)
				}
				got = append(got, kind(r))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("replies\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
