package flowtest

import (
	"fmt"
	"io"
	"strings"
)

// writeTAP prints the results as TAP, as `flat test` does:
//
//	1..2
//	ok 1 GET /api/is-odd?number=4 (tests/test-even.xml): 2 assertions
//	not ok 2 tests/test-fails.xml: 1 of 2 assertions failed
//	# tests/test-fails.xml:2: assertion 1 [true()]: got true, want false (should fail)
//	passed: 1, failed: 1
func writeTAP(w io.Writer, results []*Result) {
	fmt.Fprintf(w, "1..%d\n", len(results))
	passed, failed := 0, 0
	for i, r := range results {
		name := r.File
		if r.Name != "" {
			name = r.Name + " (" + r.File + ")"
		} else if len(r.Requests) > 0 {
			name = r.Requests[0] + " (" + r.File + ")"
		}
		status := "ok"
		if !r.OK() {
			status = "not ok"
			failed++
		} else {
			passed++
		}
		fmt.Fprintf(w, "%s %d %s: %s\n", status, i+1, name, summary(r))
		for _, f := range r.Failures {
			fmt.Fprintf(w, "# %s\n", f)
		}
		if r.Err != nil {
			for _, line := range strings.Split(r.Err.Error(), "\n") {
				fmt.Fprintf(w, "# %s\n", line)
			}
		}
		if r.Trace != "" {
			for _, line := range strings.Split(strings.TrimRight(r.Trace, "\n"), "\n") {
				fmt.Fprintf(w, "#   %s\n", line)
			}
		}
	}
	fmt.Fprintf(w, "passed: %d, failed: %d\n", passed, failed)
}

func summary(r *Result) string {
	n := plural(r.Assertions, "assertion")
	switch {
	case r.Err != nil:
		return "error after " + n
	case len(r.Failures) > 0:
		return fmt.Sprintf("%d of %s failed", len(r.Failures), n)
	}
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
