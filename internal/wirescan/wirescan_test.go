package wirescan

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestReads(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 300)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("abc"))
	num, typ, ok := Tag(&b)
	if !ok || num != 1 || typ != protowire.VarintType {
		t.Fatalf("Tag = %d %d %v", num, typ, ok)
	}
	if _, ok := Bytes(&[]byte{0x05}, typ); ok {
		t.Error("Bytes accepted a varint's wire type")
	}
	if v, ok := Varint(&b, typ); !ok || v != 300 {
		t.Fatalf("Varint = %d %v", v, ok)
	}
	num, typ, ok = Tag(&b)
	if !ok || num != 2 {
		t.Fatalf("second Tag = %d %v", num, ok)
	}
	if _, ok := Varint(&[]byte{0x01}, typ); ok {
		t.Error("Varint accepted a bytes wire type")
	}
	if v, ok := Bytes(&b, typ); !ok || string(v) != "abc" || len(b) != 0 {
		t.Fatalf("Bytes = %q %v, rest %d", v, ok, len(b))
	}
	for _, bad := range [][]byte{{}, {0x80}, {0x00}} {
		c := bad
		if _, _, ok := Tag(&c); ok {
			t.Errorf("Tag(% x) accepted", bad)
		}
	}
	if _, ok := Bytes(&[]byte{0x05, 'a'}, protowire.BytesType); ok {
		t.Error("Bytes accepted a length past the end")
	}
	if _, ok := Varint(&[]byte{0x80}, protowire.VarintType); ok {
		t.Error("Varint accepted a truncated varint")
	}
}

func TestOnlyVarint(t *testing.T) {
	field := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		v    uint64
		ok   bool
	}{
		{"empty", nil, 0, true},
		{"one", field(1, 7), 7, true},
		{"last wins", append(field(1, 7), field(1, 9)...), 9, true},
		{"other field", field(2, 7), 0, false},
		{"wrong type", protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), nil), 0, false},
		{"truncated", []byte{0x08}, 0, false},
	} {
		v, ok := OnlyVarint(tc.b)
		if v != tc.v || ok != tc.ok {
			t.Errorf("%s: OnlyVarint = %d %v, want %d %v", tc.name, v, ok, tc.v, tc.ok)
		}
	}
}
