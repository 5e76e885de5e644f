package regex

import (
	"context"
	"errors"
	"fmt"
	"github.com/flowproc/flowproc/internal/racecheck"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/budget"
)

func TestAPI(t *testing.T) {
	tests := []struct {
		pattern, mods, in string
		match             bool
		replace           string // with "<$1>"
		split             string
	}{
		{`b+`, ``, `abbcb`, true, `a<>c<>`, `["a" "c" ""]`},
		{`(B)`, `i`, `abc`, true, `a<b>c`, `["a" "c"]`},
		{`(\w)\1`, ``, `xaab`, true, `x<a>b`, `["x" "b"]`},
		{`(?<=a)(b)`, ``, `abab`, true, `a<b>a<b>`, `["a" "a" ""]`},
		{` a  # comment
		   (b) `, `x`, `abab`, true, `<b><b>`, `["" "" ""]`},
		{`z`, ``, `abc`, false, `abc`, `["abc"]`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			re, err := Compile(tt.pattern, tt.mods)
			if err != nil {
				t.Fatal(err)
			}
			var b budget.Budget
			b.Reset(context.Background(), budget.Limits{})
			if ok, err := re.Match(&b, tt.in); err != nil || ok != tt.match {
				t.Errorf("Match = %v, %v", ok, err)
			}
			if got, err := re.Replace(&b, tt.in, "<$1>"); err != nil || got != tt.replace {
				t.Errorf("Replace = %q, %v, want %q", got, err, tt.replace)
			}
			if got, err := re.Split(&b, tt.in, -1); err != nil || fmt.Sprintf("%q", got) != tt.split {
				t.Errorf("Split = %q, %v, want %s", got, err, tt.split)
			}
			if _, regex, _, _ := b.Used(); regex == 0 {
				t.Error("nothing charged to the budget")
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range [][2]string{{`(`, ``}, {`a`, `q`}, {`(?<n>a)\k<m>`, ``}} {
		if _, err := Compile(c[0], c[1]); !errors.Is(err, ErrSyntax) {
			t.Errorf("Compile(%q, %q) = %v, want ErrSyntax", c[0], c[1], err)
		}
	}
}

// TestLookaheadBudget is the measured incident: a replace() with a
// lookahead over a 23 KB query string burned 28.5 s of CPU. It must end
// with the regex budget error, quickly.
func TestLookaheadBudget(t *testing.T) {
	q := strings.Repeat("a", 23_000)
	re, err := Compile(`a(?=.*b)`, "")
	if err != nil {
		t.Fatal(err)
	}
	var b budget.Budget
	b.Reset(context.Background(), budget.Limits{})
	start := time.Now()
	_, err = re.Replace(&b, q, "x")
	var ee *budget.ExceededError
	if !errors.As(err, &ee) || ee.Kind != budget.KindRegex {
		t.Fatalf("err = %v, want the regex budget error", err)
	}
	if d := time.Since(start); d > racecheck.Scale(5*time.Second) {
		t.Fatalf("took %v", d)
	}
	// The budget is per run: the next search fails at once.
	if _, err := re.Match(&b, "ab"); !errors.As(err, &ee) {
		t.Fatalf("second search: err = %v", err)
	}
}

// TestCancelStopsSearch checks that cancelling the run's context stops an
// unlimited backtracking search promptly: uncancelled it runs for minutes,
// so 1 s (scaled under -race) separates stopping from running on even on
// a loaded machine; the check interval makes it well under 1 ms when idle.
func TestCancelStopsSearch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var b budget.Budget
	b.Reset(ctx, budget.Limits{RegexWork: -1})
	re, err := Compile(`a(?=.*b)`, "")
	if err != nil {
		t.Fatal(err)
	}
	cancelled := make(chan time.Time, 1)
	go func() {
		time.Sleep(30 * time.Millisecond)
		cancelled <- time.Now()
		cancel()
	}()
	_, err = re.Replace(&b, strings.Repeat("a", 30_000), "x")
	end := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := end.Sub(<-cancelled); d > racecheck.Scale(time.Second) {
		t.Fatalf("search ran %v after cancel", d)
	}
}

func TestOutputCharged(t *testing.T) {
	re, _ := Compile(`a`, "")
	var b budget.Budget
	b.Reset(context.Background(), budget.Limits{OutputBytes: 100})
	_, err := re.Replace(&b, strings.Repeat("a", 50), strings.Repeat("y", 10))
	var ee *budget.ExceededError
	if !errors.As(err, &ee) || ee.Kind != budget.KindOutput {
		t.Fatalf("err = %v, want the output budget error", err)
	}
}

func BenchmarkBacktrack(b *testing.B) {
	re, _ := Compile(`(\w+)\1`, "")
	in := strings.Repeat("abcdefgh ", 20)
	b.ReportAllocs()
	var bu budget.Budget
	for b.Loop() {
		bu.Reset(context.Background(), budget.Limits{})
		if _, err := re.FindAll(&bu, in, -1); err != nil {
			b.Fatal(err)
		}
	}
}
