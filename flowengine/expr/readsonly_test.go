package expr

import "testing"

// TestReadsOnly: the expressions whose value depends on $env alone, the
// form FLAT shares an <template out> of, and the plain reads of any one
// variable, the values of a <log> FLAT may skip.
func TestReadsOnly(t *testing.T) {
	for _, tc := range []struct {
		src       string
		readsOnly bool // ReadsOnly("env")
		plainRead bool
	}{
		{"'text'", true, true},
		{"42", true, true},
		{"$env", true, true},
		{"$env/STAGE", true, true},
		{"$env/A/B[1]", true, true},
		{"$env/A[x = 'y']", true, true},
		{"$env/STAGE = 'prod'", true, true},
		{"$env/N > 3", true, true},
		{"count($env/*)", true, true},
		{"boolean($env/X)", true, true},
		{"$other", false, true},
		{"$other/STAGE", false, true},
		{"$cfg/service = 'hello'", false, true},
		{"sum($cfg/items/price)", false, true},
		{"STAGE", false, false},
		{".", false, false},
		{"count(items)", false, false},
		{"concat($env/A, 'x')", false, false},
		{"$env/A | $env/B", false, false},
		{"string($env/A)", false, false},
		{"array($env/A)", false, false},
		{"$env/N + 1", false, false},
		{"get-log()/service", false, false},
		{"fit-log('x')", false, false},
	} {
		e, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		if got := e.ReadsOnly("env"); got != tc.readsOnly {
			t.Errorf("%q: ReadsOnly(env) = %v, want %v", tc.src, got, tc.readsOnly)
		}
		if got := e.PlainRead(); got != tc.plainRead {
			t.Errorf("%q: PlainRead() = %v, want %v", tc.src, got, tc.plainRead)
		}
	}
}
