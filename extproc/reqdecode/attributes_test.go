package reqdecode

import (
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"
)

// TestAttributesKept checks that the fast path keeps the attributes field
// as it came, that the message encodes it back unchanged, and that a key
// given twice reads as its last entry, as in the map protobuf-go decodes.
func TestAttributesKept(t *testing.T) {
	data, err := proto.Marshal(requestHeaders())
	if err != nil {
		t.Fatal(err)
	}
	m := new(extprocv3.ProcessingRequest)
	if !decodeFast(data, m) {
		t.Fatal("left the fast path")
	}
	if m.Attributes != nil || len(m.ProtoReflect().GetUnknown()) == 0 {
		t.Fatalf("attributes decoded into maps, not kept: %v", m.Attributes)
	}
	again, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back := new(extprocv3.ProcessingRequest)
	if err := proto.Unmarshal(again, back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back, requestHeaders()) {
		t.Fatalf("re-encoded message decodes to %v", back)
	}
	// The server reads response.code_details this way from every response:
	// in place, nothing allocated.
	if n := testing.AllocsPerRun(100, func() {
		if s, ok := AttributeString(m, "envoy.filters.http.ext_proc", "request.path"); !ok || s != "/api/upstream/x" {
			t.Fatalf("AttributeString = %q, %v", s, ok)
		}
	}); n != 0 {
		t.Fatalf("AttributeString allocates %v times", n)
	}

	entry := func(key, value string) []byte {
		v := field(nil, 3, []byte(value)) // string_value
		st := field(nil, 1, field(field(nil, 1, []byte("f")), 2, v))
		return field(field(nil, 1, []byte(key)), 2, st)
	}
	twice := field(field(field(nil, 9, entry("k", "one")), 9, entry("other", "x")), 9, entry("k", "two"))
	m = new(extprocv3.ProcessingRequest)
	if !decodeFast(twice, m) {
		t.Fatal("left the fast path for a key given twice")
	}
	if s, ok := AttributeString(m, "k", "f"); !ok || s != "two" {
		t.Fatalf("AttributeString = %q, %v; want the last entry's", s, ok)
	}
	if s := Attributes(m)["k"].GetFields()["f"].GetStringValue(); s != "two" {
		t.Fatalf("Attributes gives %q; want the last entry's", s)
	}
	sameAsProto(t, twice)
}

// TestAttributesChecked checks that an attributes field the decoder would
// refuse is refused by the check that keeps it, so that the message goes
// to proto.Unmarshal, which decodes or refuses it whole.
func TestAttributesChecked(t *testing.T) {
	val := func(v []byte) []byte { // one attribute "f" with Value v
		return field(nil, 9, field(field(nil, 1, []byte("k")), 2, field(nil, 1, field(field(nil, 1, []byte("f")), 2, v))))
	}
	big := []byte{}
	for i := range maxLazyFields + 1 {
		big = field(big, 1, field(field(nil, 1, []byte{'a' + byte(i%26), 'a' + byte(i/26)}), 2, varint(nil, 4, 1)))
	}
	cases := map[string][]byte{
		"string value not UTF-8":   val(field(nil, 3, []byte{0xff})),
		"number of the wrong type": val(varint(nil, 2, 1)),
		"bool of the wrong type":   val(field(nil, 4, []byte("x"))),
		"unknown value field":      val(varint(nil, 7, 1)),
		"nested struct key twice":  val(field(nil, 5, append(field(nil, 1, field(field(nil, 1, []byte("x")), 2, nil)), field(nil, 1, field(field(nil, 1, []byte("x")), 2, nil))...))),
		"list of a bad value":      val(field(nil, 6, field(nil, 1, varint(nil, 9, 1)))),
		"struct with no key":       val(field(nil, 5, field(nil, 1, field(nil, 2, nil)))),
		"too many fields to check": field(nil, 9, field(field(nil, 1, []byte("k")), 2, big)),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if decodeFast(data, new(extprocv3.ProcessingRequest)) {
				t.Fatal("took the fast path")
			}
			sameAsProto(t, data)
		})
	}
}
