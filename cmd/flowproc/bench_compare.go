package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/internal/loadgen"
)

// -compare DIR: a variant of the project measured against it. Each DIR is
// served by a flowproc child of its own, driven in the same rounds as the
// first flowproc child (ABC CBA order), so that what one part of a flow
// costs end to end is the ratio of two children measured under the same
// load, round by round (docs/bench.md, "Measuring a part of a flow").
//
// -compare-binary PATH: another build of flowproc serving the same
// project(s) as the first child, in the same rounds: what a change to
// flowproc itself costs or saves end to end (docs/bench.md, "Measuring
// another build").

// compareVariant is one -compare or -compare-binary child: a project
// directory this binary serves alone, or another flowproc binary serving
// the first child's projects.
type compareVariant struct {
	dir    string
	binary string
}

// String names the variant in the output: its directory, or "binary PATH".
func (v compareVariant) String() string {
	if v.binary != "" {
		return "binary " + v.binary
	}
	return v.dir
}

// variantPrefix starts the labels of the -compare children: variant1,
// variant2, … the -compare directories first, then the -compare-binary
// binaries, each in the order of its flags.
const variantPrefix = "variant"

// variantLabel labels the -compare child of o.compare[i].
func variantLabel(i int) string { return variantPrefix + strconv.Itoa(i+1) }

// variant returns the -compare child labelled label, if it is one.
func (o *benchOptions) variant(label string) (compareVariant, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(label, variantPrefix))
	if !strings.HasPrefix(label, variantPrefix) || err != nil || n < 1 || n > len(o.compare) {
		return compareVariant{}, false
	}
	return o.compare[n-1], true
}

// compareVariants checks -compare's directories and -compare-binary's
// binaries before any child starts, and lists them in label order.
func compareVariants(dirs, binaries []string) ([]compareVariant, error) {
	var vs []compareVariant
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("-compare: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("-compare %s: not a directory (want a project directory)", d)
		}
		vs = append(vs, compareVariant{dir: d})
	}
	for _, b := range binaries {
		fi, err := os.Stat(b)
		if err != nil {
			return nil, fmt.Errorf("-compare-binary: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return nil, fmt.Errorf("-compare-binary %s: not an executable file (want a flowproc binary)", b)
		}
		vs = append(vs, compareVariant{binary: b})
	}
	return vs, nil
}

// variantCompare is one -compare child against the first flowproc child
// and, with -baseline, against the no-op.
type variantCompare struct {
	Label string `json:"label"`
	// Dir is the project directory of a -compare child, Binary the
	// flowproc binary of a -compare-binary child.
	Dir    string `json:"dir,omitempty"`
	Binary string `json:"binary,omitempty"`
	// VsFlowproc is the variant divided by the flowproc child.
	VsFlowproc pairedRatios `json:"vs_flowproc"`
	// VsNoop is the variant divided by the no-op (nil without -baseline).
	VsNoop *pairedRatios `json:"vs_noop,omitempty"`
}

// newVariantCompares pairs every -compare child's rounds with the flowproc
// child's and, when the no-op ran (-baseline), with the no-op's. per holds
// each label's rounds in order, totals each label's merged rounds.
func newVariantCompares(vs []compareVariant, per map[string][]*loadgen.Result, totals map[string]*loadgen.Result) []*variantCompare {
	base, noop := totals["flowproc"], totals["noop"]
	var out []*variantCompare
	for i, v := range vs {
		label := variantLabel(i)
		t := totals[label]
		if t == nil || base == nil {
			continue
		}
		vc := &variantCompare{Label: label, Dir: v.dir, Binary: v.binary, VsFlowproc: pairedOf(per[label], per["flowproc"], t, base)}
		if noop != nil {
			p := pairedOf(per[label], per["noop"], t, noop)
			vc.VsNoop = &p
		}
		out = append(out, vc)
	}
	return out
}

// writeVariantCompares prints each -compare child's ratios: against the
// flowproc child (what the variant's difference costs) and, with
// -baseline, against the no-op.
func writeVariantCompares(w io.Writer, vcs []*variantCompare) {
	for _, vc := range vcs {
		writePaired(w, fmt.Sprintf("%s (%s) / flowproc", vc.Label, compareVariant{dir: vc.Dir, binary: vc.Binary}), vc.VsFlowproc)
		if v := variantVerdict(vc.Label, vc.VsFlowproc.MedianInterval); v != "" {
			fmt.Fprintln(w, "  "+v)
		}
		if vc.VsNoop != nil {
			writePaired(w, vc.Label+" / no-op", *vc.VsNoop)
		}
	}
}

// variantVerdict says whether the variant's server CPU per exchange differs
// from the flowproc child's in this run: only when the median's whole
// interval is on one side of 1. "" when there is no interval (one round,
// or CPU not measured).
func variantVerdict(label string, iv *roundInterval) string {
	if iv == nil || iv.CPUPerExchange == nil {
		return ""
	}
	c := iv.CPUPerExchange
	conf := fmt.Sprintf("%.1f %%", 100*c.Confidence)
	switch {
	case c.High < 1:
		return fmt.Sprintf("%s costs less server CPU per exchange than flowproc: the whole interval is below 1 (%s confidence)", label, conf)
	case c.Low > 1:
		return fmt.Sprintf("%s costs more server CPU per exchange than flowproc: the whole interval is above 1 (%s confidence)", label, conf)
	}
	return fmt.Sprintf("%s and flowproc cannot be told apart in server CPU in this run: the interval spans 1 (more rounds narrow it)", label)
}

// answerShareSlack is how far a status's share of the answers (or the
// share of immediate responses) may differ between a variant and the
// flowproc child before the variant counts as answering differently.
const answerShareSlack = 0.01

// variantWarnings warns about each -compare child that answered otherwise
// than the flowproc child: another mix of statuses or of immediate
// responses. Its ratios then compare different work (a variant whose
// project failed to load answers 503 to everything, cheaply).
func variantWarnings(totals []*loadgen.Result) []string {
	var base *loadgen.Result
	for _, t := range totals {
		if t.Label == "flowproc" {
			base = t
		}
	}
	if base == nil {
		return nil
	}
	var w []string
	for _, t := range totals {
		if !strings.HasPrefix(t.Label, variantPrefix) || sameAnswers(base, t) {
			continue
		}
		w = append(w, fmt.Sprintf("%s answered otherwise than flowproc (statuses %s, %d immediate, against %s, %d immediate): its ratios compare different work",
			t.Label, statusMix(t), t.Immediate, statusMix(base), base.Immediate))
	}
	return w
}

// sameAnswers reports whether a and b answered with the same shares of
// each status and of immediate responses, within answerShareSlack.
func sameAnswers(a, b *loadgen.Result) bool {
	na, nb := answered(a), answered(b)
	if na == 0 || nb == 0 {
		return na == nb
	}
	share := func(n, of uint64) float64 { return float64(n) / float64(of) }
	if math.Abs(share(a.Immediate, na)-share(b.Immediate, nb)) > answerShareSlack {
		return false
	}
	for _, r := range []*loadgen.Result{a, b} {
		for code := range r.Statuses {
			if math.Abs(share(a.Statuses[code], na)-share(b.Statuses[code], nb)) > answerShareSlack {
				return false
			}
		}
	}
	return true
}

// answered is how many responses r counted by status.
func answered(r *loadgen.Result) uint64 {
	var n uint64
	for _, c := range r.Statuses {
		n += c
	}
	return n
}

// statusMix formats r's statuses as "200×180 503×20", codes ascending.
func statusMix(r *loadgen.Result) string {
	codes := make([]int, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", c, r.Statuses[c])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
