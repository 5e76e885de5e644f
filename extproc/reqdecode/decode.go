// Package reqdecode decodes the ext_proc ProcessingRequest messages Envoy
// sends without protobuf reflection.
//
// grpc-go's protobuf codec decodes through protobuf-go's table-driven,
// reflection-based unmarshaller, which allocates every string, byte slice,
// header and map value on its own. go-control-plane generates marshalling
// code for ext_proc (vtprotobuf) but no unmarshalling code, so a request
// headers message cost ~6 µs and ~60 allocations to decode, more than the
// rest of flowproc's per-message transport work.
//
// Unmarshal decodes the messages as Envoy writes them, straight from the wire
// format (google.golang.org/protobuf/encoding/protowire), into the generated
// go-control-plane types. It allocates the structs of a message in a few
// blocks, its header names and values in one shared buffer, its raw header
// values in another, and the strings of metadata in a third (see decoder).
// The attributes field is checked and kept as it came, and read in place
// (attributes.go: Attributes, AttributeString). Whenever a message holds
// anything outside that canonical shape (an unknown field, a field of the
// wrong wire type, a singular message field or oneof given twice, a map
// entry without its value, a Struct key given twice, invalid UTF-8, deep
// nesting, malformed bytes), it decodes the message again with
// proto.Unmarshal, so the result, including unknown fields, merges and
// errors, is always exactly protobuf-go's, the kept attributes read through
// Attributes. The fuzz target FuzzUnmarshal checks that against
// proto.Unmarshal.
package reqdecode

import (
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/flowproc/flowproc/internal/wirescan"
)

// Unmarshal decodes data into m, which it resets first, as proto.Unmarshal
// does. The decoded message does not refer to data, which the caller may
// reuse once Unmarshal returns.
func Unmarshal(data []byte, m *extprocv3.ProcessingRequest) error {
	if decodeFast(data, m) {
		return nil
	}
	return proto.Unmarshal(data, m)
}

// decodeFast decodes data into m without reflection. It reports false when
// data is outside the shape it decodes; m is then partly filled and must be
// decoded again by proto.Unmarshal (which resets it).
func decodeFast(data []byte, m *extprocv3.ProcessingRequest) bool {
	m.Reset()
	var d decoder
	var ok bool
	var attrs int
	if d.headerText.size, d.metaText.size, d.rawSize, attrs, ok = textSizes(data); !ok {
		return false
	}
	if attrs > 0 {
		d.attrs = make([]byte, 0, attrs)
	}
	if !d.request(data, m) {
		return false
	}
	if len(d.attrs) > 0 {
		m.ProtoReflect().SetUnknown(d.attrs) // see attributes.go
	}
	return true
}

// Field numbers of ProcessingRequest (envoy/service/ext_proc/v3/external_processor.proto).
const (
	fieldRequestHeaders    = 2
	fieldResponseHeaders   = 3
	fieldRequestBody       = 4
	fieldResponseBody      = 5
	fieldRequestTrailers   = 6
	fieldResponseTrailers  = 7
	fieldMetadataContext   = 8
	fieldAttributes        = 9
	fieldObservabilityMode = 10
	fieldProtocolConfig    = 11
	// maxDepth bounds the decoder's recursion: two steps per Struct or
	// ListValue level, so about 30 levels of nesting (deeper messages go
	// to protobuf-go, whose limit is 10,000).
	maxDepth           = 64
	seenOneof          = 1 << 0
	seenMetadata       = 1 << 1
	seenProtocolConfig = 1 << 2
)

// textSizes measures, before decoding, how much the message's buffers will
// hold, so that each is allocated once at its size: header names and values
// (headers), raw header values (raw) and the attributes field as it came,
// tags included (attrs), exactly, and for the strings of metadata (meta)
// the whole length of that field, a little more than their text. Bodies are
// copied on their own. It reports false on malformed data.
func textSizes(data []byte) (headers, meta, raw, attrs int, ok bool) {
	for b := data; len(b) > 0; {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return 0, 0, 0, 0, false
		}
		n := protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, 0, 0, 0, false
		}
		switch num {
		case fieldRequestHeaders, fieldResponseHeaders, fieldRequestTrailers, fieldResponseTrailers:
			h, m, r := headersTextSizes(b[:n])
			headers, meta, raw = headers+h, meta+m, raw+r
		case fieldMetadataContext:
			meta += n
		case fieldAttributes:
			attrs += protowire.SizeTag(fieldAttributes) + n // kept as it came
		}
		b = b[n:]
	}
	return headers, meta, raw, attrs, true
}

// headersTextSizes measures an HttpHeaders or HttpTrailers field (its tag
// already consumed): the names and values of its headers and their raw
// values, and the length of anything else it holds (the deprecated
// attributes) as meta. The sizes are only a hint: decoding checks the data
// again.
func headersTextSizes(b []byte) (headers, meta, raw int) {
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return 0, 0, 0
	}
	for len(v) > 0 {
		num, typ, n := protowire.ConsumeField(v)
		if n < 0 {
			return headers, meta, raw
		}
		if num != 1 || typ != protowire.BytesType {
			meta += n
			v = v[n:]
			continue
		}
		hm, _ := protowire.ConsumeBytes(v[protowire.SizeTag(num):])
		v = v[n:]
		for len(hm) > 0 {
			_, _, n := protowire.ConsumeTag(hm)
			if n < 0 {
				return headers, meta, raw
			}
			hv, m := protowire.ConsumeBytes(hm[n:])
			if m < 0 {
				return headers, meta, raw
			}
			hm = hm[n+m:]
			for len(hv) > 0 {
				num, _, n := protowire.ConsumeTag(hv)
				if n < 0 {
					return headers, meta, raw
				}
				val, m := protowire.ConsumeBytes(hv[n:])
				if m < 0 {
					return headers, meta, raw
				}
				hv = hv[n+m:]
				if num == 3 {
					raw += len(val)
				} else {
					headers += len(val)
				}
			}
		}
	}
	return headers, meta, raw
}

// request decodes a ProcessingRequest.
func (d *decoder) request(b []byte, m *extprocv3.ProcessingRequest) bool {
	seen := 0
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		if num == fieldObservabilityMode {
			v, ok := wirescan.Varint(&b, typ)
			if !ok {
				return false
			}
			m.ObservabilityMode = v != 0
			continue
		}
		sub, ok := wirescan.Bytes(&b, typ)
		if !ok {
			return false
		}
		if num >= fieldRequestHeaders && num <= fieldResponseTrailers && !once(&seen, seenOneof) {
			return false // the oneof given twice
		}
		switch num {
		case fieldRequestHeaders, fieldResponseHeaders:
			blk := new(headersBlock)
			if !d.httpHeaders(sub, &blk.hh, &blk.hm) {
				return false
			}
			if num == fieldRequestHeaders {
				blk.rq.RequestHeaders = &blk.hh
				m.Request = &blk.rq
			} else {
				blk.rs.ResponseHeaders = &blk.hh
				m.Request = &blk.rs
			}
		case fieldRequestBody, fieldResponseBody:
			blk := new(bodyBlock)
			if !httpBody(sub, &blk.hb) {
				return false
			}
			if num == fieldRequestBody {
				blk.rq.RequestBody = &blk.hb
				m.Request = &blk.rq
			} else {
				blk.rs.ResponseBody = &blk.hb
				m.Request = &blk.rs
			}
		case fieldRequestTrailers, fieldResponseTrailers:
			blk := new(trailersBlock)
			if !d.httpTrailers(sub, &blk.ht, &blk.hm) {
				return false
			}
			if num == fieldRequestTrailers {
				blk.rq.RequestTrailers = &blk.ht
				m.Request = &blk.rq
			} else {
				blk.rs.ResponseTrailers = &blk.ht
				m.Request = &blk.rs
			}
		case fieldMetadataContext:
			if !once(&seen, seenMetadata) {
				return false
			}
			md, ok := d.metadata(sub)
			if !ok {
				return false
			}
			m.MetadataContext = md
		case fieldAttributes:
			// Checked as structMapEntry decodes it, and kept (attributes.go).
			if !validAttributesEntry(sub) {
				return false
			}
			d.attrs = protowire.AppendBytes(protowire.AppendTag(d.attrs, fieldAttributes, protowire.BytesType), sub)
		case fieldProtocolConfig:
			if !once(&seen, seenProtocolConfig) {
				return false
			}
			pc, ok := protocolConfig(sub)
			if !ok {
				return false
			}
			m.ProtocolConfig = pc
		default:
			// Unknown here, or rare (flow control): protobuf-go decodes it.
			return false
		}
	}
	return true
}

// once marks bit in *seen and reports whether it was not marked yet: a
// singular message field or the oneof given a second time is merged by
// protobuf-go, which decodes such a message instead.
func once(seen *int, bit int) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}
