package flowengine

import (
	"slices"
	"testing"
)

// recordTracer keeps the steps it saw, prefixed with its name.
type recordTracer struct {
	name string
	log  *[]string
}

func (r recordTracer) TraceEvent(e Event) { *r.log = append(*r.log, r.name+":"+e.Step) }

func TestMultiTracer(t *testing.T) {
	var log []string
	a, b := recordTracer{"a", &log}, recordTracer{"b", &log}
	tests := []struct {
		name string
		x, y Tracer
		want []string
	}{
		{"both nil", nil, nil, nil},
		{"first nil", nil, b, []string{"b:s"}},
		{"second nil", a, nil, []string{"a:s"}},
		{"both, in order", a, b, []string{"a:s", "b:s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log = nil
			m := MultiTracer(tc.x, tc.y)
			if tc.x == nil && tc.y == nil {
				if m != nil {
					t.Fatalf("MultiTracer(nil, nil) = %v, want nil", m)
				}
				return
			}
			if tc.x == nil && m != tc.y || tc.y == nil && m != tc.x {
				t.Fatalf("MultiTracer with one nil did not return the other: %#v", m)
			}
			m.TraceEvent(Event{Step: "s"})
			if !slices.Equal(log, tc.want) {
				t.Fatalf("events = %v, want %v", log, tc.want)
			}
		})
	}
}
