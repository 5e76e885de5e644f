package reqdecode

import (
	"unicode/utf8"
	"unsafe"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flowproc/flowproc/internal/wirescan"
)

// Attributes are kept as they came.
//
// Envoy sends the request attributes a filter asks for (source.address,
// connection.mtls, ...) with every request's first message, and the
// response attributes with the response headers. Decoding them into
// structpb maps cost about 2.5 µs of a saturated proxied exchange end to
// end (docs/bench.md), while flowproc reads one response attribute on every
// exchange and the request attributes only when a flow asks for the client.
// So the fast path checks an attributes field as it would decode it (the
// same shapes, UTF-8 and nesting; anything else goes to proto.Unmarshal,
// which decodes it into Attributes as before) and keeps its bytes, tag
// included, as the message's unknown fields, where protobuf-go keeps bytes
// it does not decode. proto.Marshal writes them back unchanged, so the
// message still encodes what it decoded. Attributes and AttributeString
// read them.

// maxLazyFields bounds the fields of one Struct the check compares
// pairwise for a key given twice; a message with a larger Struct among its
// attributes is decoded by proto.Unmarshal. Envoy sends one field per
// configured attribute.
const maxLazyFields = 32

// validAttributesEntry reports whether b, one entry of the attributes map,
// is what structMapEntry decodes: a string key and a Struct value.
func validAttributesEntry(b []byte) bool {
	k, v, ok := mapEntry(b)
	return ok && utf8.Valid(k) && validStruct(v, 2)
}

// validStruct reports whether structValue decodes b at depth.
func validStruct(b []byte, depth int) bool {
	if depth > maxDepth {
		return false
	}
	count, ok := countField1(b)
	if !ok || count > maxLazyFields {
		return false
	}
	var keys [maxLazyFields][]byte
	for i := range count {
		k, v, ok := mapEntry(nextElement(&b))
		if !ok || !utf8.Valid(k) || !validValue(v, depth+1) {
			return false
		}
		for _, prev := range keys[:i] {
			if string(prev) == string(k) {
				return false // a key given twice: structValue refuses it
			}
		}
		keys[i] = k
	}
	return true
}

// validList reports whether listValue decodes b at depth.
func validList(b []byte, depth int) bool {
	if depth > maxDepth {
		return false
	}
	count, ok := countField1(b)
	if !ok {
		return false
	}
	for range count {
		if !validValue(nextElement(&b), depth+1) {
			return false
		}
	}
	return true
}

// validValue reports whether value decodes b at depth: one kind at most,
// each of its wire type, strings UTF-8.
func validValue(b []byte, depth int) bool {
	if depth > maxDepth {
		return false
	}
	for kind := false; len(b) > 0; kind = true {
		if kind {
			return false
		}
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		switch num {
		case 1, 4: // null_value, bool_value
			if _, ok := wirescan.Varint(&b, typ); !ok {
				return false
			}
		case 2: // number_value
			if typ != protowire.Fixed64Type {
				return false
			}
			_, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return false
			}
			b = b[n:]
		case 3, 5, 6: // string_value, struct_value, list_value
			raw, ok := wirescan.Bytes(&b, typ)
			if !ok {
				return false
			}
			switch {
			case num == 3 && !utf8.Valid(raw),
				num == 5 && !validStruct(raw, depth+1),
				num == 6 && !validList(raw, depth+1):
				return false
			}
		default:
			return false
		}
	}
	return true
}

// keptAttributes returns the attributes field the fast path kept in m's
// unknown fields: the bytes of its length-delimited field-9 entries, tags
// included. Nothing else can be there: the fast path refuses any unknown
// field, and proto.Unmarshal decodes a length-delimited field 9 into
// Attributes.
func keptAttributes(m *extprocv3.ProcessingRequest) []byte {
	if m == nil || m.Attributes != nil {
		return nil
	}
	return m.ProtoReflect().GetUnknown()
}

// eachAttribute calls fn with each entry of the kept attributes field b,
// its key and its Struct's bytes, in order, until fn returns false.
func eachAttribute(b []byte, fn func(entry, key, st []byte) bool) {
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return
		}
		if num != fieldAttributes || typ != protowire.BytesType {
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return
			}
			b = b[n:]
			continue
		}
		entry, ok := wirescan.Bytes(&b, typ)
		if !ok {
			return
		}
		if k, v, ok := mapEntry(entry); ok && !fn(entry, k, v) {
			return
		}
	}
}

// Attributes returns m's attributes: m.Attributes when protobuf-go
// decoded them, or the kept field decoded now, into maps of the caller's
// own (m is not changed). It returns nil when m has none.
func Attributes(m *extprocv3.ProcessingRequest) map[string]*structpb.Struct {
	kept := keptAttributes(m)
	if len(kept) == 0 {
		return m.GetAttributes()
	}
	d := decoder{}
	d.metaText.size = len(kept)
	var out map[string]*structpb.Struct
	ok := true
	eachAttribute(kept, func(entry, _, _ []byte) bool {
		ok = d.structMapEntry(entry, &out, 1)
		return ok
	})
	if !ok {
		// Cannot happen: the field was checked as it is decoded. Should it,
		// protobuf-go decodes the kept bytes (a ProcessingRequest's field 9).
		var full extprocv3.ProcessingRequest
		if proto.Unmarshal(kept, &full) != nil {
			return nil
		}
		return full.Attributes
	}
	return out
}

// AttributeString returns the string value of field name in the Struct
// m's attributes hold under key, and ok false when there is none or it is
// not a string. It reads the kept field in place: no map is built, and
// the string refers to the field's bytes, which nothing writes again.
// Where a key is given twice the last entry counts, as in a decoded map.
func AttributeString(m *extprocv3.ProcessingRequest, key, name string) (string, bool) {
	kept := keptAttributes(m)
	if len(kept) == 0 {
		v, ok := m.GetAttributes()[key].GetFields()[name]
		if !ok {
			return "", false
		}
		s, ok := v.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return "", false
		}
		return s.StringValue, true
	}
	var st []byte
	found := false
	eachAttribute(kept, func(_, k, v []byte) bool {
		if string(k) == key {
			st, found = v, true
		}
		return true
	})
	if !found {
		return "", false
	}
	for len(st) > 0 {
		k, v, ok := mapEntry(nextElement(&st))
		if !ok {
			return "", false
		}
		if string(k) != name {
			continue
		}
		// A checked Value: one kind at most.
		num, typ, ok := wirescan.Tag(&v)
		if !ok || num != 3 {
			return "", false
		}
		s, ok := wirescan.Bytes(&v, typ)
		if !ok {
			return "", false
		}
		if len(s) == 0 {
			return "", true
		}
		return unsafe.String(&s[0], len(s)), true
	}
	return "", false
}
