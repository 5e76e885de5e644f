package oxn

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// treeJSON returns the compact JSON of t's json element.
func treeJSON(t testing.TB, tree *Tree) string {
	t.Helper()
	var b bytes.Buffer
	if err := tree.WriteJSON(&b, DocIndex); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTreeBuilderCopy copies elements of parsed trees under object and
// array parents and checks that the result is the tree ParseTree makes of
// the JSON the copy stands for.
func TestTreeBuilderCopy(t *testing.T) {
	tests := []struct {
		name, src, path, want string
	}{
		{"object", `{"a":{"x":1,"y":[true,null,"s"]}}`, "a", `{"k":{"x":1,"y":[true,null,"s"]},"last":0}`},
		{"string with escapes", `{"a":"q\"\\\u00e9\n"}`, "a", `{"k":"q\"\\é\n","last":0}`},
		{"number text kept", `{"a":1.50e2}`, "a", `{"k":1.50e2,"last":0}`},
		{"keys that are not XML names", `{"a":{"1 x":"v","":{}}}`, "a", `{"k":{"1 x":"v","":{}},"last":0}`},
		{"empty containers", `{"a":[[],{}]}`, "a", `{"k":[[],{}],"last":0}`},
		{"whole document", `[1,{"b":2}]`, "", `{"k":[1,{"b":2}],"last":0}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := ParseTreeString(tc.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			i := DocIndex
			if tc.path != "" {
				for c := src.FirstChild(0); c != NoIndex; c = src.Next(c) {
					if src.Key(c) == tc.path {
						i = c
					}
				}
			}
			var b TreeBuilder
			b.Reset("", 2, 0)
			if _, err := b.Copy(b.Root(), "k", src, i, 1, 0); err != nil {
				t.Fatal(err)
			}
			b.Scalar(b.Root(), "last", Number, "0")
			got := b.Tree()
			want, err := ParseTreeString(tc.want, 0)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := treeJSON(t, got), treeJSON(t, want); g != w {
				t.Errorf("copy gives %s, want %s", g, w)
			}
			// Copied under an array, members lose their keys as parsing
			// an array item does.
			b.Reset("", 2, 0)
			arr := b.Array(b.Root(), "arr")
			if _, err := b.Copy(arr, "ignored", src, i, 2, 0); err != nil {
				t.Fatal(err)
			}
			wantArr, _ := ParseTreeString(`{"arr":[`+strings.TrimSuffix(strings.TrimPrefix(tc.want, `{"k":`), `,"last":0}`)+`]}`, 0)
			if g, w := treeJSON(t, b.Tree()), treeJSON(t, wantArr); g != w {
				t.Errorf("copy into an array gives %s, want %s", g, w)
			}
		})
	}
}

// TestTreeBuilderCopyDepth: a copy is refused exactly when parsing the
// whole text would be, with ErrTooDeep, and adds nothing then.
func TestTreeBuilderCopyDepth(t *testing.T) {
	src, err := ParseTreeString(`{"a":[[["deep"]]]}`, 0) // a: 3 levels
	if err != nil {
		t.Fatal(err)
	}
	a := src.FirstChild(0)
	for _, tc := range []struct {
		depth, max int
		ok         bool
	}{{1, 4, true}, {2, 4, false}, {1, 3, false}, {0, 3, true}} {
		var b TreeBuilder
		b.Reset("", 2, 0)
		_, err := b.Copy(b.Root(), "k", src, a, tc.depth, tc.max)
		if tc.ok != (err == nil) {
			t.Errorf("depth %d max %d: err %v, want ok %v", tc.depth, tc.max, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrTooDeep) {
			t.Errorf("depth %d max %d: %v does not wrap ErrTooDeep", tc.depth, tc.max, err)
		}
		if err != nil && treeJSON(t, b.Tree()) != `{}` {
			t.Errorf("depth %d max %d: a refused copy added members", tc.depth, tc.max)
		}
		// The same limit as the parser's: the copy's text nested in
		// depth objects.
		text := strings.Repeat(`{"k":`, tc.depth) + `[[["deep"]]]` + strings.Repeat(`}`, tc.depth)
		if _, perr := ParseTreeString(text, tc.max); (perr == nil) != tc.ok {
			t.Errorf("depth %d max %d: parser says %v", tc.depth, tc.max, perr)
		}
	}
	var b TreeBuilder
	b.Reset("", 1, 0)
	if _, err := b.Copy(b.Root(), "k", &Tree{}, DocIndex, 1, 0); !errors.Is(err, ErrNotJSON) {
		t.Errorf("copy of an empty tree: %v", err)
	}
}

// TestArenaBuilder builds trees with their nodes and headers from an
// arena: each stays intact after more are built, and a small one
// allocates only its text.
func TestArenaBuilder(t *testing.T) {
	var a TreeArena
	var trees []*Tree
	for i := range 40 {
		var b TreeBuilder
		a.StartBuilder(&b, "", 3, 8)
		b.String(b.Root(), "i", strings.Repeat("x", i))
		arr := b.Array(b.Root(), "a")
		for range i % 5 {
			b.Scalar(arr, "", Number, "1")
		}
		trees = append(trees, a.BuiltTree(&b))
	}
	for i, tree := range trees {
		want := `{"i":"` + strings.Repeat("x", i) + `","a":[` + strings.TrimSuffix(strings.Repeat("1,", i%5), ",") + `]}`
		if g := treeJSON(t, tree); g != want {
			t.Errorf("tree %d: %s, want %s", i, g, want)
		}
	}
	var fresh TreeArena
	allocs := testing.AllocsPerRun(1, func() {
		var b TreeBuilder
		fresh.StartBuilder(&b, "", 3, 8)
		b.String(b.Root(), "k", "v")
		fresh.BuiltTree(&b)
	})
	if allocs > 1 {
		t.Errorf("a small arena build allocates %v times, want at most 1 (its text)", allocs)
	}
}
