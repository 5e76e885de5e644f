package respdecode

import (
	"bytes"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// set is a set_headers entry as flowproc's server writes it: the value in
// raw_value, and the deprecated append given as false besides the action.
func set(name, value string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: name, RawValue: []byte(value)}, Append: wrapperspb.Bool(false), AppendAction: action}
}

// proxiedRequestReply is the request headers reply of the example
// project's proxied route.
func proxiedRequestReply() *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{
		Response: &extprocv3.CommonResponse{
			HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
				set(":path", "/v2/x", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
				set("x-flowproc", "1", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
				set("x-request-id", "0f3c2b1a-1111-2222-3333-444455556666", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
			}},
			ClearRouteCache: true,
		}}}}
}

// canonical are replies in every shape the fast path decodes.
func canonical() map[string]*extprocv3.ProcessingResponse {
	return map[string]*extprocv3.ProcessingResponse{
		"empty":            {},
		"continue":         {Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{}}},
		"continue-common":  {Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{}}}},
		"proxied-request":  proxiedRequestReply(),
		"proxied-response": {Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{set("x-request-id", "r-1", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD), set("x-service", "hello", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD), set("x-upstream-status", "200", corev3.HeaderValueOption_ADD_IF_ABSENT)}}}}}},
		"mutation-all-fields": {Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{
			Status: extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
			HeaderMutation: &extprocv3.HeaderMutation{
				SetHeaders: []*corev3.HeaderValueOption{
					{Header: &corev3.HeaderValue{Key: "a", Value: "text ✓", RawValue: []byte("raw")}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS, KeepEmptyValue: true},
					{Header: &corev3.HeaderValue{Key: "empty"}},
					{},
				},
				RemoveHeaders: []string{"content-length", "x-drop", ""},
			},
			BodyMutation:    &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: []byte(`{"replaced":true}`)}},
			ClearRouteCache: true,
		}}}},
		"remove-only":  {Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{HeaderMutation: &extprocv3.HeaderMutation{RemoveHeaders: []string{"server"}}}}}},
		"open-enum":    {Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{Status: 7, HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "k"}, AppendAction: -3}}}}}}},
		"request-body": {Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: []byte("new body")}}}}}},
		"empty-body":   {Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: []byte{}}}}}}},
		"clear-body":   {Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}}}}}},
		"append-true": {Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
			{Header: &corev3.HeaderValue{Key: "a", Value: "1"}, Append: wrapperspb.Bool(true)}, {Header: &corev3.HeaderValue{Key: "b"}, Append: &wrapperspb.BoolValue{}}}}}}}},
		"immediate": {Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{
			Status: &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden}, Body: []byte("no"), Details: "denied",
			Headers: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{set("content-type", "text/plain", 0)}}}}},
		"immediate-empty":      {Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{}}},
		"immediate-odd-status": {Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{Status: &typev3.HttpStatus{Code: 799}, Body: []byte{}}}},
		"body-continue":        {Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{}}},
	}
}

// others are replies the fast path leaves to protobuf-go.
func others() map[string]*extprocv3.ProcessingResponse {
	return map[string]*extprocv3.ProcessingResponse{
		"immediate-grpc-status": {Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{GrpcStatus: &extprocv3.GrpcStatus{Status: 7}}}},
		"trailers":              {Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}},
		"common-trailers":       {Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{Trailers: &corev3.HeaderMap{}}}}},
		"dynamic-metadata":      {Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{}}, DynamicMetadata: &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue("b")}}},
		"timeout":               {OverrideMessageTimeout: durationpb.New(1e9)},
		"streamed-body":         {Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{StreamedResponse: &extprocv3.StreamedBodyResponse{Body: []byte("x")}}}}}}},
	}
}

// field appends a length-delimited field to b.
func field(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// varint appends a varint field to b.
func varint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// odd are hand-written encodings outside the canonical shape: duplicates,
// unknown fields, wrong wire types, invalid UTF-8 and truncations.
func odd() map[string][]byte {
	hv := func(k, v string) []byte { return field(field(nil, 1, []byte(k)), 2, []byte(v)) }
	mut := func(opts ...[]byte) []byte {
		var m []byte
		for _, o := range opts {
			m = field(m, 1, field(nil, 1, o))
		}
		return m
	}
	// header is a HeaderValueOption's header field.
	header := func(k string) []byte { return field(nil, 1, hv(k, "1")) }
	reqHeaders := func(common []byte) []byte { return field(nil, 1, field(nil, 1, common)) }
	good, _ := proto.Marshal(proxiedRequestReply())
	return map[string][]byte{
		"oneof-twice":             append(reqHeaders(nil), reqHeaders(nil)...),
		"oneof-two-kinds":         append(reqHeaders(nil), field(nil, 2, nil)...),
		"common-twice":            field(nil, 1, append(field(nil, 1, nil), field(nil, 1, varint(nil, 5, 1))...)),
		"mutation-twice":          reqHeaders(append(field(nil, 2, mut(hv("a", "1"))), field(nil, 2, mut(hv("b", "2")))...)),
		"header-twice":            reqHeaders(field(nil, 2, field(nil, 1, append(field(nil, 1, hv("a", "1")), field(nil, 1, hv("b", "2"))...)))),
		"scalar-twice":            reqHeaders(append(varint(nil, 1, 2), varint(nil, 1, 1)...)),
		"key-twice":               reqHeaders(field(nil, 2, mut(append(hv("a", "1"), field(nil, 1, []byte("b"))...)))),
		"raw-twice":               reqHeaders(field(nil, 2, mut(field(field(nil, 3, []byte("x")), 3, nil)))),
		"invalid-utf8-key":        reqHeaders(field(nil, 2, mut(hv("\xff", "1")))),
		"invalid-utf8-value":      reqHeaders(field(nil, 2, mut(hv("a", "\xc3")))),
		"invalid-utf8-remove":     reqHeaders(field(nil, 2, field(nil, 2, []byte("\xfe")))),
		"unknown-top":             append(append([]byte(nil), good...), varint(nil, 99, 1)...),
		"unknown-common":          reqHeaders(varint(nil, 42, 1)),
		"unknown-mutation":        reqHeaders(field(nil, 2, varint(nil, 3, 1))),
		"unknown-header-value":    reqHeaders(field(nil, 2, mut(varint(hv("a", "1"), 9, 1)))),
		"wrong-type-status":       reqHeaders(field(nil, 1, []byte{1})),
		"wrong-type-mutation":     reqHeaders(varint(nil, 2, 1)),
		"wrong-type-key":          reqHeaders(field(nil, 2, mut(varint(nil, 1, 1)))),
		"wrong-type-top":          varint(nil, 1, 1),
		"body-twice":              field(nil, 3, field(nil, 1, field(nil, 3, append(field(nil, 1, []byte("a")), varint(nil, 2, 1)...)))),
		"body-mutation-twice":     field(nil, 3, field(nil, 1, append(field(nil, 3, field(nil, 1, []byte("a"))), field(nil, 3, field(nil, 1, []byte("b")))...))),
		"truncated":               good[:len(good)-3],
		"truncated-tag":           {0x0a},
		"field-zero":              {0x02, 0x00},
		"group":                   {0x0b, 0x0c},
		"huge-length":             {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"append-twice":            reqHeaders(field(nil, 2, field(nil, 1, field(field(header("a"), 2, varint(nil, 1, 1)), 2, nil)))),
		"append-unknown":          reqHeaders(field(nil, 2, field(nil, 1, field(header("a"), 2, varint(nil, 2, 1))))),
		"append-value-twice":      reqHeaders(field(nil, 2, field(nil, 1, field(header("a"), 2, varint(varint(nil, 1, 1), 1, 0))))),
		"append-wrong-type":       reqHeaders(field(nil, 2, field(nil, 1, varint(header("a"), 2, 1)))),
		"immediate-body-twice":    field(nil, 7, field(field(nil, 3, []byte("a")), 3, nil)),
		"immediate-status-twice":  field(nil, 7, field(field(nil, 1, varint(nil, 1, 403)), 1, varint(nil, 1, 404))),
		"immediate-code-twice":    field(nil, 7, field(nil, 1, varint(varint(nil, 1, 403), 1, 404))),
		"immediate-headers-twice": field(nil, 7, field(field(nil, 2, nil), 2, nil)),
		"immediate-details-utf8":  field(nil, 7, field(nil, 5, []byte("\xff"))),
		"status-negative":         reqHeaders(varint(nil, 1, ^uint64(0))),
		"append-action-huge":      reqHeaders(field(nil, 2, mut(varint(hv("a", "1"), 3, 1<<40)))),
		"clear-route-cache-big":   reqHeaders(varint(nil, 5, 300)),
	}
}

// sameAsProto checks that Unmarshal decodes data as proto.Unmarshal does:
// the same error or none, the same message, and a body mutation's bytes
// nil exactly when protobuf-go's are.
func sameAsProto(t *testing.T, data []byte) {
	t.Helper()
	got, want := new(extprocv3.ProcessingResponse), new(extprocv3.ProcessingResponse)
	gotErr, wantErr := Unmarshal(data, got), proto.Unmarshal(data, want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("error %v, proto.Unmarshal's %v", gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	det := proto.MarshalOptions{Deterministic: true}
	g, err := det.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := det.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) || !proto.Equal(got, want) {
		t.Fatalf("decoded\n%v\nproto.Unmarshal decoded\n%v", got, want)
	}
	if gb, wb := bodyOf(got), bodyOf(want); (gb == nil) != (wb == nil) {
		t.Fatalf("body mutation bytes nil %v, protobuf-go's nil %v", gb == nil, wb == nil)
	}
	if gb, wb := got.GetImmediateResponse().GetBody(), want.GetImmediateResponse().GetBody(); (gb == nil) != (wb == nil) {
		t.Fatalf("immediate body nil %v, protobuf-go's nil %v", gb == nil, wb == nil)
	}
	for i, o := range mutationOf(want).GetSetHeaders() {
		g := mutationOf(got).GetSetHeaders()[i]
		if (g.GetHeader().GetRawValue() == nil) != (o.GetHeader().GetRawValue() == nil) {
			t.Fatalf("set_headers[%d] raw_value nil %v, protobuf-go's nil %v", i, g.GetHeader().GetRawValue() == nil, o.GetHeader().GetRawValue() == nil)
		}
	}
}

// common returns the CommonResponse of a headers or body reply.
func common(m *extprocv3.ProcessingResponse) *extprocv3.CommonResponse {
	switch {
	case m.GetRequestHeaders() != nil:
		return m.GetRequestHeaders().GetResponse()
	case m.GetResponseHeaders() != nil:
		return m.GetResponseHeaders().GetResponse()
	case m.GetRequestBody() != nil:
		return m.GetRequestBody().GetResponse()
	}
	return m.GetResponseBody().GetResponse()
}

func bodyOf(m *extprocv3.ProcessingResponse) []byte {
	return common(m).GetBodyMutation().GetBody()
}

func mutationOf(m *extprocv3.ProcessingResponse) *extprocv3.HeaderMutation {
	return common(m).GetHeaderMutation()
}

func TestUnmarshalCanonical(t *testing.T) {
	for name, m := range canonical() {
		t.Run(name, func(t *testing.T) {
			data, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if !decodeFast(data, new(extprocv3.ProcessingResponse)) {
				t.Fatal("left the fast path for a canonical reply")
			}
			sameAsProto(t, data)
			got := new(extprocv3.ProcessingResponse)
			if err := Unmarshal(data, got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, m) {
				t.Fatalf("got %v, want %v", got, m)
			}
		})
	}
}

func TestUnmarshalLeavesOthersToProtobuf(t *testing.T) {
	for name, m := range others() {
		t.Run(name, func(t *testing.T) {
			data, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if decodeFast(data, new(extprocv3.ProcessingResponse)) {
				t.Fatal("decoded on the fast path")
			}
			sameAsProto(t, data)
		})
	}
	for name, data := range odd() {
		t.Run(name, func(t *testing.T) {
			sameAsProto(t, data)
		})
	}
}

func TestUnmarshalResets(t *testing.T) {
	data, err := proto.Marshal(proxiedRequestReply())
	if err != nil {
		t.Fatal(err)
	}
	m := &extprocv3.ProcessingResponse{ModeOverride: nil, RequestDrain: true, DynamicMetadata: &structpb.Struct{}}
	if err := Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m, proxiedRequestReply()) {
		t.Fatalf("got %v", m)
	}
}

// TestUnmarshalOwnsText checks that the decoded strings and raw values do
// not refer to the input, which the transport reuses.
func TestUnmarshalOwnsText(t *testing.T) {
	data, err := proto.Marshal(canonical()["mutation-all-fields"])
	if err != nil {
		t.Fatal(err)
	}
	m := new(extprocv3.ProcessingResponse)
	if err := Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
	clear(data)
	if !proto.Equal(m, canonical()["mutation-all-fields"]) {
		t.Fatalf("decoded message changed with its input: %v", m)
	}
	raw := mutationOf(m).GetSetHeaders()[0].GetHeader().GetRawValue()
	if cap(raw) != len(raw) {
		t.Fatalf("raw value has spare capacity %d: an append would reach its neighbour", cap(raw)-len(raw))
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
	for _, data := range odd() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsProto(t, data)
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	data, err := proto.Marshal(proxiedRequestReply())
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func([]byte, *extprocv3.ProcessingResponse) error
	}{
		{"proto", func(d []byte, m *extprocv3.ProcessingResponse) error { return proto.Unmarshal(d, m) }},
		{"respdecode", Unmarshal},
	} {
		b.Run("proxied-request/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.fn(data, new(extprocv3.ProcessingResponse)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
