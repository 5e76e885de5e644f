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
// the ratios with their medians and the medians' confidence intervals,
// each ratio taken on its own: a round the machine disturbed moves the
// median less than it moves the ratio of the merged rounds.
func pairRounds(num, den []*loadgen.Result) (rounds []roundRatio, med roundRatio, iv *roundInterval) {
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
	med = roundRatio{Throughput: median(thr), CPUPerExchange: median(cpu)}
	if t, ok := medianInterval(thr); ok { // median sorted thr and cpu
		iv = &roundInterval{Throughput: t}
		if c, ok := medianInterval(cpu); ok {
			iv.CPUPerExchange = &c
		}
	}
	return rounds, med, iv
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

// writeRoundRatios prints each round's ratios, their medians and the
// medians' confidence intervals (iv, when there is one; format is the
// verb for one ratio, e.g. "%.2f×"): the spread shows how much the
// machine's noise weighs against a difference, and the interval how far
// the median could move in another run of as many rounds.
func writeRoundRatios(w io.Writer, rounds []roundRatio, med roundRatio, iv *roundInterval, format string) {
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
	span := func(r *ciRange) string {
		if r == nil {
			return ""
		}
		return " [" + fmt.Sprintf(format, r.Low) + " – " + fmt.Sprintf(format, r.High) + "]"
	}
	var tiv, civ *ciRange
	if iv != nil {
		tiv, civ = &iv.Throughput, iv.CPUPerExchange
	}
	fmt.Fprintf(w, "\n  median of the rounds: throughput "+format+"%s", med.Throughput, span(tiv))
	if med.CPUPerExchange > 0 {
		fmt.Fprintf(w, ", server CPU per exchange "+format+"%s", med.CPUPerExchange, span(civ))
	}
	fmt.Fprintln(w)
	if tiv == nil {
		return
	}
	conf := fmt.Sprintf("%.1f %%", 100*tiv.Confidence)
	if civ != nil && civ.Confidence != tiv.Confidence {
		conf = fmt.Sprintf("%.1f %% (server CPU: %.1f %%)", 100*tiv.Confidence, 100*civ.Confidence)
	}
	fmt.Fprintf(w, "  [low – high]: holds the median with %s confidence, from the order of %d rounds' ratios (fewer than 6 rounds cannot reach 95 %%)\n", conf, len(rounds))
}
