package regex

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/budget"
)

func TestPCREErrors(t *testing.T) {
	for _, p := range []string{`(a`, `a)`, `[a`, `(?<n>a)\k<m>`, `*a`, `a{2,1}`, `(?Z)`, `\p{Nope}`, `\`} {
		if _, err := compilePCRE(p); err == nil {
			t.Errorf("compilePCRE(%q) succeeded", p)
		}
	}
}

// TestPCREBudget checks that catastrophic backtracking fails instead of
// hanging.
func TestPCREBudget(t *testing.T) {
	re, err := compilePCRE(`^(a+)+\1b$`)
	if err != nil {
		t.Fatal(err)
	}
	var ee *budget.ExceededError
	if ok, err := re.match(nil, strings.Repeat("a", 40)); ok || !errors.As(err, &ee) || ee.Kind != budget.KindRegex {
		t.Fatalf("match = %v, %v; want the regex budget error", ok, err)
	}
	long := strings.Repeat("x", 200000)
	re, _ = compilePCRE(`(?=x)(x)\1*$`)
	if _, err := re.match(nil, long); err == nil {
		t.Fatal("deep recursion: no error")
	}
}

// TestPCREAgreesWithRE2 compares the backtracking engine with Go's on
// patterns both accept.
func TestPCREAgreesWithRE2(t *testing.T) {
	patterns := []string{`a+`, `(a|ab)(c|bcd)(d*)`, `[a-c]+?x`, `(\w+)@(\w+)\.com`, `^\s*(\d{2,3})`, `(?i)héllo`,
		`x*`, `(?m)^b`, `[^a-z]`, `(?s)a.b`, `\bfoo\b`, `(?U)a+`, `a{2}`, `(?:ab)+`, `[[:alpha:]]+`}
	inputs := []string{"", "a", "abcd", "aab ab", "x@y.com z@w.com", "  123 45", "HÉLLO héllo", "xxaxx", "a\nb\nb", "a\nb", "foo food foo"}
	for _, p := range patterns {
		re2 := regexp.MustCompile(p)
		pc, err := compilePCRE(p)
		if err != nil {
			t.Fatalf("compilePCRE(%q): %v", p, err)
		}
		for _, in := range inputs {
			a := fmt.Sprint(re2.FindAllStringSubmatchIndex(in, -1))
			b := fmt.Sprint(must(pc.findAll(nil, in, -1)))
			if a != b {
				t.Errorf("%q on %q: RE2 %s, pcre %s", p, in, a, b)
			}
			if x, y := fmt.Sprint(re2.Split(in, -1)), fmt.Sprint(must(pcSplit(pc, in))); x != y {
				t.Errorf("Split %q on %q: RE2 %s, pcre %s", p, in, x, y)
			}
		}
	}
}

// FuzzPCRE checks that the backtracking engine never panics and agrees
// with RE2 on patterns both accept (outside the constructs where PCRE and
// RE2 differ on purpose: $, \s, \v, \Z, case folding and counted
// repetition spellings such as {00}).
func FuzzPCRE(f *testing.F) {
	for _, s := range [][2]string{{`(a|ab)(c|bcd)(d*)`, "abcd"}, {`(\w+)\1`, "abab"}, {`(?<=a)b`, "ab"}, {`[^\d]+?`, "a1b"}, {`(?i)x{1,3}`, "XXXX"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, input string) {
		if len(pattern) > 64 || len(input) > 256 {
			return
		}
		pc, err := compilePCRE(pattern)
		if err != nil {
			return
		}
		got, err := pc.findAll(nil, input, -1)
		if err != nil {
			return // budget: the fuzzer found a slow pattern, not a bug
		}
		if strings.ContainsAny(pattern, "${") || strings.Contains(pattern, `\s`) || strings.Contains(pattern, `\S`) ||
			strings.Contains(pattern, `\v`) || strings.Contains(pattern, `\Z`) || strings.Contains(pattern, "(?i") ||
			strings.Contains(pattern, "i)") || strings.Contains(pattern, "i:") || !utf8Valid(pattern, input) {
			return
		}
		re2, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		// Only whole-match spans: captures of repeated groups legitimately
		// differ (PCRE keeps the last iteration, also an empty one).
		if a, b := spans(re2.FindAllStringSubmatchIndex(input, -1)), spans(got); a != b {
			t.Fatalf("%q on %q: RE2 %s, pcre %s", pattern, input, a, b)
		}
	})
}

func spans(ms [][]int) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprint(&b, m[:2])
	}
	return b.String()
}

func utf8Valid(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
			return false
		}
	}
	return true
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// pcSplit splits with the backtracking engine.
func pcSplit(pc *pcre, s string) ([]string, error) {
	return (&Regexp{bt: pc}).Split(nil, s, -1)
}
