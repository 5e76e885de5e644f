package extproctest

import (
	"context"
	"strings"
	"testing"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
)

// scripted answers each message with reply(message); it records what it saw.
type scripted struct {
	extprocv3.UnimplementedExternalProcessorServer
	reply func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse
	seen  []string
}

func (s *scripted) Register(g *grpc.Server)          { extprocv3.RegisterExternalProcessorServer(g, s) }
func (s *scripted) GRPCOptions() []grpc.ServerOption { return nil }

func (s *scripted) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		m, err := stream.Recv()
		if err != nil {
			return nil
		}
		switch r := m.Request.(type) {
		case *extprocv3.ProcessingRequest_RequestBody:
			s.seen = append(s.seen, "request_body:"+string(r.RequestBody.Body))
		case *extprocv3.ProcessingRequest_RequestHeaders:
			s.seen = append(s.seen, "request_headers")
		case *extprocv3.ProcessingRequest_ResponseHeaders:
			s.seen = append(s.seen, "response_headers")
		}
		if err := stream.Send(s.reply(m)); err != nil {
			return err
		}
	}
}

func continueFor(m *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	c := &extprocv3.CommonResponse{}
	switch m.Request.(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: c}},
			ModeOverride: &procmodev3.ProcessingMode{RequestBodyMode: procmodev3.ProcessingMode_BUFFERED}}
	case *extprocv3.ProcessingRequest_RequestBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: c}}}
	default:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: c}}}
	}
}

func TestExchange(t *testing.T) {
	tests := []struct {
		name     string
		reply    func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse
		wantSeen string
		wantErr  string
	}{
		{name: "body sent when asked for", reply: continueFor,
			wantSeen: "request_headers,request_body:hello,response_headers"},
		{name: "reply of the wrong type", reply: func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
			return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{}}}
		}, wantSeen: "request_headers", wantErr: "got a response_headers reply to request_headers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scripted{reply: tc.reply}
			conn := Dial(t, srv)
			_, err := Exchange(context.Background(), conn, &Request{Method: "POST", Body: []byte("hello")}, &Response{})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Exchange error = %v, want %q", err, tc.wantErr)
			}
			if got := strings.Join(srv.seen, ","); got != tc.wantSeen {
				t.Errorf("server saw %s, want %s", got, tc.wantSeen)
			}
		})
	}
}
