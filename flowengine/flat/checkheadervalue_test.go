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
