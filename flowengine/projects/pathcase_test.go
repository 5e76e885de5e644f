package projects

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

func TestResolveCaseMismatch(t *testing.T) {
	t1 := &Entry{Name: "t", BasePaths: []string{"/t"}, Runner: failing{name: "t"}}
	up := &Entry{Name: "up", BasePaths: []string{"/Up"}, Runner: failing{name: "up"}}
	def := &Entry{Name: "def", Runner: failing{name: "def"}}
	s, err := New([]*Entry{def, t1, up}, "def")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, project string
		refused             bool
	}{
		{"", "/t/hello", "t", false},
		{"", "/t", "t", false},
		{"", "/T/hello", "t", true},
		{"", "/T?x=1", "t", true},
		{"", "/Tx/hello", "def", false},
		{"", "/up/x", "up", true},
		{"", "/Up/x", "up", false},
		{"", "/other", "def", false},
		{"t", "/T/hello", "t", true}, // chosen by name: still refused
		{"t", "/other", "t", false},  // chosen by name outside its base: its flows decide
		{"def", "/T/hello", "def", false},
	} {
		run, project, ok := s.Resolve(tc.name, tc.path)
		if !ok || project != tc.project {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", tc.name, tc.path, project, ok, tc.project)
			continue
		}
		_, refused := run.(caseMismatch)
		if refused != tc.refused {
			t.Errorf("Resolve(%q, %q) refused = %v, want %v", tc.name, tc.path, refused, tc.refused)
		}
		if refused {
			o := run.Run(context.Background(), &flowengine.Request{ID: "r1", Path: tc.path}, nil)
			if o.Status != 400 || o.Error != "3213" || o.Kind != flowengine.Answered {
				t.Errorf("case mismatch outcome: %d %q %v", o.Status, o.Error, o.Kind)
			}
		}
	}
}
