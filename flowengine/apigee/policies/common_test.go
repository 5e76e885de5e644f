package policies

import "testing"

func TestContentTypeIs(t *testing.T) {
	cases := []struct {
		ct, kind string
		want     bool
	}{
		{"application/json", "json", true},
		{"Application/JSON; charset=utf-8", "json", true},
		{"application/vnd.api+json", "json", true},
		{"text/json", "json", false},
		{"text/plain", "json", false},
		{"application/xml", "xml", true},
		{"text/xml;charset=UTF-8", "xml", true},
		{"application/soap+xml", "xml", true},
		{"text/html", "xml", false},
		{"", "xml", false},
		{"json", "json", false},
	}
	for _, c := range cases {
		if got := contentTypeIs(c.ct, c.kind); got != c.want {
			t.Errorf("contentTypeIs(%q, %q) = %v", c.ct, c.kind, got)
		}
	}
}
