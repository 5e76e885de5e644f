package reqdecode

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/flowproc/flowproc/internal/wirescan"
)

// headersBlock allocates a headers message's structs at once.
type headersBlock struct {
	hh extprocv3.HttpHeaders
	hm corev3.HeaderMap
	rq extprocv3.ProcessingRequest_RequestHeaders
	rs extprocv3.ProcessingRequest_ResponseHeaders
}

// bodyBlock allocates a body message's structs at once.
type bodyBlock struct {
	hb extprocv3.HttpBody
	rq extprocv3.ProcessingRequest_RequestBody
	rs extprocv3.ProcessingRequest_ResponseBody
}

// trailersBlock allocates a trailers message's structs at once.
type trailersBlock struct {
	ht extprocv3.HttpTrailers
	hm corev3.HeaderMap
	rq extprocv3.ProcessingRequest_RequestTrailers
	rs extprocv3.ProcessingRequest_ResponseTrailers
}

// httpHeaders decodes an HttpHeaders into hh, its header map into hm.
func (d *decoder) httpHeaders(b []byte, hh *extprocv3.HttpHeaders, hm *corev3.HeaderMap) bool {
	seenMap := false
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		switch num {
		case 1: // headers
			if !d.headerMapField(&b, typ, &seenMap, hm) {
				return false
			}
			hh.Headers = hm
		case 2: // attributes (deprecated: Envoy sends ProcessingRequest.attributes)
			sub, ok := wirescan.Bytes(&b, typ)
			if !ok || !d.structMapEntry(sub, &hh.Attributes, 1) {
				return false
			}
		case 3: // end_of_stream
			v, ok := wirescan.Varint(&b, typ)
			if !ok {
				return false
			}
			hh.EndOfStream = v != 0
		default:
			return false
		}
	}
	return true
}

// httpTrailers decodes an HttpTrailers into ht, its header map into hm.
func (d *decoder) httpTrailers(b []byte, ht *extprocv3.HttpTrailers, hm *corev3.HeaderMap) bool {
	seenMap := false
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		if num != 1 || !d.headerMapField(&b, typ, &seenMap, hm) { // trailers
			return false
		}
		ht.Trailers = hm
	}
	return true
}

// headerMapField decodes the HeaderMap field at *b (tag consumed) into hm,
// once: a second one would be merged, which protobuf-go does.
func (d *decoder) headerMapField(b *[]byte, typ protowire.Type, seen *bool, hm *corev3.HeaderMap) bool {
	sub, ok := wirescan.Bytes(b, typ)
	if !ok || *seen || !d.headerMap(sub, hm) {
		return false
	}
	*seen = true
	return true
}

// headerMap decodes a HeaderMap into hm: its HeaderValues in one slice,
// their strings and raw values in the decoder's buffers.
func (d *decoder) headerMap(b []byte, hm *corev3.HeaderMap) bool {
	count, ok := countField1(b)
	if !ok {
		return false
	}
	if count == 0 {
		return true
	}
	vals := make([]corev3.HeaderValue, count)
	hm.Headers = make([]*corev3.HeaderValue, count)
	for i := range vals {
		if !d.headerValue(nextElement(&b), &vals[i]) {
			return false
		}
		hm.Headers[i] = &vals[i]
	}
	return true
}

// headerValue decodes a HeaderValue. A scalar field given twice keeps its
// last value, as protobuf-go's does.
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
			if hv.Key, ok = d.headerText.str(v); !ok {
				return false
			}
		case 2:
			if hv.Value, ok = d.headerText.str(v); !ok {
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

// httpBody decodes an HttpBody; its body is copied on its own, exactly
// sized, as protobuf-go does.
func httpBody(b []byte, hb *extprocv3.HttpBody) bool {
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		if num == 1 {
			v, ok := wirescan.Bytes(&b, typ)
			if !ok {
				return false
			}
			hb.Body = copyBytes(v)
			continue
		}
		v, ok := wirescan.Varint(&b, typ)
		if !ok {
			return false
		}
		switch num {
		case 2:
			hb.EndOfStream = v != 0
		case 3:
			hb.EndOfStreamWithoutMessage = v != 0
		case 4:
			hb.GrpcMessageCompressed = v != 0
		case 5:
			hb.DrainComplete = v != 0
		default:
			return false
		}
	}
	return true
}

// protocolConfig decodes a ProtocolConfiguration. Enum values keep any
// number, as proto3's open enums do.
func protocolConfig(b []byte) (*extprocv3.ProtocolConfiguration, bool) {
	pc := new(extprocv3.ProtocolConfiguration)
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return nil, false
		}
		v, ok := wirescan.Varint(&b, typ)
		if !ok {
			return nil, false
		}
		switch num {
		case 1:
			pc.RequestBodyMode = procmodev3.ProcessingMode_BodySendMode(int32(v))
		case 2:
			pc.ResponseBodyMode = procmodev3.ProcessingMode_BodySendMode(int32(v))
		case 3:
			pc.SendBodyWithoutWaitingForHeaderResponse = v != 0
		default:
			return nil, false
		}
	}
	return pc, true
}
