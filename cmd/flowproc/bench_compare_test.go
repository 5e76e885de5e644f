package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/internal/loadgen"
)

// TestVariantCompares pairs each -compare child's rounds with the flowproc
// child's and the no-op's, round by round, and prints both.
func TestVariantCompares(t *testing.T) {
	res := cpuRound
	per := map[string][]*loadgen.Result{
		"flowproc": {res("flowproc", 1, 1000, 100), res("flowproc", 2, 2000, 100), res("flowproc", 3, 1000, 200)},
		"noop":     {res("noop", 1, 2000, 50), res("noop", 2, 2000, 80), res("noop", 3, 1000, 100)},
		"variant1": {res("variant1", 1, 1100, 90), res("variant1", 2, 2000, 95), res("variant1", 3, 1000, 150)},
	}
	totals := map[string]*loadgen.Result{
		"flowproc": res("flowproc", 0, 4000, 125), "noop": res("noop", 0, 5000, 75), "variant1": res("variant1", 0, 4100, 100),
	}
	vcs := newVariantCompares([]compareVariant{{dir: "examples/less"}, {binary: "./flowproc-before"}}, per, totals)
	if len(vcs) != 1 {
		t.Fatalf("%d comparisons, want 1 (variant2 never ran)", len(vcs))
	}
	vc := vcs[0]
	if vc.Label != "variant1" || vc.Dir != "examples/less" || vc.Binary != "" {
		t.Errorf("label %q dir %q binary %q", vc.Label, vc.Dir, vc.Binary)
	}
	f := vc.VsFlowproc
	if len(f.Rounds) != 3 || f.Rounds[0].Throughput != 1.1 || f.Rounds[2].CPUPerExchange != 0.75 || f.Total.CPUPerExchange != 0.8 {
		t.Errorf("variant / flowproc %+v", f)
	}
	if f.Median.CPUPerExchange != 0.9 || f.Median.Throughput != 1 {
		t.Errorf("variant / flowproc median %+v, want 1 and 0.9", f.Median)
	}
	n := vc.VsNoop
	if n == nil || n.Rounds[0].CPUPerExchange != 1.8 || n.Median.CPUPerExchange != 1.5 {
		t.Fatalf("variant / no-op %+v", n)
	}
	var b bytes.Buffer
	writeVariantCompares(&b, vcs)
	for _, want := range []string{
		"variant1 (examples/less) / flowproc: throughput 1.025×, server CPU per exchange 0.800×",
		"per round: throughput 1.100× 1.000× 1.000×; server CPU per exchange 0.900× 0.950× 0.750×",
		"median of the rounds: throughput 1.000× [1.000× – 1.100×], server CPU per exchange 0.900× [0.750× – 0.950×]",
		"variant1 / no-op: throughput 0.820×, server CPU per exchange 1.333×",
		"variant1 costs less server CPU per exchange than flowproc: the whole interval is below 1 (75.0 % confidence)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}

	// Without the no-op, only the comparison with flowproc.
	delete(totals, "noop")
	if vcs := newVariantCompares([]compareVariant{{dir: "examples/less"}}, per, totals); len(vcs) != 1 || vcs[0].VsNoop != nil {
		t.Errorf("without -baseline: %+v", vcs)
	}

	// Another build is named by its binary.
	vcs = newVariantCompares([]compareVariant{{binary: "./flowproc-before"}}, per, totals)
	if len(vcs) != 1 || vcs[0].Binary != "./flowproc-before" || vcs[0].Dir != "" {
		t.Fatalf("binary variant: %+v", vcs)
	}
	b.Reset()
	writeVariantCompares(&b, vcs)
	if want := "variant1 (binary ./flowproc-before) / flowproc: throughput 1.025×"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
}

// TestServerChildArgs: each child serves what its label says. A variant
// serves its directory alone, without the first child's -default-project,
// and writes its profile next to the others.
func TestServerChildArgs(t *testing.T) {
	o := &benchOptions{bodyLimit: "1MiB", example: "hello", serverLogLevel: "warn", cpuProfile: "cpu.pprof",
		defaultProject: "shop", dirs: []string{"./shop", "./blog"}, traceCompare: 0.5,
		compare: []compareVariant{{dir: "./shop-no-log"}, {dir: "./shop-no-cors"}, {binary: "./flowproc-before"}}}
	const common = "bench " + serverChildFlag + " -body-limit 1MiB -example hello"
	for _, c := range []struct{ label, want string }{
		{"noop", common + " -noop -cpuprofile cpu.pprof.noop"},
		{"flowproc", common + " -log-level warn -cpuprofile cpu.pprof -default-project shop -- ./shop ./blog"},
		{"variant1", common + " -log-level warn -cpuprofile cpu.pprof.variant1 -- ./shop-no-log"},
		{"variant2", common + " -log-level warn -cpuprofile cpu.pprof.variant2 -- ./shop-no-cors"},
		// Another build serves what the first child serves.
		{"variant3", common + " -log-level warn -cpuprofile cpu.pprof.variant3 -default-project shop -- ./shop ./blog"},
		{tracedLabel, common + " -log-level warn -cpuprofile cpu.pprof.traced -default-project shop -trace-sample 0.5 -- ./shop ./blog"},
	} {
		if got := strings.Join(serverChildArgs(c.label, o), " "); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.label, got, c.want)
		}
	}
}

// TestVariantVerdict: a difference is stated only when the median's whole
// interval is on one side of 1.
func TestVariantVerdict(t *testing.T) {
	iv := func(low, high float64) *roundInterval {
		return &roundInterval{CPUPerExchange: &ciRange{Low: low, High: high, Confidence: 0.979}}
	}
	for _, c := range []struct {
		iv   *roundInterval
		want string
	}{
		{iv(0.84, 0.99), "variant1 costs less server CPU per exchange than flowproc: the whole interval is below 1 (97.9 % confidence)"},
		{iv(1.01, 1.2), "variant1 costs more server CPU per exchange than flowproc: the whole interval is above 1 (97.9 % confidence)"},
		{iv(0.88, 1.03), "variant1 and flowproc cannot be told apart in server CPU in this run: the interval spans 1 (more rounds narrow it)"},
		{iv(0.9, 1), "variant1 and flowproc cannot be told apart in server CPU in this run: the interval spans 1 (more rounds narrow it)"},
		{&roundInterval{}, ""},
		{nil, ""},
	} {
		if got := variantVerdict("variant1", c.iv); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.iv, got, c.want)
		}
	}
}

// TestVariantWarnings: a variant that answers otherwise than the flowproc
// child (another status mix, other immediate responses) is called out;
// small differences in counts are not.
func TestVariantWarnings(t *testing.T) {
	res := func(label string, immediate uint64, statuses map[int]uint64) *loadgen.Result {
		return &loadgen.Result{Label: label, Immediate: immediate, Statuses: statuses}
	}
	base := res("flowproc", 0, map[int]uint64{200: 1000})
	for _, c := range []struct {
		name    string
		variant *loadgen.Result
		want    string
	}{
		{"same answers, other counts", res("variant1", 0, map[int]uint64{200: 1207}), ""},
		{"a project that failed to load", res("variant1", 1000, map[int]uint64{503: 1000}),
			"variant1 answered otherwise than flowproc (statuses 503×1000, 1000 immediate, against 200×1000, 0 immediate): its ratios compare different work"},
		{"some errors", res("variant1", 20, map[int]uint64{200: 980, 502: 20}),
			"variant1 answered otherwise than flowproc (statuses 200×980 502×20, 20 immediate, against 200×1000, 0 immediate): its ratios compare different work"},
		{"within the slack", res("variant1", 0, map[int]uint64{200: 995, 404: 5}), ""},
		{"no answers", res("variant1", 0, map[int]uint64{}),
			"variant1 answered otherwise than flowproc (statuses none, 0 immediate, against 200×1000, 0 immediate): its ratios compare different work"},
	} {
		got := strings.Join(variantWarnings([]*loadgen.Result{base, res("noop", 0, map[int]uint64{200: 1000}), c.variant}), "\n")
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	if w := variantWarnings([]*loadgen.Result{res("variant1", 0, nil)}); w != nil {
		t.Errorf("without a flowproc child: %q", w)
	}
}
