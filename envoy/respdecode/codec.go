package respdecode

import (
	"fmt"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// Codec is a gRPC client codec (encoding.CodecV2) that decodes
// ProcessingResponse with Unmarshal and marshals and decodes everything
// else through grpc-go's protobuf codec. Its name is "proto", so the wire
// format and content-type are unchanged. Install it on a client connection
// with grpc.WithDefaultCallOptions(grpc.ForceCodecV2(respdecode.NewCodec())).
type Codec struct {
	fallback encoding.CodecV2
}

// NewCodec returns a Codec falling back to grpc-go's registered protobuf
// codec.
func NewCodec() Codec {
	return Codec{fallback: encoding.GetCodecV2(protoenc.Name)}
}

// Name implements encoding.CodecV2.
func (c Codec) Name() string { return protoenc.Name }

// Marshal implements encoding.CodecV2 with the protobuf codec.
func (c Codec) Marshal(v any) (mem.BufferSlice, error) { return c.fallback.Marshal(v) }

// Unmarshal implements encoding.CodecV2: a ProcessingResponse through
// Unmarshal, other messages through the protobuf codec. A message that
// spans several buffers is read from one pooled buffer; the decoded
// message keeps no reference to it.
func (c Codec) Unmarshal(data mem.BufferSlice, v any) error {
	resp, ok := v.(*extprocv3.ProcessingResponse)
	if !ok {
		return c.fallback.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	if err := Unmarshal(buf.ReadOnlyData(), resp); err != nil {
		return fmt.Errorf("unmarshal ProcessingResponse: %w", err)
	}
	return nil
}
