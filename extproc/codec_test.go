package extproc

import (
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TestVTCodecRoundTrip marshals every message type of
// envoy/service/ext_proc/v3 through the codec, once per oneof variant, with
// every other field set (nested messages three levels deep), and checks the
// bytes decode to a message equal to the input and equal to what
// proto.Marshal's bytes decode to. In builds with -tags vtprotobuf it also
// checks every ext_proc message takes the vtprotobuf path.
func TestVTCodecRoundTrip(t *testing.T) {
	c := newVTCodec()
	msgs := extprocv3.File_envoy_service_ext_proc_v3_external_processor_proto.Messages()
	if msgs.Len() < 15 {
		t.Fatalf("only %d message types in the ext_proc file", msgs.Len())
	}
	cases := 0
	for i := range msgs.Len() {
		md := msgs.Get(i)
		mt, err := protoTypeOf(md)
		if err != nil {
			t.Fatal(err)
		}
		for variant, m := range filledVariants(mt) {
			name := string(md.Name()) + "/" + variant
			cases++
			if _, ok := m.(vtMarshaler); ok != vtprotoBuild {
				t.Errorf("%s: has vtprotobuf methods = %v in a build with vtprotobuf = %v", name, ok, vtprotoBuild)
			}
			data, err := c.Marshal(m)
			if err != nil {
				t.Fatalf("%s: marshal: %v", name, err)
			}
			set := 0
			m.ProtoReflect().Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool { set++; return true })
			if set == 0 || data.Len() < 2*set {
				t.Errorf("%s: %d bytes for %d fields set: the message was not filled", name, data.Len(), set)
			}
			got := mt.New().Interface()
			if err := c.Unmarshal(data, got); err != nil {
				t.Fatalf("%s: unmarshal: %v", name, err)
			}
			data.Free()
			if !proto.Equal(got, m) {
				t.Errorf("%s: round trip changed the message:\n got %v\nwant %v", name, got, m)
			}
			ref, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			want := mt.New().Interface()
			if err := proto.Unmarshal(ref, want); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("%s: codec and proto.Marshal disagree", name)
			}
		}
	}
	t.Logf("%d messages, %d cases", msgs.Len(), cases)
}

// TestVTCodecPooledBuffer covers the pooled path: a reply whose body is
// over grpc-go's pooling threshold is marshalled into a pool buffer.
func TestVTCodecPooledBuffer(t *testing.T) {
	body := []byte(strings.Repeat("x", 64<<10))
	r := noStore.bodyReply(false, &extprocv3.CommonResponse{BodyMutation: bodyReplacement(body)})
	data, err := newVTCodec().Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	defer data.Free()
	if data.Len() != proto.Size(r) {
		t.Fatalf("marshalled %d bytes, proto.Size is %d", data.Len(), proto.Size(r))
	}
	got := &extprocv3.ProcessingResponse{}
	if err := proto.Unmarshal(data.Materialize(), got); err != nil || !proto.Equal(got, r) {
		t.Fatalf("pooled marshal does not round-trip: %v", err)
	}
}

// TestVTCodecFallback: values that are not vtprotobuf messages go through
// grpc-go's codec, including its error for non-messages.
func TestVTCodecFallback(t *testing.T) {
	c := newVTCodec()
	if c.Name() != "proto" {
		t.Fatalf("name %q", c.Name())
	}
	if _, err := c.Marshal(struct{}{}); err == nil {
		t.Fatal("marshalling a non-message succeeded")
	}
	msg := dynamicpb.NewMessage((&extprocv3.HttpBody{}).ProtoReflect().Descriptor())
	msg.Set(msg.Descriptor().Fields().ByName("body"), protoreflect.ValueOfBytes([]byte("abc")))
	data, err := c.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	got := &extprocv3.HttpBody{}
	if err := c.Unmarshal(data, got); err != nil || string(got.GetBody()) != "abc" {
		t.Fatalf("fallback round trip: %v %q", err, got.GetBody())
	}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0xff})}, got); err == nil {
		t.Fatal("unmarshalling garbage succeeded")
	}
}

// TestServerCodecOption: every build installs the codec on the server (it
// decodes requests with reqdecode; tagged builds also marshal with
// vtprotobuf).
func TestServerCodecOption(t *testing.T) {
	if n := len(codecOptions()); n != 1 {
		t.Fatalf("%d codec options", n)
	}
}

// TestVTCodecRequestAcrossBuffers decodes a ProcessingRequest that arrives
// in several buffers (a message larger than one HTTP/2 frame), and refuses a
// malformed one with protobuf-go's error.
func TestVTCodecRequestAcrossBuffers(t *testing.T) {
	c := newVTCodec()
	want := &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{
		Body: []byte(strings.Repeat("0123456789", 3000)), EndOfStream: true}}}
	data, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var parts mem.BufferSlice
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1000)
		parts = append(parts, mem.SliceBuffer(rest[:n]))
		rest = rest[n:]
	}
	got := &extprocv3.ProcessingRequest{}
	if err := c.Unmarshal(parts, got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Fatal("request changed across buffers")
	}
	err = c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data[:100])}, got)
	if err == nil || !strings.Contains(err.Error(), "ProcessingRequest") {
		t.Fatalf("truncated request: %v", err)
	}
}
