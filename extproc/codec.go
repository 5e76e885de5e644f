package extproc

import (
	"fmt"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"

	"github.com/flowproc/flowproc/extproc/reqdecode"
)

// vtMarshaler is what protoc-gen-go-vtproto generates for a message with the
// marshal_strict and size features: go-control-plane ships these methods for
// the ext_proc messages (and every message they contain) in
// *_vtproto.pb.go files, compiled only with the vtprotobuf build tag.
type vtMarshaler interface {
	SizeVT() int
	MarshalToSizedBufferVTStrict(dAtA []byte) (int, error)
}

// vtCodec is a gRPC codec (encoding.CodecV2) that marshals messages with
// their generated vtprotobuf methods when they have them and falls back to
// grpc-go's protobuf codec otherwise. It decodes ProcessingRequest, the one
// message the server receives, with reqdecode (go-control-plane generates
// no UnmarshalVT for ext_proc) and anything else through the protobuf
// codec.
//
// Without the vtprotobuf build tag no message has the marshalling methods,
// so vtCodec marshals exactly as the protobuf codec does and differs only
// in decoding. Its name is "proto", so the wire format and content-type are
// unchanged.
type vtCodec struct {
	fallback encoding.CodecV2
}

// newVTCodec returns a vtCodec falling back to grpc-go's registered
// protobuf codec.
func newVTCodec() vtCodec {
	return vtCodec{fallback: encoding.GetCodecV2(protoenc.Name)}
}

// Name implements encoding.CodecV2.
func (c vtCodec) Name() string { return protoenc.Name }

// Marshal implements encoding.CodecV2. Like grpc-go's codec it writes
// messages at or above the pooling threshold into a buffer from the default
// pool, which the transport returns once the bytes are written.
func (c vtCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(vtMarshaler)
	if !ok {
		return c.fallback.Marshal(v)
	}
	size := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf := make([]byte, size)
		if err := marshalVT(m, buf); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	if err := marshalVT(m, (*buf)[:size]); err != nil {
		pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// marshalVT writes m into buf, which must be exactly m.SizeVT() bytes: the
// generated code fills it from the end.
func marshalVT(m vtMarshaler, buf []byte) error {
	n, err := m.MarshalToSizedBufferVTStrict(buf)
	if err != nil {
		return fmt.Errorf("vtproto: marshal %T: %w", m, err)
	}
	if n != len(buf) {
		return fmt.Errorf("vtproto: marshal %T: wrote %d bytes, SizeVT said %d", m, n, len(buf))
	}
	return nil
}

// Unmarshal implements encoding.CodecV2: a ProcessingRequest through
// reqdecode, other messages through the protobuf codec. Like grpc-go's
// codec it reads a message that spans several buffers from one pooled
// buffer; the decoded message keeps no reference to it.
func (c vtCodec) Unmarshal(data mem.BufferSlice, v any) error {
	req, ok := v.(*extprocv3.ProcessingRequest)
	if !ok {
		return c.fallback.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	if err := reqdecode.Unmarshal(buf.ReadOnlyData(), req); err != nil {
		return fmt.Errorf("unmarshal ProcessingRequest: %w", err)
	}
	return nil
}

// codecOptions installs vtCodec on the ext_proc gRPC server.
func codecOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ForceServerCodecV2(newVTCodec())}
}
