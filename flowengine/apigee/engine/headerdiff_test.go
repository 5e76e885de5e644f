package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// diffByName is headerDiff's meaning, computed name by name without
// shortcuts: every name of now whose lines differ from was's is set to its
// lines joined with ", "; every name of was that now lacks is removed.
func diffByName(was, now []flowengine.Header) (set map[string]string, remove []string) {
	set = map[string]string{}
	lines := func(hs []flowengine.Header, name string) []string {
		var out []string
		for _, h := range hs {
			if strings.EqualFold(h.Name, name) {
				out = append(out, h.Value)
			}
		}
		return out
	}
	for _, h := range now {
		n := strings.ToLower(h.Name)
		if l := lines(now, n); !slices.Equal(l, lines(was, n)) {
			set[n] = strings.Join(l, ", ")
		}
	}
	for _, h := range was {
		n := strings.ToLower(h.Name)
		if lines(now, n) == nil && !slices.Contains(remove, n) {
			remove = append(remove, n)
		}
	}
	slices.Sort(remove)
	return set, remove
}

func TestHeaderDiff(t *testing.T) {
	h := func(kv ...string) []flowengine.Header {
		var hs []flowengine.Header
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, flowengine.Header{Name: kv[i], Value: kv[i+1]})
		}
		return hs
	}
	for _, tc := range []struct {
		name     string
		was, now []flowengine.Header
		set      string
		remove   string
	}{
		{"unchanged", h("a", "1", "b", "2"), h("a", "1", "b", "2"), "[]", "[]"},
		{"appended", h("a", "1"), h("a", "1", "X-Via", "p"), "[{x-via p}]", "[]"},
		{"set replaces", h("a", "1", "b", "2"), h("b", "2", "a", "9"), "[{a 9}]", "[]"},
		{"a second line joins", h("a", "1"), h("a", "1", "a", "2"), "[{a 1, 2}]", "[]"},
		{"removed", h("a", "1", "b", "2"), h("a", "1"), "[]", "[b]"},
		{"all removed", h("a", "1", "b", "2"), nil, "[]", "[a b]"},
		// A line removed from a name that keeps a line in the prefix.
		{"line removed behind the prefix", h("a", "1", "b", "2", "a", "3"), h("a", "1", "b", "2"), "[{a 1}]", "[]"},
		{"same lines other case", h("a", "1"), h("A", "1"), "[]", "[]"},
		{"reordered lines of one name", h("a", "1", "a", "2"), h("a", "2", "a", "1"), "[{a 2, 1}]", "[]"},
	} {
		set, remove := headerDiff(tc.was, tc.now, nil, nil)
		if got := fmt.Sprint(set); got != tc.set {
			t.Errorf("%s: set %s, want %s", tc.name, got, tc.set)
		}
		if got := fmt.Sprint(remove); got != tc.remove {
			t.Errorf("%s: remove %s, want %s", tc.name, got, tc.remove)
		}
	}
}

// TestHeaderDiffRandom compares headerDiff with diffByName on header lists
// changed the way policies change them (Message's SetHeader, AddHeader,
// RemoveHeader), from random starting lists with repeated names.
func TestHeaderDiffRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"a", "B", "c", "x-via", "X-Via", "set-cookie"}
	pick := func() string { return names[rng.IntN(len(names))] }
	for i := range 5000 {
		var was []flowengine.Header
		for range rng.IntN(6) {
			was = append(was, flowengine.Header{Name: strings.ToLower(pick()), Value: fmt.Sprint(rng.IntN(3))})
		}
		m := &Message{Headers: was}
		for range rng.IntN(4) {
			switch v := fmt.Sprint(rng.IntN(3)); rng.IntN(3) {
			case 0:
				m.SetHeader(pick(), v)
			case 1:
				m.AddHeader(pick(), v)
			default:
				m.RemoveHeader(pick())
			}
		}
		set, remove := headerDiff(was, m.Headers, nil, nil)
		gotSet := map[string]string{}
		for _, h := range set {
			if _, dup := gotSet[h.Name]; dup {
				t.Fatalf("case %d: %s set twice (was %v, now %v)", i, h.Name, was, m.Headers)
			}
			gotSet[h.Name] = h.Value
		}
		slices.Sort(remove)
		wantSet, wantRemove := diffByName(was, m.Headers)
		if fmt.Sprint(gotSet) != fmt.Sprint(wantSet) || fmt.Sprint(remove) != fmt.Sprint(wantRemove) {
			t.Fatalf("case %d: was %v, now %v:\nset %v remove %v\nwant set %v remove %v", i, was, m.Headers, gotSet, remove, wantSet, wantRemove)
		}
	}
}

func TestHeaderLine(t *testing.T) {
	m := &Message{Headers: []flowengine.Header{{Name: "Accept", Value: "a"}, {Name: "x", Value: ""}, {Name: "ACCEPT", Value: "b"}, {Name: "one", Value: "v"}}}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"accept", "a, b", true},
		{"x", "", true},
		{"one", "v", true},
		{"none", "", false},
	} {
		if got, ok := m.HeaderLine(tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("HeaderLine(%s) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { m.HeaderLine("one") }); n != 0 {
		t.Errorf("HeaderLine of one line: %v allocations", n)
	}
}

// TestHeaderDiffAllocs: the names of the mutations are lower-cased without
// allocating when a policy sets or removes a mixed-case name
// (X-Served-By), as bundles write them, run after run.
func TestHeaderDiffAllocs(t *testing.T) {
	if racecheck.Enabled {
		t.Skip("allocation counts differ under the race detector")
	}
	was := []flowengine.Header{{Name: "Accept", Value: "*/*"}, {Name: "X-Gone", Value: "1"}}
	now := []flowengine.Header{{Name: "Accept", Value: "*/*"}, {Name: "X-Served-By", Value: "apigee"}}
	set, remove := make([]flowengine.Header, 0, 4), make([]string, 0, 4)
	headerDiff(was, now, set, remove) // the names are lowered once
	allocs := testing.AllocsPerRun(100, func() {
		s, r := headerDiff(was, now, set[:0], remove[:0])
		if len(s) != 1 || s[0].Name != "x-served-by" || len(r) != 1 || r[0] != "x-gone" {
			t.Fatalf("set %v, remove %v", s, r)
		}
	})
	if allocs != 0 {
		t.Errorf("headerDiff allocates %v times per run", allocs)
	}
}
