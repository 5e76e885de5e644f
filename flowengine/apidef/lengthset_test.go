package apidef

import (
	"fmt"
	"strings"
	"testing"
)

func TestLengthSet(t *testing.T) {
	var s lengthSet
	for _, n := range []int{0, 1, 63, 64, 500, 1023, 5000} {
		s.add(n)
	}
	for _, tc := range []struct {
		n    int
		want bool
	}{
		{0, true}, {1, true}, {2, false}, {63, true}, {64, true}, {65, false},
		{500, true}, {1022, false}, {1023, true},
		{1024, true}, {4096, true}, // from maxSetLength up: one member
	} {
		if got := s.has(tc.n); got != tc.want {
			t.Errorf("has(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	var empty lengthSet
	if empty.has(0) || empty.has(2000) {
		t.Error("an empty set has members")
	}
}

// TestMatchSkipsLengths: the length filter in front of the exact and
// wildcard maps never hides a route, for keys below and far above
// maxSetLength and for prefixes of every length of a long path.
func TestMatchSkipsLengths(t *testing.T) {
	long := "/" + strings.Repeat("l", 1500)
	wild := "/" + strings.Repeat("w", 1200)
	spec := fmt.Sprintf("swagger: \"2.0\"\nbasePath: /api\npaths:\n  /a:\n    get:\n  %s:\n    get:\n  %s/**:\n    get:\n  /s/**:\n    get:\n", long, wild)
	d := mustLoad(t, writeProject(t, map[string]string{"swagger.yaml": spec}))
	for _, tc := range []struct{ path, want string }{
		{"/api/a", "/a"},
		{"/api" + long, long},
		{"/api" + wild + "/x/y", wild + "/**"},
		{"/api" + wild, wild + "/**"},
		{"/api/s/" + strings.Repeat("p/", 600), "/s/**"},
	} {
		m := d.Match("GET", tc.path)
		if m.Kind != Matched || m.Path.Pattern != tc.want {
			t.Errorf("Match(%.40q…) = kind %v pattern %q, want %q", tc.path, m.Kind, patternOf(m), tc.want)
		}
	}
	if m := d.Match("GET", "/api/b"); m.Kind != NotFound {
		t.Errorf("Match(/api/b) = kind %v, want NotFound", m.Kind)
	}
}

func patternOf(m Match) string {
	if m.Path == nil {
		return ""
	}
	return m.Path.Pattern
}
