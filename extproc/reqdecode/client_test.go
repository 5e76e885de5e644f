package reqdecode_test

import (
	"context"
	"net"
	"sync"
	"testing"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/test/bufconn"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc/reqdecode"
	"github.com/flowproc/flowproc/internal/noopserver"
)

// pathCodec is the protobuf codec that also records, for each
// ProcessingRequest, whether reqdecode's fast path decodes it.
type pathCodec struct {
	encoding.CodecV2
	mu   sync.Mutex
	fast int
	slow [][]byte
}

func (c *pathCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if _, ok := v.(*extprocv3.ProcessingRequest); ok {
		b := data.Materialize()
		fast := reqdecode.DecodeFast(b, new(extprocv3.ProcessingRequest))
		c.mu.Lock()
		if fast {
			c.fast++
		} else {
			c.slow = append(c.slow, b)
		}
		c.mu.Unlock()
	}
	return c.CodecV2.Unmarshal(data, v)
}

// TestEnvoyClientMessagesTakeFastPath sends requests through the
// Envoy-faithful client with envoy/envoy.yaml's filter (attributes,
// metadata) in every body mode and checks that every message it sends is
// one the fast path decodes: what Envoy sends is never left to reflection.
func TestEnvoyClientMessagesTakeFastPath(t *testing.T) {
	codec := &pathCodec{CodecV2: encoding.GetCodecV2(protoenc.Name)}
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer(grpc.ForceServerCodecV2(codec))
	(&noopserver.Server{}).Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	for _, mode := range []procmodev3.ProcessingMode_BodySendMode{procmodev3.ProcessingMode_NONE, procmodev3.ProcessingMode_BUFFERED, procmodev3.ProcessingMode_STREAMED, procmodev3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
		if err != nil {
			t.Fatal(err)
		}
		if fc.Filter.ProcessingMode == nil {
			fc.Filter.ProcessingMode = &procmodev3.ProcessingMode{}
		}
		pm := fc.Filter.ProcessingMode
		pm.RequestHeaderMode, pm.ResponseHeaderMode = procmodev3.ProcessingMode_SEND, procmodev3.ProcessingMode_SEND
		pm.RequestBodyMode, pm.ResponseBodyMode = mode, mode
		pm.RequestTrailerMode, pm.ResponseTrailerMode = procmodev3.ProcessingMode_SEND, procmodev3.ProcessingMode_SEND
		c, err := envoy.NewClient(conn, fc, envoy.WithHCMHeaders())
		if err != nil {
			t.Fatal(err)
		}
		up := envoy.UpstreamFunc(func(context.Context, *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
			return &envoy.UpstreamResponse{Status: 200, Headers: []envoy.Header{{Name: "content-type", Value: "application/json"}},
				Body: []byte(`{"ok":true}`), Trailers: []envoy.Header{{Name: "x-checksum", Value: "1"}}}, nil
		})
		req := &envoy.HTTPRequest{Method: "POST", Scheme: "http", Authority: "localhost", Path: "/api/echo",
			Headers: []envoy.Header{{Name: "content-type", Value: "application/json"}, {Name: "user-agent", Value: "grüße"}},
			Body:    []byte(`{"name":"Ada"}`), Trailers: []envoy.Header{{Name: "x-sum", Value: "2"}}}
		if _, err := c.Do(context.Background(), req, up); err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
	}
	codec.mu.Lock()
	defer codec.mu.Unlock()
	t.Logf("%d messages decoded by the fast path", codec.fast)
	if codec.fast < 20 {
		t.Errorf("only %d messages took the fast path", codec.fast)
	}
	for _, b := range codec.slow {
		var m extprocv3.ProcessingRequest
		_ = reqdecode.Unmarshal(b, &m)
		t.Errorf("left to protobuf-go: %v", &m)
	}
}
