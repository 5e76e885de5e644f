package dom

import "testing"

// TestSetAttrNeverWritesSharedArrays checks that SetAttr leaves an
// attribute array that other nodes share (as parsers hand out) untouched.
func TestSetAttrNeverWritesSharedArrays(t *testing.T) {
	shared := []Attr{{Name: "string"}}
	a := &Node{Type: ElementNode, Name: "a", Attrs: shared[:1:1]}
	b := &Node{Type: ElementNode, Name: "b", Attrs: shared[:1:1]}
	tests := []struct {
		name, value string
		want        []Attr
	}{
		{"string", "", []Attr{{Name: "string"}}},
		{"string", "x", []Attr{{Name: "string", Value: "x"}}},
		{"extra", "1", []Attr{{Name: "string", Value: "x"}, {Name: "extra", Value: "1"}}},
		{"extra", "2", []Attr{{Name: "string", Value: "x"}, {Name: "extra", Value: "2"}}},
	}
	for _, tt := range tests {
		a.SetAttr(tt.name, tt.value)
		if len(a.Attrs) != len(tt.want) {
			t.Fatalf("SetAttr(%q, %q): attrs %v, want %v", tt.name, tt.value, a.Attrs, tt.want)
		}
		for i := range tt.want {
			if a.Attrs[i] != tt.want[i] {
				t.Fatalf("SetAttr(%q, %q): attrs %v, want %v", tt.name, tt.value, a.Attrs, tt.want)
			}
		}
		if shared[0].Value != "" || len(b.Attrs) != 1 || b.Attrs[0].Value != "" {
			t.Fatalf("SetAttr(%q, %q) wrote into the shared array: %v", tt.name, tt.value, shared)
		}
	}
}
