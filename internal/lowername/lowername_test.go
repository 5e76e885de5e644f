package lowername

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestLower: Lower agrees with strings.ToLower for lower-case, cached,
// colliding, overlong, non-ASCII and concurrent names, and neither a
// lower-case nor a cached name costs an allocation.
func TestLower(t *testing.T) {
	names := []string{"X-Request-Id", "x-already-lower", "Content-Type", "X-" + strings.Repeat("A", maxName), "ÄÖ-X", "äÖ", "ÄÖ", ""}
	for i := range 2 * slots { // more names than slots: collisions replace entries
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
