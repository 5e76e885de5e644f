package extproc

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestLowerCache: lower agrees with strings.ToLower for cached, colliding,
// overlong and concurrent names, and a cached name costs no allocation.
func TestLowerCache(t *testing.T) {
	names := []string{"X-Request-Id", "x-already-lower", "Content-Type", "X-" + strings.Repeat("A", lowerMaxName), "ÄÖ-X", ""}
	for i := range 2 * lowerSlots { // more names than slots: collisions replace entries
		names = append(names, fmt.Sprintf("X-Name-%d", i))
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				for _, n := range names {
					if got, want := lower(n), strings.ToLower(n); got != want {
						t.Errorf("lower(%q) = %q, want %q", n, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	lower("X-Flowproc")
	if n := testing.AllocsPerRun(100, func() { _ = lower("X-Flowproc") }); n != 0 {
		t.Errorf("a cached name: %.0f allocations, want 0", n)
	}
}
