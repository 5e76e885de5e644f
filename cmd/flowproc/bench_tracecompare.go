package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

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
	Rounds []traceRatio `json:"rounds"`
	// Total is traced / untraced over the merged rounds.
	Total traceRatio `json:"total"`
	// Median is the median of the per-round ratios, each ratio on its
	// own: one round disturbed by the machine moves it less than Total.
	Median traceRatio `json:"median"`
}

// traceRatio is the traced child's throughput and server CPU per exchange
// divided by the untraced child's (CPUPerExchange 0: CPU not measured).
type traceRatio struct {
	Round          int     `json:"round,omitempty"`
	Throughput     float64 `json:"throughput"`
	CPUPerExchange float64 `json:"cpu_per_exchange,omitempty"`
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
	tc := &traceCompare{Sample: sample, Total: traceRatioOf(traced, untraced)}
	u, t := per["flowproc"], per[tracedLabel]
	var thr, cpu []float64
	for i := range min(len(u), len(t)) {
		r := traceRatioOf(t[i], u[i])
		r.Round = t[i].Round
		tc.Rounds = append(tc.Rounds, r)
		thr = append(thr, r.Throughput)
		if r.CPUPerExchange > 0 {
			cpu = append(cpu, r.CPUPerExchange)
		}
	}
	tc.Median = traceRatio{Throughput: median(thr), CPUPerExchange: median(cpu)}
	return tc
}

// median returns the median of v (0 for none); it sorts v.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// traceRatioOf divides the traced result t by the untraced u.
func traceRatioOf(t, u *loadgen.Result) traceRatio {
	var r traceRatio
	if u.Throughput > 0 {
		r.Throughput = t.Throughput / u.Throughput
	}
	if t.ServerCPUMeasured && u.ServerCPUMeasured && u.ServerCPUPerExchangeUS > 0 {
		r.CPUPerExchange = t.ServerCPUPerExchangeUS / u.ServerCPUPerExchangeUS
	}
	return r
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
	thr, cpu := make([]string, len(tc.Rounds)), make([]string, 0, len(tc.Rounds))
	for i, r := range tc.Rounds {
		thr[i] = fmt.Sprintf("%.3f×", r.Throughput)
		if r.CPUPerExchange > 0 {
			cpu = append(cpu, fmt.Sprintf("%.3f×", r.CPUPerExchange))
		}
	}
	fmt.Fprintf(w, "  per round: throughput %s", strings.Join(thr, " "))
	if len(cpu) > 0 {
		fmt.Fprintf(w, "; server CPU per exchange %s", strings.Join(cpu, " "))
	}
	fmt.Fprintf(w, "\n  median of the rounds: throughput %.3f×", tc.Median.Throughput)
	if tc.Median.CPUPerExchange > 0 {
		fmt.Fprintf(w, ", server CPU per exchange %.3f×", tc.Median.CPUPerExchange)
	}
	fmt.Fprintln(w)
}
