// Package wirescan reads protobuf wire-format fields one at a time, for the
// hand-written decoders of the ext_proc messages (extproc/reqdecode for the
// server's requests, envoy/respdecode for the client's replies). Each
// function advances a slice past what it read and reports false on
// malformed data or an unexpected wire type, which sends the decoders to
// protobuf-go.
package wirescan

import "google.golang.org/protobuf/encoding/protowire"

// Tag reads a field's tag from *b.
func Tag(b *[]byte) (protowire.Number, protowire.Type, bool) {
	num, typ, n := protowire.ConsumeTag(*b)
	if n < 0 {
		return 0, 0, false
	}
	*b = (*b)[n:]
	return num, typ, true
}

// Varint reads a varint field's value from *b, which starts after the tag
// of wire type typ.
func Varint(b *[]byte, typ protowire.Type) (uint64, bool) {
	if typ != protowire.VarintType {
		return 0, false
	}
	v, n := protowire.ConsumeVarint(*b)
	if n < 0 {
		return 0, false
	}
	*b = (*b)[n:]
	return v, true
}

// Bytes reads a length-delimited field's value from *b, which starts
// after the tag of wire type typ. The value refers into *b.
func Bytes(b *[]byte, typ protowire.Type) ([]byte, bool) {
	if typ != protowire.BytesType {
		return nil, false
	}
	v, n := protowire.ConsumeBytes(*b)
	if n < 0 {
		return nil, false
	}
	*b = (*b)[n:]
	return v, true
}

// OnlyVarint reads a message whose one field is varint field 1 (a
// google.protobuf.BoolValue, an HttpStatus): its last value, as protobuf-go
// keeps the last of a scalar given twice, 0 when absent. It reports false
// for any other field.
func OnlyVarint(b []byte) (uint64, bool) {
	var v uint64
	for len(b) > 0 {
		num, typ, ok := Tag(&b)
		if !ok || num != 1 {
			return 0, false
		}
		if v, ok = Varint(&b, typ); !ok {
			return 0, false
		}
	}
	return v, true
}
