package expr

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"github.com/flowproc/flowproc/internal/racecheck"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/budget"
)

// bomb returns raw DEFLATE data that inflates to n zero bytes.
func bomb(t testing.TB, n int) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		if _, err := w.Write(chunk[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func newBudget(ctx context.Context, l budget.Limits) *budget.Budget {
	b := new(budget.Budget)
	b.Reset(ctx, l)
	return b
}

func TestDecodedBudget(t *testing.T) {
	bombData := bomb(t, 64<<20) // ~64 KB compressed, 64 MiB inflated
	tests := []struct {
		name, src string
		limits    budget.Limits
		kind      string // "" = no error
	}{
		{"inflate bomb", "apply-codecs($in, 'inflate')", budget.Limits{}, budget.KindDecoded},
		{"inflate under limit", "string-length(apply-codecs($small, 'inflate'))", budget.Limits{}, ""},
		{"base64 decode", "base64-decode($b64)", budget.Limits{DecodedBytes: 4}, budget.KindDecoded},
		{"base64 decode codec", "apply-codecs($b64, 'base64-decode')", budget.Limits{DecodedBytes: 4}, budget.KindDecoded},
		{"base64url decode codec", "apply-codecs($b64, 'base64url-decode')", budget.Limits{DecodedBytes: 4}, budget.KindDecoded},
		{"url decode codec", "apply-codecs('abcdef', 'url-decode')", budget.Limits{DecodedBytes: 4}, budget.KindDecoded},
		{"encoder output", "apply-codecs($b64, 'base64-encode')", budget.Limits{OutputBytes: 4}, budget.KindOutput},
		{"concat output", "concat($b64, $b64)", budget.Limits{OutputBytes: 10}, budget.KindOutput},
		{"json-stringify output", "json-stringify($b64)", budget.Limits{OutputBytes: 10}, budget.KindOutput},
		{"join output", "join(',', $b64, $b64)", budget.Limits{OutputBytes: 10}, budget.KindOutput},
		{"replace output", "replace($b64, '.', 'xx')", budget.Limits{OutputBytes: 10}, budget.KindOutput},
		{"regex work", "matches($b64, '(.)\\1')", budget.Limits{RegexWork: 3}, budget.KindRegex},
	}
	sc := mapScope{"in": bombData, "small": bomb(t, 1000), "b64": "aGVsbG8gd29ybGQ="}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBudget(context.Background(), tt.limits)
			start := time.Now()
			_, err := MustCompile(tt.src).Eval(&Context{Scope: sc, Budget: b})
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ee *budget.ExceededError
			if !errors.As(err, &ee) || ee.Kind != tt.kind {
				t.Fatalf("err = %v, want a %s budget error", err, tt.kind)
			}
			if d := time.Since(start); d > racecheck.Scale(2*time.Second) {
				t.Fatalf("took %v", d)
			}
		})
	}
	// Streaming: the bomb is never expanded past the limit.
	b := newBudget(context.Background(), budget.Limits{})
	_, _ = MustCompile("apply-codecs($in, 'inflate')").Eval(&Context{Scope: sc, Budget: b})
	if _, _, dec, _ := b.Used(); dec > budget.DefaultDecodedBytes+1 {
		t.Fatalf("decoded %d bytes, more than the limit + 1", dec)
	}
}

// TestReplaceLookaheadBudget is the incident through the expression layer:
// replace() with a lookahead over a 23 KB query string.
func TestReplaceLookaheadBudget(t *testing.T) {
	q := strings.Repeat("a", 23_000)
	b := newBudget(context.Background(), budget.Limits{})
	start := time.Now()
	_, err := MustCompile("replace($q, 'a(?=.*b)', 'x')").Eval(&Context{Scope: mapScope{"q": q}, Budget: b})
	var ee *budget.ExceededError
	if !errors.As(err, &ee) || ee.Kind != budget.KindRegex {
		t.Fatalf("err = %v, want the regex budget error", err)
	}
	if d := time.Since(start); d > racecheck.Scale(5*time.Second) {
		t.Fatalf("took %v", d)
	}
}

func TestCancelStopsRegex(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := newBudget(ctx, budget.Limits{RegexWork: -1})
	cancelled := make(chan time.Time, 1)
	go func() {
		time.Sleep(30 * time.Millisecond)
		cancelled <- time.Now()
		cancel()
	}()
	_, err := MustCompile("split($q, '(?<=a)(?=.*b)')").Eval(&Context{Scope: mapScope{"q": strings.Repeat("a", 30_000)}, Budget: b})
	end := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Uncancelled, the split runs for minutes: 1 s tells stopping from
	// running on without timing a loaded machine.
	if d := end.Sub(<-cancelled); d > racecheck.Scale(time.Second) {
		t.Fatalf("ran %v after cancel", d)
	}
}

func TestLoopCheck(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &Context{Budget: newBudget(ctx, budget.Limits{})}
	for _, src := range []string{"array($n)", "join(',', $n)", "sort(array($n))"} {
		nodes := make(NodeSet, 0, 3000)
		arr := mustJSON(t, "["+strings.TrimSuffix(strings.Repeat("1,", 3000), ",")+"]").FirstChild
		for n := arr.FirstChild; n != nil; n = n.NextSibling {
			nodes = append(nodes, n)
		}
		c.Scope = mapScope{"n": nodes}
		if _, err := MustCompile(src).Eval(c); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", src, err)
		}
	}
}
