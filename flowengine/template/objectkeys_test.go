package template

import (
	"slices"
	"testing"
)

// TestObjectKeys lists the member keys of a shaped template's objects.
func TestObjectKeys(t *testing.T) {
	const proxy = `{"origin": "http://u", "headers": {"X-A": "1", "x-b": {{ x }}, "X-A": null}, "n": [1, {"c": 2}]}`
	tests := []struct {
		src  string
		path []string
		want []string
	}{
		{`{ "X-Request-Id": {{ $request/id }}, "X-Service": "hello" }`, nil, []string{"X-Request-Id", "X-Service"}},
		{proxy, nil, []string{"origin", "headers", "n"}},
		{proxy, []string{"headers"}, []string{"X-A", "x-b", "X-A"}},
		{proxy, []string{"origin"}, nil},                                 // not an object
		{proxy, []string{"n"}, nil},                                      // an array
		{proxy, []string{"missing"}, nil},                                // no such member
		{proxy, []string{"headers", "X-A"}, nil},                         // a scalar
		{`{"h": {"a": 1}, "h": {"b": 2}}`, []string{"h"}, []string{"a"}}, // the first of two
		{`{}`, nil, nil},
		{`[ {{ x }} ]`, nil, nil}, // no shape
		{`{ "a": {{if t}}1{{else}}2{{end}} }`, nil, nil},
	}
	for _, tt := range tests {
		tm, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if got := tm.ObjectKeys(tt.path...); !slices.Equal(got, tt.want) {
			t.Errorf("%s %v: ObjectKeys = %q, want %q", tt.src, tt.path, got, tt.want)
		}
	}
}
