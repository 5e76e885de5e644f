package flat

import (
	"context"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/template"
)

// setJSONVar sets $name to the JSON text, held as a tree as <template
// out> holds it.
func setJSONVar(tb testing.TB, r *run, name, text string) {
	tb.Helper()
	tree, err := oxn.ParseTreeString(text, 0)
	if err != nil {
		tb.Fatal(err)
	}
	r.setVarDoc(name, oxn.NewDoc(tree))
}

// TestRunTemplateSizedOnce checks runTemplate's size hint: once a template
// has run, the next run's output buffer is allocated once at its size
// instead of doubling up to it, the output is unchanged, and the hint
// follows a template whose outputs shrink or grow by more than 2×,
// bounded by maxSizeHint.
func TestRunTemplateSizedOnce(t *testing.T) {
	tp, err := template.Parse(`[{{loop $items}}{{ . }}{{end}}]`)
	if err != nil {
		t.Fatal(err)
	}
	tm := &tmpl{t: tp, pos: pos{file: "t.xml", line: 1}}
	p := &Project{}
	items := func(n int) string { return strings.Repeat(`"0123456789abcdef",`, n) }
	exec := func(n int, unhinted bool) (string, float64) {
		var out string
		allocs := testing.AllocsPerRun(20, func() {
			if unhinted {
				tm.size.Store(0)
			}
			r := p.newRun(context.Background(), &flowengine.Request{ID: "x"}, nil)
			setJSONVar(t, r, "items", "["+strings.TrimSuffix(items(n), ",")+"]")
			b, err := r.runTemplate(tm, r.exprCtx(nil))
			if err != nil {
				t.Fatal(err)
			}
			out = string(b)
		})
		return out, allocs
	}

	if got := tm.size.Load(); got != 0 {
		t.Fatalf("fresh template has size hint %d", got)
	}
	out, _ := exec(200, false) // ~3.8 KiB: sets the hint
	if want := "[" + strings.TrimSuffix(items(200), ",") + "]"; out != want {
		t.Fatalf("output differs:\n got %.80s…\nwant %.80s…", out, want)
	}
	if got := int(tm.size.Load()); got != len(out) {
		t.Errorf("size hint %d, want the output's %d bytes", got, len(out))
	}
	_, hinted := exec(200, false)
	_, unhinted := exec(200, true)
	if hinted >= unhinted {
		t.Errorf("with the hint the run took %.0f allocations, without %.0f: the buffer still grows step by step", hinted, unhinted)
	}

	exec(1, false) // far smaller: the hint follows it down
	if got := tm.size.Load(); got > 64 {
		t.Errorf("after a small output the hint is %d", got)
	}
	exec(2000, false) // ~38 KiB: bounded
	if got := tm.size.Load(); got != maxSizeHint {
		t.Errorf("after a large output the hint is %d, want maxSizeHint %d", got, maxSizeHint)
	}
}
