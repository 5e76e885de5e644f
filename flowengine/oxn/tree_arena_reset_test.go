package oxn

import (
	"fmt"
	"testing"
)

// TestTreeArenaReset: after Reset an arena hands out its kept blocks again
// (a round of the same work allocates only the trees' texts), and trees
// built after a Reset are whole, parsed and built alike.
func TestTreeArenaReset(t *testing.T) {
	var a TreeArena
	round := func(r int) []*Tree {
		var trees []*Tree
		for i := range 6 {
			tr, err := a.ParseTreeString(fmt.Sprintf(`{"round":%d,"i":%d,"a":[1,2,3]}`, r, i), 64)
			if err != nil {
				t.Fatal(err)
			}
			var b TreeBuilder
			a.StartBuilder(&b, "", 3, 8)
			b.String(b.Root(), "k", fmt.Sprint(r, i))
			trees = append(trees, tr, a.BuiltTree(&b))
		}
		return trees
	}
	for r := range 3 {
		trees := round(r)
		for i := 0; i < len(trees); i += 2 {
			want := fmt.Sprintf(`{"round":%d,"i":%d,"a":[1,2,3]}`, r, i/2)
			if got := treeJSON(t, trees[i]); got != want {
				t.Fatalf("round %d: parsed %s, want %s", r, got, want)
			}
			want = fmt.Sprintf(`{"k":"%d %d"}`, r, i/2)
			if got := treeJSON(t, trees[i+1]); got != want {
				t.Fatalf("round %d: built %s, want %s", r, got, want)
			}
		}
		a.Reset()
	}
	// Once the blocks fit, a round allocates only what is not the arena's:
	// each parsed text (ParseTreeString keeps s) and each built text.
	s := `{"a":[1,2,3],"b":{"c":true}}`
	for range 2 {
		for range 6 {
			if _, err := a.ParseTreeString(s, 64); err != nil {
				t.Fatal(err)
			}
		}
		a.Reset()
	}
	if n := testing.AllocsPerRun(20, func() {
		for range 6 {
			_, _ = a.ParseTreeString(s, 64)
		}
		a.Reset()
	}); n != 0 {
		t.Errorf("a reused arena allocates %.0f times per round, want 0", n)
	}
}
