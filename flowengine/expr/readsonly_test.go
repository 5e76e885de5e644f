package expr

import "testing"

// TestReadsOnly: the expressions whose value depends on $env alone, the
// form FLAT shares an <template out> of.
func TestReadsOnly(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"'text'", true},
		{"42", true},
		{"$env", true},
		{"$env/STAGE", true},
		{"$env/A/B[1]", true},
		{"$env/A[x = 'y']", true},
		{"$env/STAGE = 'prod'", true},
		{"$env/N > 3", true},
		{"count($env/*)", true},
		{"boolean($env/X)", true},
		{"$other", false},
		{"$other/STAGE", false},
		{"STAGE", false},
		{".", false},
		{"concat($env/A, 'x')", false},
		{"$env/A | $env/B", false},
		{"string($env/A)", false},
		{"array($env/A)", false},
		{"$env/N + 1", false},
	} {
		e, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		if got := e.ReadsOnly("env"); got != tc.want {
			t.Errorf("%q: ReadsOnly(env) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
