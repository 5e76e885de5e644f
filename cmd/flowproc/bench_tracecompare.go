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
	// pairedRatios are traced / untraced (its fields are the JSON's
	// rounds, total, median and median_interval).
	pairedRatios
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
	return &traceCompare{Sample: sample, pairedRatios: pairedOf(per[tracedLabel], per["flowproc"], traced, untraced)}
}

// writeTraceCompare prints the comparison: the ratios over all rounds,
// then each round's, whose spread shows how much the machine's noise
// weighs against the difference.
func writeTraceCompare(w io.Writer, tc *traceCompare) {
	if tc == nil {
		return
	}
	writePaired(w, fmt.Sprintf("traced (sample %g) / untraced flowproc", tc.Sample), tc.pairedRatios)
}
