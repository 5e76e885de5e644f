package lowername

import (
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"testing"
)

// TestLower: Lower agrees with strings.ToLower for lower-case, cached,
// colliding, overlong, non-ASCII and concurrent names, and neither a
// lower-case nor a cached name costs an allocation.
func TestLower(t *testing.T) {
	names := []string{"X-Request-Id", "x-already-lower", "Content-Type", "X-" + strings.Repeat("A", maxName), "ÄÖ-X", "äÖ", "ÄÖ", ""}
	for i := range 2 * sets * ways { // more names than entries: full sets replace entries
		names = append(names, fmt.Sprintf("X-Name-%d", i))
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				for _, n := range names {
					if got, want := Lower(n), strings.ToLower(n); got != want {
						t.Errorf("Lower(%q) = %q, want %q", n, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	Lower("X-Flowproc")
	for _, n := range []string{"X-Flowproc", "x-lower"} {
		if a := testing.AllocsPerRun(100, func() { _ = Lower(n) }); a != 0 {
			t.Errorf("Lower(%q): %.0f allocations, want 0", n, a)
		}
	}
}

// TestLowerSameSet: four names that hash to the same set all stay cached
// (a direct-mapped table made two such names evict each other on every
// call), and a fifth one replaces one way at a time without losing the
// right answer.
func TestLowerSameSet(t *testing.T) {
	c := &cache{seed: maphash.MakeSeed()}
	var same []string
	for i := 0; len(same) < ways+1; i++ {
		n := fmt.Sprintf("X-Header-%d", i)
		if maphash.String(c.seed, n)%sets == maphash.String(c.seed, "X-Header-0")%sets {
			same = append(same, n)
		}
	}
	hot := same[:ways]
	for _, n := range hot {
		c.get(n)
	}
	if a := testing.AllocsPerRun(100, func() {
		for _, n := range hot {
			_ = c.get(n)
		}
	}); a != 0 {
		t.Errorf("%d names in one set: %.0f allocations per round, want 0", ways, a)
	}
	for range 3 {
		for _, n := range same {
			if got, want := c.get(n), strings.ToLower(n); got != want {
				t.Fatalf("get(%q) = %q, want %q", n, got, want)
			}
		}
	}
}

func BenchmarkLower(b *testing.B) {
	for _, n := range []string{"x-request-id", "X-Request-Id"} {
		b.Run(n, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Lower(n)
			}
		})
	}
}
