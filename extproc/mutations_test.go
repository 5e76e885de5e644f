package extproc

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

func TestHeaderValue(t *testing.T) {
	tests := []struct {
		name string
		in   []*corev3.HeaderValue
		want []string
	}{
		{name: "raw_value (what Envoy sends)", in: []*corev3.HeaderValue{
			{Key: ":path", RawValue: []byte("/a")}, {Key: "x", RawValue: []byte("1")}}, want: []string{"/a", "1"}},
		{name: "value when raw_value is empty (send_header_raw_value=false)", in: []*corev3.HeaderValue{
			{Key: "a", Value: "text"}, {Key: "b", RawValue: []byte("raw")}, {Key: "c"}, {Key: "d", Value: "v", RawValue: []byte("r")}},
			want: []string{"text", "raw", "", "r"}},
		{name: "no headers", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, h := range tc.in {
				if got := headerValue(h); got != tc.want[i] {
					t.Errorf("header %d (%s) = %q, want %q", i, h.Key, got, tc.want[i])
				}
			}
		})
	}
}

func TestDetails(t *testing.T) {
	tests := []struct{ project, want string }{
		{"", "flowproc"}, {"shop", "flowproc_shop"}, {"my shop\tv2", "flowproc_my_shop_v2"},
	}
	for _, tc := range tests {
		if got := details(tc.project); got != tc.want {
			t.Errorf("details(%q) = %q, want %q", tc.project, got, tc.want)
		}
	}
}
