package extproc

import (
	"context"
	"io"
	"log/slog"
	"testing"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/flowproc/flowproc/extproc/reqdecode"
)

// keepingStream hands out its script, each message decoded from its wire
// form by reqdecode as the server's codec decodes it, and keeps what each
// decoded message was when it was handed out.
type keepingStream struct {
	fakeStream
	given, copies []*extprocv3.ProcessingRequest
}

func (s *keepingStream) Recv() (*extprocv3.ProcessingRequest, error) {
	m, err := s.fakeStream.Recv()
	if m == nil {
		return m, err
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	d := new(extprocv3.ProcessingRequest)
	if err := reqdecode.Unmarshal(b, d); err != nil {
		return nil, err
	}
	s.given = append(s.given, d)
	s.copies = append(s.copies, proto.Clone(d).(*extprocv3.ProcessingRequest))
	return d, nil
}

// TestReceivedMessagesUnchanged: the server never writes a message Envoy
// sent it, through whole exchanges of FLAT and Apigee flows that read and
// change headers and bodies. Header values share the messages' bytes
// (headerValue), so a write would change the strings a run holds.
func TestReceivedMessagesUnchanged(t *testing.T) {
	buffered := modes(procmodev3.ProcessingMode_BUFFERED, procmodev3.ProcessingMode_BUFFERED, false)
	tests := []struct {
		name, dir string
		script    []*extprocv3.ProcessingRequest
		replies   int
	}{
		{"FLAT proxied, response body read", "../examples/hello", []*extprocv3.ProcessingRequest{
			reqHeaders("GET", "/api/upstream/x", true, buffered, "x-request-id", "r-1", "cookie", "a=b"),
			respHeaders("503", false, "content-type", "application/json"),
			respBody(`{"error": "down"}`, true),
		}, 3},
		{"FLAT echo of a JSON body", "../examples/hello", []*extprocv3.ProcessingRequest{
			reqHeaders("POST", "/api/echo", false, buffered, "content-type", "application/json"),
			reqBody(`{"items":[{"name":"tea","price":3}]}`, true),
		}, 2},
		{"FLAT answered", "../examples/hello", []*extprocv3.ProcessingRequest{
			reqHeaders("GET", "/api/hello/ada?lang=de", true, nil, "user-agent", "test/1"),
		}, 1},
		{"Apigee proxied", "../examples/apigee-hello", []*extprocv3.ProcessingRequest{
			reqHeaders("GET", "/v1/orders/42", true, nil, "x-api-key", "k", "accept", "application/json"),
			respHeaders("200", true, "content-type", "application/json"),
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := loadProjectSet(t, tc.dir)
			s := New(Options{Resolver: set, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
			st := &keepingStream{fakeStream: fakeStream{ctx: grpcStreamContext(ctx), script: tc.script}}
			if err := s.Process(st); err != nil || st.sent != tc.replies {
				t.Fatalf("process: %v, %d replies, want %d", err, st.sent, tc.replies)
			}
			if len(st.given) != len(tc.script) {
				t.Fatalf("%d messages read, want %d", len(st.given), len(tc.script))
			}
			for i, m := range st.given {
				if !proto.Equal(m, st.copies[i]) {
					t.Errorf("message %d changed:\n%v\nwas\n%v", i, m, st.copies[i])
				}
			}
		})
	}
}
