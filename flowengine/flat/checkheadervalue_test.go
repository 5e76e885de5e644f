package flat

import "testing"

func TestCheckHeaderValue(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"", true},
		{"plain value", true},
		{"tab\tand other controls \x01\x0b\x0c\x1f", true},
		{"ünïcode", true},
		{"a\rb", false},
		{"a\nb", false},
		{"\x00", false},
		{"end\r\n", false},
	} {
		if err := checkHeaderValue(tc.v); (err == nil) != tc.ok {
			t.Errorf("checkHeaderValue(%q) = %v, want ok %v", tc.v, err, tc.ok)
		}
	}
}

func TestValidHeaderName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"x-request-id", true},
		{"X-Custom_Header.v2", true},
		{"!#$%&'*+-.^_`|~", true},
		{"", false},
		{"with space", false},
		{"colon:", false},
		{"ünï", false},
		{"quote\"", false},
		{"(paren)", false},
	} {
		if got := validHeaderName(tc.name); got != tc.ok {
			t.Errorf("validHeaderName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
