package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flowproc/flowproc/internal/loadgen"
)

// roundRatio is one server's throughput and server CPU per exchange
// divided by another's, for one round or over several (CPUPerExchange 0:
// CPU not measured).
type roundRatio struct {
	Round          int     `json:"round,omitempty"`
	Throughput     float64 `json:"throughput"`
	CPUPerExchange float64 `json:"cpu_per_exchange,omitempty"`
}

// roundRatioOf divides num's throughput and CPU per exchange by den's.
func roundRatioOf(num, den *loadgen.Result) roundRatio {
	var r roundRatio
	if den.Throughput > 0 {
		r.Throughput = num.Throughput / den.Throughput
	}
	if num.ServerCPUMeasured && den.ServerCPUMeasured && den.ServerCPUPerExchangeUS > 0 {
		r.CPUPerExchange = num.ServerCPUPerExchangeUS / den.ServerCPUPerExchangeUS
	}
	return r
}

// pairRounds divides round i of num by round i of den (the rounds of two
// servers, each pair run back to back under the same load) and returns
// the ratios with their medians, each ratio taken on its own: a round the
// machine disturbed moves the median less than it moves the ratio of the
// merged rounds.
func pairRounds(num, den []*loadgen.Result) (rounds []roundRatio, med roundRatio) {
	var thr, cpu []float64
	for i := range min(len(num), len(den)) {
		r := roundRatioOf(num[i], den[i])
		r.Round = num[i].Round
		rounds = append(rounds, r)
		thr = append(thr, r.Throughput)
		if r.CPUPerExchange > 0 {
			cpu = append(cpu, r.CPUPerExchange)
		}
	}
	return rounds, roundRatio{Throughput: median(thr), CPUPerExchange: median(cpu)}
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

// writeRoundRatios prints each round's ratios and their medians (format
// is the verb for one ratio, e.g. "%.2f×"): their spread shows how much
// the machine's noise weighs against a difference.
func writeRoundRatios(w io.Writer, rounds []roundRatio, med roundRatio, format string) {
	thr, cpu := make([]string, len(rounds)), make([]string, 0, len(rounds))
	for i, r := range rounds {
		thr[i] = fmt.Sprintf(format, r.Throughput)
		if r.CPUPerExchange > 0 {
			cpu = append(cpu, fmt.Sprintf(format, r.CPUPerExchange))
		}
	}
	fmt.Fprintf(w, "  per round: throughput %s", strings.Join(thr, " "))
	if len(cpu) > 0 {
		fmt.Fprintf(w, "; server CPU per exchange %s", strings.Join(cpu, " "))
	}
	fmt.Fprintf(w, "\n  median of the rounds: throughput "+format, med.Throughput)
	if med.CPUPerExchange > 0 {
		fmt.Fprintf(w, ", server CPU per exchange "+format, med.CPUPerExchange)
	}
	fmt.Fprintln(w)
}
