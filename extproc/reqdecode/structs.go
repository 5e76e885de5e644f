package reqdecode

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flowproc/flowproc/internal/wirescan"
)

// mapEntry splits a map entry into its key and value, each given exactly
// once (the form every protobuf encoder writes); anything else reports
// false, for protobuf-go to decode.
func mapEntry(b []byte) (key, val []byte, ok bool) {
	var seenKey, seenVal bool
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return nil, nil, false
		}
		v, ok := wirescan.Bytes(&b, typ)
		if !ok {
			return nil, nil, false
		}
		switch {
		case num == 1 && !seenKey:
			key, seenKey = v, true
		case num == 2 && !seenVal:
			val, seenVal = v, true
		default:
			return nil, nil, false
		}
	}
	return key, val, seenKey && seenVal
}

// stringKeyEntry splits a map<string, …> entry (mapEntry) and decodes its
// key into the message's string buffer.
func (d *decoder) stringKeyEntry(b []byte) (key string, val []byte, ok bool) {
	k, val, ok := mapEntry(b)
	if !ok {
		return "", nil, false
	}
	key, ok = d.metaText.str(k)
	return key, val, ok
}

// structMapEntry decodes one entry of a map<string, Struct> into *mp; a
// repeated key keeps the last value, as protobuf-go's maps do.
func (d *decoder) structMapEntry(b []byte, mp *map[string]*structpb.Struct, depth int) bool {
	key, v, ok := d.stringKeyEntry(b)
	if !ok {
		return false
	}
	s, ok := d.structValue(v, depth+1)
	if !ok {
		return false
	}
	if *mp == nil {
		*mp = make(map[string]*structpb.Struct, 1)
	}
	(*mp)[key] = s
	return true
}

// structValue decodes a google.protobuf.Struct, its Values in one slice.
func (d *decoder) structValue(b []byte, depth int) (*structpb.Struct, bool) {
	if depth > maxDepth {
		return nil, false
	}
	s := new(structpb.Struct)
	count, ok := countField1(b)
	if !ok {
		return nil, false
	}
	if count == 0 {
		return s, true
	}
	vals := make([]structpb.Value, count)
	s.Fields = make(map[string]*structpb.Value, count)
	for i := range vals {
		key, v, ok := d.stringKeyEntry(nextElement(&b))
		if !ok || !d.value(v, &vals[i], depth+1) {
			return nil, false
		}
		s.Fields[key] = &vals[i]
	}
	if len(s.Fields) != count {
		// A key given twice: the Values array sized by the entries would
		// keep every replaced Value alive; protobuf-go allocates each.
		return nil, false
	}
	return s, true
}

// listValue decodes a google.protobuf.ListValue, its Values in one slice.
func (d *decoder) listValue(b []byte, depth int) (*structpb.ListValue, bool) {
	if depth > maxDepth {
		return nil, false
	}
	l := new(structpb.ListValue)
	count, ok := countField1(b)
	if !ok {
		return nil, false
	}
	if count == 0 {
		return l, true
	}
	vals := make([]structpb.Value, count)
	l.Values = make([]*structpb.Value, count)
	for i := range vals {
		if !d.value(nextElement(&b), &vals[i], depth+1) {
			return nil, false
		}
		l.Values[i] = &vals[i]
	}
	return l, true
}

// value decodes a google.protobuf.Value into v; its kind must be given at
// most once.
func (d *decoder) value(b []byte, v *structpb.Value, depth int) bool {
	if depth > maxDepth {
		return false
	}
	for len(b) > 0 {
		if v.Kind != nil {
			return false
		}
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return false
		}
		switch num {
		case 1: // null_value
			x, ok := wirescan.Varint(&b, typ)
			if !ok {
				return false
			}
			v.Kind = &structpb.Value_NullValue{NullValue: structpb.NullValue(int32(x))}
		case 2: // number_value
			if typ != protowire.Fixed64Type {
				return false
			}
			x, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			v.Kind = &structpb.Value_NumberValue{NumberValue: math.Float64frombits(x)}
		case 3: // string_value
			raw, ok := wirescan.Bytes(&b, typ)
			if !ok {
				return false
			}
			s, ok := d.metaText.str(raw)
			if !ok {
				return false
			}
			v.Kind = &structpb.Value_StringValue{StringValue: s}
		case 4: // bool_value
			x, ok := wirescan.Varint(&b, typ)
			if !ok {
				return false
			}
			v.Kind = &structpb.Value_BoolValue{BoolValue: x != 0}
		case 5: // struct_value
			raw, ok := wirescan.Bytes(&b, typ)
			if !ok {
				return false
			}
			s, ok := d.structValue(raw, depth+1)
			if !ok {
				return false
			}
			v.Kind = &structpb.Value_StructValue{StructValue: s}
		case 6: // list_value
			raw, ok := wirescan.Bytes(&b, typ)
			if !ok {
				return false
			}
			l, ok := d.listValue(raw, depth+1)
			if !ok {
				return false
			}
			v.Kind = &structpb.Value_ListValue{ListValue: l}
		default:
			return false
		}
	}
	return true
}

// nextElement returns the next element's bytes from *b, which countField1
// has checked, and moves *b past it.
func nextElement(b *[]byte) []byte {
	_, _, n := protowire.ConsumeTag(*b)
	*b = (*b)[n:]
	v, _ := wirescan.Bytes(b, protowire.BytesType)
	return v
}

// countField1 counts the fields of b, which must all be length-delimited
// field 1 (a repeated message or a map): the shape of Struct, ListValue
// and HeaderMap.
func countField1(b []byte) (int, bool) {
	count := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			return 0, false
		}
		b = b[n:]
		if _, ok := wirescan.Bytes(&b, typ); !ok {
			return 0, false
		}
		count++
	}
	return count, true
}
