package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/flowproc/flowproc/internal/loadgen"
)

// tracedLabel labels the server child that runs with a trace session
// (-trace-compare).
const tracedLabel = "traced"

// traceCompare is the -trace-compare result: the traced flowproc child
// against the untraced one, per round (each round runs both under the same
// load, back to back) and over all rounds.
type traceCompare struct {
	// Sample is the traced child's session sampling rate.
	Sample float64 `json:"sample"`
	// Rounds are traced / untraced per round.
	Rounds []roundRatio `json:"rounds"`
	// Total is traced / untraced over the merged rounds.
	Total roundRatio `json:"total"`
	// Median is the median of the per-round ratios, each ratio on its
	// own: one round disturbed by the machine moves it less than Total.
	Median roundRatio `json:"median"`
	// MedianInterval are the medians' confidence intervals
	// (bench_interval.go); nil with one round.
	MedianInterval *roundInterval `json:"median_interval,omitempty"`
}

// parseTraceCompare checks -trace-compare's fraction ("" = off).
func parseTraceCompare(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	rate, err := strconv.ParseFloat(s, 64)
	if err != nil || !(rate > 0 && rate <= 1) {
		return 0, fmt.Errorf("-trace-compare %q: want a sampling fraction in (0, 1], e.g. 0.01", s)
	}
	return rate, nil
}

// newTraceCompare pairs the rounds of the untraced and the traced child
// (per holds each label's rounds in order) and their totals.
func newTraceCompare(sample float64, per map[string][]*loadgen.Result, untraced, traced *loadgen.Result) *traceCompare {
	tc := &traceCompare{Sample: sample, Total: roundRatioOf(traced, untraced)}
	tc.Rounds, tc.Median, tc.MedianInterval = pairRounds(per[tracedLabel], per["flowproc"])
	return tc
}

// writeTraceCompare prints the comparison: the ratios over all rounds,
// then each round's, whose spread shows how much the machine's noise
// weighs against the difference.
func writeTraceCompare(w io.Writer, tc *traceCompare) {
	if tc == nil {
		return
	}
	fmt.Fprintf(w, "\ntraced (sample %g) / untraced flowproc: throughput %.3f×", tc.Sample, tc.Total.Throughput)
	if tc.Total.CPUPerExchange > 0 {
		fmt.Fprintf(w, ", server CPU per exchange %.3f×", tc.Total.CPUPerExchange)
	}
	fmt.Fprintln(w)
	writeRoundRatios(w, tc.Rounds, tc.Median, tc.MedianInterval, "%.3f×")
}
