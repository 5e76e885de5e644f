package oxn

import (
	"bytes"
	"strings"
	"testing"
)

// skelStep adds one element under the element at index parent of the
// steps (-1 = the root); hole marks a scalar the fill gives.
type skelStep struct {
	parent int
	key    string
	typ    Type
	val    string
	hole   bool
}

// skelFill is one set of hole values.
type skelFill []struct {
	typ Type
	val string
}

// TestSkeletonMatchesBuilder fills skeletons and checks each tree against
// the one a TreeBuilder makes of the same elements with the same values:
// the same JSON written back and the same reads as ParseTree's tree of
// that JSON. Earlier trees from the same arena stay intact.
func TestSkeletonMatchesBuilder(t *testing.T) {
	tests := []struct {
		name  string
		steps []skelStep
		fills []skelFill
	}{
		{name: "no holes", steps: []skelStep{
			{parent: -1, key: "service", typ: String, val: "hello"},
			{parent: -1, key: "n", typ: Number, val: "2"},
		}, fills: []skelFill{{}}},
		{name: "headers", steps: []skelStep{
			{parent: -1, key: "X-Request-Id", hole: true},
			{parent: -1, key: "X-Service", hole: true},
			{parent: -1, key: "X-Static", typ: String, val: "1"},
		}, fills: []skelFill{
			{{String, "abc"}, {String, "hello"}},
			{{Number, "200"}, {Null, "ignored"}},
			{{String, ""}, {Boolean, "false"}},
			{{String, "ü\"\\\n"}, {String, "x"}},
		}},
		{name: "proxy spec", steps: []skelStep{
			{parent: -1, key: "origin", typ: String, val: "http://upstream"},
			{parent: -1, key: "stripEndpoint", typ: Boolean, val: "true"},
			{parent: -1, key: "headers", typ: Object},
			{parent: 2, key: "X-Flowproc", typ: String, val: "1"},
			{parent: 2, key: "X-Request-Id", hole: true},
			{parent: 2, key: "1 not a name", hole: true},
			{parent: -1, key: "list", typ: Array},
			{parent: 6, hole: true},
			{parent: 6, typ: Number, val: "3"},
		}, fills: []skelFill{
			{{String, "r1"}, {String, "v"}, {Number, "-1.5e3"}},
			{{Null, ""}, {Boolean, "true"}, {String, "item"}},
		}},
	}
	var arena TreeArena
	type kept struct {
		tree *Tree
		json string
	}
	var trees []kept
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b TreeBuilder
			holes := buildSkelSteps(&b, tt.steps, func(int) (Type, string) { return Null, "" })
			sk, err := b.Skeleton(holes)
			if err != nil {
				t.Fatal(err)
			}
			for _, fill := range tt.fills {
				var text []byte
				vals := make([]Hole, len(fill))
				for i, v := range fill {
					vals[i] = Hole{Type: v.typ, Off: int32(len(text)), Len: int32(len(v.val))}
					text = append(text, v.val...)
				}
				// The same elements through a TreeBuilder.
				var w TreeBuilder
				buildSkelSteps(&w, tt.steps, func(k int) (Type, string) { return fill[k].typ, fill[k].val })
				want := w.Tree()
				for _, a := range []*TreeArena{nil, &arena} {
					got := a.FillSkeleton(sk, vals, text)
					gj, wj := treeJSON(t, got), treeJSON(t, want)
					if gj != wj {
						t.Fatalf("filled %s, built %s", gj, wj)
					}
					doc, err := Parse([]byte(wj), 0)
					if err != nil {
						t.Fatal(err)
					}
					checkTreeRead(t, got, doc)
					if got.Len() != len(sk.nodes) {
						t.Errorf("Len %d, skeleton elements %d", got.Len(), len(sk.nodes))
					}
					if len(text) == 0 && got.TextLen() != len(sk.text) {
						t.Errorf("a fill without text made a text of %d bytes, want the skeleton's %d", got.TextLen(), len(sk.text))
					}
					if a != nil {
						trees = append(trees, kept{got, wj})
					}
				}
			}
		})
	}
	for _, k := range trees {
		if got := treeJSON(t, k.tree); got != k.json {
			t.Errorf("an earlier filled tree changed: %s, want %s", got, k.json)
		}
	}
}

// buildSkelSteps resets b and adds steps to it, the k-th hole with the
// type and text hole(k) gives; it returns the holes' elements.
func buildSkelSteps(b *TreeBuilder, steps []skelStep, hole func(k int) (Type, string)) []int32 {
	b.Reset("", 1, 0)
	var idx, holes []int32
	for _, s := range steps {
		parent := b.Root()
		if s.parent >= 0 {
			parent = idx[s.parent]
		}
		var i int32
		switch {
		case s.hole:
			typ, val := hole(len(holes))
			i = b.Scalar(parent, s.key, typ, val)
			holes = append(holes, i)
		case s.typ == Object:
			i = b.Object(parent, s.key)
		case s.typ == Array:
			i = b.Array(parent, s.key)
		default:
			i = b.Scalar(parent, s.key, s.typ, s.val)
		}
		idx = append(idx, i)
	}
	return holes
}

// TestSkeletonErrors: holes must be scalars below the root, and a fill
// must give every hole a scalar.
func TestSkeletonErrors(t *testing.T) {
	var b TreeBuilder
	b.Reset("", 1, 0)
	o := b.Object(b.Root(), "o")
	s := b.Scalar(b.Root(), "s", Null, "")
	for _, holes := range [][]int32{{0}, {o}, {s + 1}} {
		var c TreeBuilder
		c.Reset("", 1, 0)
		c.Object(c.Root(), "o")
		c.Scalar(c.Root(), "s", Null, "")
		if _, err := c.Skeleton(holes); err == nil {
			t.Errorf("Skeleton(%v) accepted", holes)
		}
	}
	sk, err := b.Skeleton([]int32{s})
	if err != nil {
		t.Fatal(err)
	}
	for name, vals := range map[string][]Hole{"too few values": nil, "an object value": {{Type: Object}}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "oxn:") {
					t.Errorf("%s: recovered %v, want an oxn panic", name, r)
				}
			}()
			(*TreeArena)(nil).FillSkeleton(sk, vals, nil)
		}()
	}
}

// TestFillSkeletonAllocs: a fill from an arena with room allocates
// nothing (short value texts go to its text chunk), and a long value text
// gets one allocation of its own.
func TestFillSkeletonAllocs(t *testing.T) {
	var b TreeBuilder
	b.Reset("", 1, 0)
	h := b.Scalar(b.Root(), "X-Request-Id", Null, "")
	b.String(b.Root(), "X-Service", "hello")
	sk, err := b.Skeleton([]int32{h})
	if err != nil {
		t.Fatal(err)
	}
	var a TreeArena
	for _, tc := range []struct {
		text []byte
		want float64
	}{{nil, 0}, {[]byte("abc"), 0}, {bytes.Repeat([]byte("x"), maxKeptText+1), 1}} {
		vals := []Hole{{Type: String, Len: int32(len(tc.text))}}
		if got := testing.AllocsPerRun(100, func() {
			a.Reset()
			a.FillSkeleton(sk, vals, tc.text)
		}); got != tc.want {
			t.Errorf("text of %d bytes: %.0f allocations, want %.0f", len(tc.text), got, tc.want)
		}
	}
}

// TestKeptTextSurvivesReset: texts from an arena's chunk stay as they were
// after Reset and any number of later fills (the chunk is append-only), so
// a string read from a recycled run's tree is never rewritten.
func TestKeptTextSurvivesReset(t *testing.T) {
	var b TreeBuilder
	b.Reset("", 1, 0)
	h := b.Scalar(b.Root(), "v", Null, "")
	sk, err := b.Skeleton([]int32{h})
	if err != nil {
		t.Fatal(err)
	}
	var a TreeArena
	type kept struct{ tree, value string }
	var all []kept
	for i := range 3 * textChunk / 10 { // several chunks
		v := strings.Repeat(string(rune('a'+i%26)), 1+i%9)
		tree := a.FillSkeleton(sk, []Hole{{Type: String, Len: int32(len(v))}}, []byte(v))
		all = append(all, kept{tree.StringValue(h), v})
		if i%7 == 0 {
			a.Reset()
		}
	}
	for i, k := range all {
		if k.tree != k.value {
			t.Fatalf("value %d is now %q, want %q", i, k.tree, k.value)
		}
	}
}

// TestArenaText: Text gives b's contents, from the chunk of an arena that
// has been Reset (no allocation) and as a copy otherwise, and never
// aliases b.
func TestArenaText(t *testing.T) {
	b := []byte("http://upstream/v2/x?y=1")
	var a TreeArena
	for _, tc := range []struct {
		name  string
		a     *TreeArena
		reset bool
		want  float64
	}{{"nil arena", nil, false, 1}, {"fresh arena", &a, false, 1}, {"reset arena", &a, true, 0}} {
		if tc.reset {
			a.Reset()
		}
		s := tc.a.Text(b)
		if n := testing.AllocsPerRun(50, func() { s = tc.a.Text(b) }); n != tc.want {
			t.Errorf("%s: %.0f allocations, want %.0f", tc.name, n, tc.want)
		}
		b[0] = 'X'
		if s != "http://upstream/v2/x?y=1" {
			t.Errorf("%s: %q changed with its source", tc.name, s)
		}
		b[0] = 'h'
	}
}
