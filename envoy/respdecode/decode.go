// Package respdecode decodes the ext_proc ProcessingResponse messages an
// ext_proc server sends, without protobuf reflection, for the Envoy-faithful
// client when it drives load (flowproc bench).
//
// Envoy decodes a server's replies with C++ generated code, a small part of
// its per-request cost. The Go client decoded them through protobuf-go's
// reflection-based unmarshaller, which cost the load generator several
// microseconds per reply carrying header mutations (about 5 µs per proxied
// exchange of the example project), a cost the no-op server's empty
// replies hardly paid. On the two cores the generator shares with the
// server, that showed up in the throughput ratio as the server's own cost.
//
// Unmarshal decodes the replies servers usually send, a headers or body
// response with a CommonResponse (status, header mutation, body mutation,
// clear_route_cache) or an immediate response (status, headers, body,
// details), straight from the wire format
// (google.golang.org/protobuf/encoding/protowire) into the generated
// go-control-plane types. Every other shape (a gRPC status, trailers,
// dynamic metadata, mode overrides, timeouts, an unknown field, a field of
// the wrong wire type, a singular message field or oneof given twice,
// invalid UTF-8, malformed bytes) is decoded again by proto.Unmarshal, so
// the result, unknown fields, merges and errors included, is always exactly
// protobuf-go's. FuzzUnmarshal checks that.
package respdecode

import (
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowproc/flowproc/internal/wirescan"
)

// Unmarshal decodes data into m, which it resets first, as proto.Unmarshal
// does. The decoded message does not refer to data, which the caller may
// reuse once Unmarshal returns.
func Unmarshal(data []byte, m *extprocv3.ProcessingResponse) error {
	if decodeFast(data, m) {
		return nil
	}
	return proto.Unmarshal(data, m)
}

// Fast reports whether Unmarshal decodes data without protobuf-go: for
// tests that keep a server's usual replies on the fast path.
func Fast(data []byte) bool {
	return decodeFast(data, new(extprocv3.ProcessingResponse))
}

// decodeFast decodes data into m without reflection. It reports false when
// data is outside the shape it decodes; m is then partly filled and must be
// decoded again by proto.Unmarshal (which resets it).
func decodeFast(data []byte, m *extprocv3.ProcessingResponse) bool {
	m.Reset()
	d := decoder{size: len(data)}
	return d.response(data, m)
}

// Field numbers (envoy/service/ext_proc/v3/external_processor.proto).
const (
	fieldRequestHeaders  = 1
	fieldResponseHeaders = 2
	fieldRequestBody     = 3
	fieldResponseBody    = 4
	fieldImmediate       = 7
)

// decoder holds one message's text: the strings and raw header values of
// its header mutations are parts of one append-only buffer, allocated
// once, at most the message's size.
type decoder struct {
	size int
	text []byte // append-only: strings and raw values refer into it
}

// inlineOptions is how many set_headers entries a headers or immediate
// response holds in its own block (flowproc's replies set two to four).
const inlineOptions = 4

// optionBlock is a reply's inline space for set_headers entries.
type optionBlock struct {
	opts [inlineOptions]option
	ptrs [inlineOptions]*corev3.HeaderValueOption
}

// headersBlock allocates a headers response's structs at once.
type headersBlock struct {
	rq extprocv3.ProcessingResponse_RequestHeaders
	rs extprocv3.ProcessingResponse_ResponseHeaders
	hr extprocv3.HeadersResponse
	cr extprocv3.CommonResponse
	hm extprocv3.HeaderMutation
	ob optionBlock
}

// bodyBlock allocates a body response's structs at once.
type bodyBlock struct {
	rq extprocv3.ProcessingResponse_RequestBody
	rs extprocv3.ProcessingResponse_ResponseBody
	br extprocv3.BodyResponse
	cr extprocv3.CommonResponse
	hm extprocv3.HeaderMutation
}

// immediateBlock allocates an immediate response's structs at once.
type immediateBlock struct {
	w  extprocv3.ProcessingResponse_ImmediateResponse
	ir extprocv3.ImmediateResponse
	st typev3.HttpStatus
	hm extprocv3.HeaderMutation
	ob optionBlock
}

// response decodes a ProcessingResponse: one headers, body or immediate
// response.
func (d *decoder) response(b []byte, m *extprocv3.ProcessingResponse) bool {
	seen := false
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		sub, ok := wirescan.Bytes(&b, typ)
		if !ok || seen {
			return false // the oneof given twice is merged or replaced: protobuf-go decides
		}
		seen = true
		switch num {
		case fieldRequestHeaders, fieldResponseHeaders:
			blk := new(headersBlock)
			if !d.wrapped(sub, &blk.hr.Response, &blk.cr, &blk.hm, &blk.ob) {
				return false
			}
			if num == fieldRequestHeaders {
				blk.rq.RequestHeaders = &blk.hr
				m.Response = &blk.rq
			} else {
				blk.rs.ResponseHeaders = &blk.hr
				m.Response = &blk.rs
			}
		case fieldRequestBody, fieldResponseBody:
			blk := new(bodyBlock)
			if !d.wrapped(sub, &blk.br.Response, &blk.cr, &blk.hm, nil) {
				return false
			}
			if num == fieldRequestBody {
				blk.rq.RequestBody = &blk.br
				m.Response = &blk.rq
			} else {
				blk.rs.ResponseBody = &blk.br
				m.Response = &blk.rs
			}
		case fieldImmediate:
			blk := new(immediateBlock)
			if !d.immediate(sub, blk) {
				return false
			}
			blk.w.ImmediateResponse = &blk.ir
			m.Response = &blk.w
		default:
			// Trailers, metadata, overrides and anything unknown:
			// protobuf-go decodes them.
			return false
		}
	}
	return true
}

// immediate decodes an ImmediateResponse into blk.ir, its status into
// blk.st and its headers into blk.hm; a gRPC status is left to protobuf-go.
func (d *decoder) immediate(b []byte, blk *immediateBlock) bool {
	ir := &blk.ir
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		sub, ok := wirescan.Bytes(&b, typ)
		if !ok {
			return false
		}
		switch num {
		case 1: // status
			code, ok := wirescan.OnlyVarint(sub)
			if ir.Status != nil || !ok {
				return false
			}
			blk.st.Code = typev3.StatusCode(int32(code)) // an open enum
			ir.Status = &blk.st
		case 2: // headers
			if ir.Headers != nil || !d.headerMutation(sub, &blk.hm, &blk.ob) {
				return false
			}
			ir.Headers = &blk.hm
		case 3: // body: nil when empty, as protobuf-go decodes proto3 bytes
			ir.Body = nil
			if len(sub) > 0 {
				ir.Body = append(make([]byte, 0, len(sub)), sub...)
			}
		case 5: // details
			if ir.Details, ok = d.str(sub); !ok {
				return false
			}
		default: // grpc_status (4) and unknown fields
			return false
		}
	}
	return true
}

// wrapped decodes a HeadersResponse or BodyResponse, whose one field is
// the CommonResponse (1); it sets *resp to cr when the field is there. ob,
// when not nil, is inline space for the header mutation's entries.
func (d *decoder) wrapped(b []byte, resp **extprocv3.CommonResponse, cr *extprocv3.CommonResponse, hm *extprocv3.HeaderMutation, ob *optionBlock) bool {
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok || num != 1 || *resp != nil {
			return false
		}
		sub, ok := wirescan.Bytes(&b, typ)
		if !ok || !d.common(sub, cr, hm, ob) {
			return false
		}
		*resp = cr
	}
	return true
}

// common decodes a CommonResponse into cr, its header mutation into hm
// (with ob as in wrapped). A scalar given twice keeps its last value, as
// protobuf-go's does.
func (d *decoder) common(b []byte, cr *extprocv3.CommonResponse, hm *extprocv3.HeaderMutation, ob *optionBlock) bool {
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		switch num {
		case 1, 5: // status, clear_route_cache
			v, ok := wirescan.Varint(&b, typ)
			if !ok {
				return false
			}
			if num == 1 {
				cr.Status = extprocv3.CommonResponse_ResponseStatus(int32(v)) // open enum
			} else {
				cr.ClearRouteCache = v != 0
			}
		case 2: // header_mutation
			sub, ok := wirescan.Bytes(&b, typ)
			if !ok || cr.HeaderMutation != nil || !d.headerMutation(sub, hm, ob) {
				return false
			}
			cr.HeaderMutation = hm
		case 3: // body_mutation
			sub, ok := wirescan.Bytes(&b, typ)
			if !ok || cr.BodyMutation != nil {
				return false
			}
			if cr.BodyMutation, ok = bodyMutation(sub); !ok {
				return false
			}
		default: // trailers (4) and unknown fields
			return false
		}
	}
	return true
}

// option is a set_headers entry with its header, allocated together.
type option struct {
	o corev3.HeaderValueOption
	v corev3.HeaderValue
	a wrapperspb.BoolValue
}

// headerMutation decodes a HeaderMutation: its options with their headers
// in ob when they fit (ob may be nil), else in one block, their pointers
// likewise, its removals in one slice.
func (d *decoder) headerMutation(b []byte, hm *extprocv3.HeaderMutation, ob *optionBlock) bool {
	sets, removes, ok := countMutation(b)
	if !ok {
		return false
	}
	var opts []option
	switch {
	case sets == 0:
	case ob != nil && sets <= inlineOptions:
		opts = ob.opts[:sets]
		hm.SetHeaders = ob.ptrs[:0:sets]
	default:
		opts = make([]option, sets)
		hm.SetHeaders = make([]*corev3.HeaderValueOption, 0, sets)
	}
	if removes > 0 {
		hm.RemoveHeaders = make([]string, 0, removes)
	}
	for len(b) > 0 {
		num, typ, _ := wirescan.Tag(&b)
		sub, _ := wirescan.Bytes(&b, typ) // countMutation checked both
		if num == 1 {
			i := len(hm.SetHeaders)
			if !d.headerValueOption(sub, &opts[i]) {
				return false
			}
			hm.SetHeaders = append(hm.SetHeaders, &opts[i].o)
			continue
		}
		s, ok := d.str(sub)
		if !ok {
			return false
		}
		hm.RemoveHeaders = append(hm.RemoveHeaders, s)
	}
	return true
}

// countMutation counts a HeaderMutation's set_headers (1) and
// remove_headers (2); it reports false for any other field, another wire
// type or malformed data.
func countMutation(b []byte) (sets, removes int, ok bool) {
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return 0, 0, false
		}
		if _, ok := wirescan.Bytes(&b, typ); !ok {
			return 0, 0, false
		}
		switch num {
		case 1:
			sets++
		case 2:
			removes++
		default:
			return 0, 0, false
		}
	}
	return sets, removes, true
}

// headerValueOption decodes a HeaderValueOption into opt.o, its header into
// opt.v and its deprecated append (which flowproc's server sets) into opt.a.
func (d *decoder) headerValueOption(b []byte, opt *option) bool {
	o := &opt.o
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		switch num {
		case 1: // header
			sub, ok := wirescan.Bytes(&b, typ)
			if !ok || o.Header != nil || !d.headerValue(sub, &opt.v) {
				return false
			}
			o.Header = &opt.v
		case 2: // append
			sub, ok := wirescan.Bytes(&b, typ)
			if !ok || o.Append != nil {
				return false
			}
			v, ok := wirescan.OnlyVarint(sub) // a BoolValue
			if !ok {
				return false
			}
			opt.a.Value = v != 0
			o.Append = &opt.a
		case 3, 4: // append_action, keep_empty_value
			v, ok := wirescan.Varint(&b, typ)
			if !ok {
				return false
			}
			if num == 3 {
				o.AppendAction = corev3.HeaderValueOption_HeaderAppendAction(int32(v))
			} else {
				o.KeepEmptyValue = v != 0
			}
		default:
			return false
		}
	}
	return true
}

// headerValue decodes a HeaderValue; a field given twice keeps its last
// value, as protobuf-go's does.
func (d *decoder) headerValue(b []byte, hv *corev3.HeaderValue) bool {
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		v, ok := wirescan.Bytes(&b, typ)
		if !ok {
			return false
		}
		switch num {
		case 1:
			if hv.Key, ok = d.str(v); !ok {
				return false
			}
		case 2:
			if hv.Value, ok = d.str(v); !ok {
				return false
			}
		case 3:
			hv.RawValue = d.rawValue(v)
		default:
			return false
		}
	}
	return true
}

// bodyMutation decodes a BodyMutation whose oneof is a body (1) or
// clear_body (2), given once; a streamed response is left to protobuf-go.
func bodyMutation(b []byte) (*extprocv3.BodyMutation, bool) {
	bm := new(extprocv3.BodyMutation)
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok || bm.Mutation != nil {
			return nil, false
		}
		switch num {
		case 1:
			v, ok := wirescan.Bytes(&b, typ)
			if !ok {
				return nil, false
			}
			// A oneof's bytes are never nil, even when empty, as
			// protobuf-go decodes them.
			bm.Mutation = &extprocv3.BodyMutation_Body{Body: append(make([]byte, 0, len(v)), v...)}
		case 2:
			v, ok := wirescan.Varint(&b, typ)
			if !ok {
				return nil, false
			}
			bm.Mutation = &extprocv3.BodyMutation_ClearBody{ClearBody: v != 0}
		default:
			return nil, false
		}
	}
	return bm, true
}

// str returns b as a string from d's text buffer. It reports false when b
// is not valid UTF-8, which protobuf-go refuses in proto3 string fields.
func (d *decoder) str(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	// The buffer is append-only: these bytes are never written again.
	return unsafeString(d.keep(b)), true
}

// rawValue returns a copy of a raw header value in d's text buffer, capped
// so that appending to it cannot reach its neighbour; nil for no bytes, as
// protobuf-go decodes an empty proto3 bytes field. Writing into it changes
// no string: strings and raw values never share bytes.
func (d *decoder) rawValue(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return d.keep(b)
}

// keep appends b to d's text buffer and returns the copy, capped.
func (d *decoder) keep(b []byte) []byte {
	if cap(d.text)-len(d.text) < len(b) {
		d.text = make([]byte, 0, max(d.size, len(b)))
	}
	start := len(d.text)
	d.text = append(d.text, b...)
	return d.text[start:len(d.text):len(d.text)]
}
