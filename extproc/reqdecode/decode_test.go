package reqdecode

import (
	"bytes"
	"math"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// headers builds a HeaderMap from name, value pairs, as Envoy sends it
// (raw_value only).
func headers(kv ...string) *corev3.HeaderMap {
	hm := &corev3.HeaderMap{}
	for i := 0; i < len(kv); i += 2 {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return hm
}

// attrs is the attributes Envoy sends for envoy.yaml's request_attributes.
func attrs() map[string]*structpb.Struct {
	return map[string]*structpb.Struct{"envoy.filters.http.ext_proc": {Fields: map[string]*structpb.Value{
		"source.address":   structpb.NewStringValue("127.0.0.1:43210"),
		"source.port":      structpb.NewNumberValue(43210),
		"connection.mtls":  structpb.NewBoolValue(false),
		"request.path":     structpb.NewStringValue("/api/upstream/x"),
		"connection.extra": structpb.NewNullValue(),
	}}}
}

// requestHeaders is a request headers message as the bench client sends
// it for GET /api/upstream/x.
func requestHeaders() *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
			Headers: headers(":authority", "localhost", ":path", "/api/upstream/x", ":method", "GET", ":scheme", "http",
				"user-agent", "flowproc-bench", "x-forwarded-proto", "http", "x-request-id", "0f3c2b1a-1111-2222-3333-444455556666"),
			EndOfStream: true,
		}},
		Attributes: attrs(),
	}
}

// canonical are messages in every shape the fast path decodes.
func canonical() map[string]*extprocv3.ProcessingRequest {
	nested, err := structpb.NewStruct(map[string]any{
		"list":  []any{1.5, "two", true, nil, map[string]any{"deep": []any{}}},
		"inner": map[string]any{"x": "y", "empty": map[string]any{}},
		"nan":   math.NaN(),
		"neg0":  math.Copysign(0, -1),
		"utf8":  "grüße ✓",
	})
	if err != nil {
		panic(err)
	}
	return map[string]*extprocv3.ProcessingRequest{
		"empty":            {},
		"request-headers":  requestHeaders(),
		"response-headers": {Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: headers(":status", "200", "content-type", "application/json")}}},
		"headers-value-field": {Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: "a", Value: "text value", RawValue: []byte("raw")}, {Key: "empty"}, {}}}}}},
		"empty-header-map":   {Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{}}}},
		"empty-http-headers": {Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{}}},
		"deprecated-headers-attributes": {Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
			Headers: headers("a", "1"), Attributes: attrs()}}},
		"request-body": {Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{
			Body: []byte(`{"id": 1, "name": "Ada"}`), EndOfStream: true, EndOfStreamWithoutMessage: true, GrpcMessageCompressed: true, DrainComplete: true}},
			Attributes: attrs()},
		"response-body-empty": {Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{EndOfStream: true}}},
		"request-trailers":    {Request: &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: &extprocv3.HttpTrailers{Trailers: headers("grpc-status", "0")}}},
		"response-trailers":   {Request: &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: &extprocv3.HttpTrailers{}}},
		"metadata": {
			Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: headers("a", "1")}},
			MetadataContext: &corev3.Metadata{
				FilterMetadata:      map[string]*structpb.Struct{"envoy.lb": nested, "empty": {}},
				TypedFilterMetadata: map[string]*anypb.Any{"typed": {TypeUrl: "type.googleapis.com/google.protobuf.Struct", Value: []byte{0x0a, 0x00}}, "bare": {}},
			},
		},
		"observability-protocol-config": {
			Request:           &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: headers("a", "1"), EndOfStream: true}},
			ObservabilityMode: true,
			ProtocolConfig: &extprocv3.ProtocolConfiguration{
				RequestBodyMode:                         procmodev3.ProcessingMode_FULL_DUPLEX_STREAMED,
				ResponseBodyMode:                        procmodev3.ProcessingMode_BodySendMode(99),
				SendBodyWithoutWaitingForHeaderResponse: true,
			},
		},
		"nested-attributes": {Attributes: map[string]*structpb.Struct{"a": nested, "b": {}}},
	}
}

// sameAsProto decodes data with Unmarshal and with proto.Unmarshal and
// fails unless both fail or both give the same message (compared as
// deterministic bytes, which tells NaN payloads and -0 apart).
func sameAsProto(t *testing.T, data []byte) {
	t.Helper()
	got, want := new(extprocv3.ProcessingRequest), new(extprocv3.ProcessingRequest)
	gotErr, wantErr := Unmarshal(data, got), proto.Unmarshal(data, want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("error %v, proto.Unmarshal's %v", gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	checkKeptAttributes(t, got, want)
	det := proto.MarshalOptions{Deterministic: true}
	g, err := det.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := det.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("decoded\n%v\nproto.Unmarshal decoded\n%v", got, want)
	}
}

// checkKeptAttributes checks that got, which Unmarshal decoded, reads the
// attributes proto.Unmarshal decoded into want: through AttributeString for
// every field and through Attributes. It then gives got its attributes
// decoded, as want has them, so that the two can be compared whole.
func checkKeptAttributes(t *testing.T, got, want *extprocv3.ProcessingRequest) {
	t.Helper()
	for key, st := range want.Attributes {
		for name, v := range st.GetFields() {
			s, ok := AttributeString(got, key, name)
			w, isString := v.GetKind().(*structpb.Value_StringValue)
			if ok != isString || isString && s != w.StringValue {
				t.Fatalf("AttributeString(%q, %q) = %q, %v; decoded %v", key, name, s, ok, v)
			}
		}
		if _, ok := AttributeString(got, key, "no such field"); ok {
			t.Fatalf("AttributeString(%q) found a field the Struct does not have", key)
		}
	}
	if _, ok := AttributeString(got, "no such key", "source.address"); ok {
		t.Fatal("AttributeString found a key the attributes do not have")
	}
	a := Attributes(got)
	if len(a) != len(want.Attributes) {
		t.Fatalf("Attributes = %v, decoded %v", a, want.Attributes)
	}
	if got.Attributes == nil && a != nil {
		got.Attributes = a
		got.ProtoReflect().SetUnknown(nil)
	}
}

func TestUnmarshalCanonical(t *testing.T) {
	for name, m := range canonical() {
		t.Run(name, func(t *testing.T) {
			data, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if !decodeFast(data, new(extprocv3.ProcessingRequest)) {
				t.Fatal("left the fast path for a canonical message")
			}
			sameAsProto(t, data)
			got := new(extprocv3.ProcessingRequest)
			if err := Unmarshal(data, got); err != nil {
				t.Fatal(err)
			}
			got.Attributes = Attributes(got)
			got.ProtoReflect().SetUnknown(nil)
			if !proto.Equal(got, m) && name != "metadata" { // NaN != NaN under proto.Equal
				t.Fatalf("got %v, want %v", got, m)
			}
		})
	}
}

// tag appends field num's tag of type typ to b.
func tag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return protowire.AppendTag(b, num, typ)
}

// field appends a length-delimited field.
func field(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(tag(b, num, protowire.BytesType), v)
}

// varint appends a varint field.
func varint(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(tag(b, num, protowire.VarintType), v)
}

func TestUnmarshalFallback(t *testing.T) {
	hv := field(field(nil, 1, []byte("a")), 3, []byte("1"))
	hm := field(nil, 1, hv)
	hh := field(nil, 1, hm)
	deep := []byte{}
	for range maxDepth + 5 {
		deep = field(nil, 5, field(nil, 1, field(field(nil, 1, []byte("k")), 2, deep)))
	}
	cases := []struct {
		name string
		data []byte
		// fails: proto.Unmarshal refuses the data too.
		fails bool
	}{
		{"unknown top-level field", varint(field(nil, 2, hh), 99, 1), false},
		{"unknown header field", field(nil, 2, field(nil, 1, field(nil, 1, varint(hv, 7, 1)))), false},
		{"oneof twice, same member (merged)", field(field(nil, 2, hh), 2, varint(nil, 3, 1)), false},
		{"oneof twice, other member", field(field(nil, 2, hh), 4, field(nil, 1, []byte("body"))), false},
		{"header map twice (merged)", field(nil, 2, append(hh, hh...)), false},
		{"metadata twice", field(field(nil, 8, nil), 8, nil), false},
		{"protocol config twice", field(field(nil, 11, varint(nil, 1, 1)), 11, varint(nil, 2, 1)), false},
		{"wrong wire type for headers", varint(nil, 2, 1), false},
		{"wrong wire type for end_of_stream", field(nil, 2, field(nil, 3, []byte("x"))), false},
		{"flow control", field(nil, 12, varint(nil, 1, 1)), false},
		{"map entry without value", field(nil, 9, field(nil, 1, []byte("k"))), false},
		{"map entry key twice", field(nil, 9, field(field(field(nil, 1, []byte("k")), 1, []byte("j")), 2, nil)), false},
		{"value kind twice", field(nil, 9, field(field(nil, 1, []byte("k")), 2, field(nil, 1, field(field(nil, 1, []byte("f")), 2, varint(varint(nil, 4, 1), 1, 0))))), false},
		{"struct key twice", field(nil, 9, field(field(nil, 1, []byte("k")), 2, field(field(nil, 1, field(field(nil, 1, []byte("f")), 2, varint(nil, 4, 1))), 1, field(field(nil, 1, []byte("f")), 2, varint(nil, 4, 0))))), false},
		{"deep struct", field(nil, 9, field(field(nil, 1, []byte("k")), 2, field(nil, 1, field(field(nil, 1, []byte("f")), 2, deep)))), false},
		{"invalid UTF-8 header name", field(nil, 2, field(nil, 1, field(nil, 1, field(nil, 1, []byte{0xff})))), true},
		{"invalid UTF-8 attribute key", field(nil, 9, field(field(nil, 1, []byte{0xc3}), 2, nil)), true},
		{"truncated", field(nil, 2, hh)[:5], true},
		{"field number 0", varint(nil, 0, 1), true},
		{"bad varint", append(tag(nil, 10, protowire.VarintType), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), true},
		{"end group without start", tag(nil, 2, protowire.EndGroupType), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if decodeFast(c.data, new(extprocv3.ProcessingRequest)) {
				t.Fatal("took the fast path")
			}
			err := proto.Unmarshal(c.data, new(extprocv3.ProcessingRequest))
			if (err != nil) != c.fails {
				t.Fatalf("proto.Unmarshal: %v, want failure %v", err, c.fails)
			}
			sameAsProto(t, c.data)
		})
	}
}

// TestTextSizes checks the buffers are sized apart: header text exactly,
// raw header values exactly, attributes and metadata by their length, so
// that a kept header never pins a large metadata field's buffer.
func TestTextSizes(t *testing.T) {
	nums := map[string]any{}
	for i := range 200 {
		nums[strings.Repeat("n", i%7+1)+string(rune('a'+i%26))] = float64(i)
	}
	st, err := structpb.NewStruct(nums)
	if err != nil {
		t.Fatal(err)
	}
	m := &extprocv3.ProcessingRequest{
		Request:         &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: headers("x-a", "v", "Content-Type", "json")}},
		MetadataContext: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"m": st}},
		Attributes:      attrs(),
	}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h, meta, raw, attrs, ok := textSizes(data)
	md, _ := proto.Marshal(m.MetadataContext)
	at, _ := proto.Marshal(&extprocv3.ProcessingRequest{Attributes: m.Attributes})
	// The metadata's value with its length prefix; the attributes field
	// whole, tag included, as it is kept.
	wantMeta := protowire.SizeBytes(len(md))
	if !ok || h != len("x-a")+len("Content-Type") || raw != len("v")+len("json") || meta != wantMeta || attrs != len(at) {
		t.Fatalf("textSizes = %d, %d, %d, %d, %v; want 15, %d, 5, %d", h, meta, raw, attrs, ok, wantMeta, len(at))
	}
	sameAsProto(t, data)
}

// TestUnmarshalRepeatedScalars pins protobuf-go's last-one-wins for
// repeated scalar and string fields, which the fast path decodes itself.
func TestUnmarshalRepeatedScalars(t *testing.T) {
	hv := field(field(field(field(nil, 1, []byte("first")), 1, []byte("second")), 3, []byte("x")), 3, nil)
	data := varint(varint(field(nil, 2, field(varint(varint(nil, 3, 1), 3, 0), 1, field(nil, 1, hv))), 10, 7), 10, 0)
	if !decodeFast(data, new(extprocv3.ProcessingRequest)) {
		t.Fatal("left the fast path")
	}
	sameAsProto(t, data)
	got := new(extprocv3.ProcessingRequest)
	if err := Unmarshal(data, got); err != nil {
		t.Fatal(err)
	}
	h := got.GetRequestHeaders().GetHeaders().GetHeaders()[0]
	if h.Key != "second" || h.RawValue != nil || got.ObservabilityMode || got.GetRequestHeaders().EndOfStream {
		t.Fatalf("got %v", got)
	}
}

// TestUnmarshalResets checks a reused message is reset first, as
// proto.Unmarshal does, on both paths.
func TestUnmarshalResets(t *testing.T) {
	m := requestHeaders()
	m.ObservabilityMode = true
	m.MetadataContext = &corev3.Metadata{}
	data, err := proto.Marshal(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: []byte("b")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
	if m.ObservabilityMode || m.MetadataContext != nil || m.Attributes != nil || string(m.GetRequestBody().GetBody()) != "b" {
		t.Fatalf("not reset: %v", m)
	}
}

// TestUnmarshalDoesNotAlias checks the message keeps no reference to the
// caller's buffer, which gRPC reuses, and that a header value cannot be
// appended into its neighbour.
func TestUnmarshalDoesNotAlias(t *testing.T) {
	data, err := proto.Marshal(requestHeaders())
	if err != nil {
		t.Fatal(err)
	}
	m := new(extprocv3.ProcessingRequest)
	if err := Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'z'
	}
	if s, _ := AttributeString(m, "envoy.filters.http.ext_proc", "source.address"); s != "127.0.0.1:43210" {
		t.Fatalf("kept attribute changed with the input: %q", s)
	}
	m.Attributes = Attributes(m) // decoded from the kept bytes, after the input changed
	m.ProtoReflect().SetUnknown(nil)
	want := requestHeaders()
	if !proto.Equal(m, want) {
		t.Fatalf("decoded message changed with its input: %v", m)
	}
	hs := m.GetRequestHeaders().GetHeaders().GetHeaders()
	_ = append(hs[0].RawValue, strings.Repeat("!", 8)...)
	if string(hs[1].RawValue) != "/api/upstream/x" {
		t.Fatalf("appending to one raw value changed the next: %q", hs[1].RawValue)
	}
}

func TestUnmarshalAllocations(t *testing.T) {
	data, err := proto.Marshal(requestHeaders())
	if err != nil {
		t.Fatal(err)
	}
	fast := testing.AllocsPerRun(100, func() {
		if err := Unmarshal(data, new(extprocv3.ProcessingRequest)); err != nil {
			t.Fatal(err)
		}
	})
	slow := testing.AllocsPerRun(100, func() {
		if err := proto.Unmarshal(data, new(extprocv3.ProcessingRequest)); err != nil {
			t.Fatal(err)
		}
	})
	// The message, its block, the header slices, the header text and raw
	// value buffers, and the attributes kept as they came: seven. Decoding
	// the attributes into maps cost eleven more (their map and Struct, the
	// Struct's map and Values, a oneof wrapper per Value).
	if fast > 8 || fast*3 > slow {
		t.Fatalf("%v allocations per request headers message (proto.Unmarshal: %v)", fast, slow)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, m := range canonical() {
		data, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(field(nil, 2, field(nil, 1, field(nil, 1, []byte{0xff}))))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsProto(t, data)
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	data, err := proto.Marshal(requestHeaders())
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func([]byte, *extprocv3.ProcessingRequest) error
	}{
		{"proto", func(d []byte, m *extprocv3.ProcessingRequest) error { return proto.Unmarshal(d, m) }},
		{"reqdecode", Unmarshal},
	} {
		b.Run("request-headers/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.fn(data, new(extprocv3.ProcessingRequest)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
