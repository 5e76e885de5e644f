package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flowproc/flowproc/internal/loadgen"
)

// roundRatio is one server's throughput, server CPU per exchange and p99
// exchange latency divided by another's, for one round or over several
// (CPUPerExchange 0: CPU not measured; P99 0: no latency recorded).
type roundRatio struct {
	Round          int     `json:"round,omitempty"`
	Throughput     float64 `json:"throughput"`
	CPUPerExchange float64 `json:"cpu_per_exchange,omitempty"`
	P99            float64 `json:"p99,omitempty"`
}

// roundRatioOf divides num's throughput, CPU per exchange and p99 latency
// by den's.
func roundRatioOf(num, den *loadgen.Result) roundRatio {
	var r roundRatio
	if den.Throughput > 0 {
		r.Throughput = num.Throughput / den.Throughput
	}
	if num.ServerCPUMeasured && den.ServerCPUMeasured && den.ServerCPUPerExchangeUS > 0 {
		r.CPUPerExchange = num.ServerCPUPerExchangeUS / den.ServerCPUPerExchangeUS
	}
	if den.Latency.P99US > 0 {
		r.P99 = num.Latency.P99US / den.Latency.P99US
	}
	return r
}

// pairRounds divides round i of num by round i of den (the rounds of two
// servers, each pair run back to back under the same load) and returns
// the ratios with their medians and the medians' confidence intervals,
// each ratio taken on its own: a round the machine disturbed moves the
// median less than it moves the ratio of the merged rounds.
func pairRounds(num, den []*loadgen.Result) (rounds []roundRatio, med roundRatio, iv *roundInterval) {
	var thr, cpu, p99 []float64
	for i := range min(len(num), len(den)) {
		r := roundRatioOf(num[i], den[i])
		r.Round = num[i].Round
		rounds = append(rounds, r)
		thr = append(thr, r.Throughput)
		if r.CPUPerExchange > 0 {
			cpu = append(cpu, r.CPUPerExchange)
		}
		if r.P99 > 0 {
			p99 = append(p99, r.P99)
		}
	}
	med = roundRatio{Throughput: median(thr), CPUPerExchange: median(cpu), P99: median(p99)}
	if t, ok := medianInterval(thr); ok {
		iv = &roundInterval{Throughput: t}
		if c, ok := medianInterval(cpu); ok {
			iv.CPUPerExchange = &c
		}
		if l, ok := medianInterval(p99); ok {
			iv.P99 = &l
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
	thr, cpu, p99 := make([]string, len(rounds)), make([]string, 0, len(rounds)), make([]string, 0, len(rounds))
	for i, r := range rounds {
		thr[i] = fmt.Sprintf(format, r.Throughput)
		if r.CPUPerExchange > 0 {
			cpu = append(cpu, fmt.Sprintf(format, r.CPUPerExchange))
		}
		if r.P99 > 0 {
			p99 = append(p99, fmt.Sprintf(format, r.P99))
		}
	}
	fmt.Fprintf(w, "  per round: throughput %s", strings.Join(thr, " "))
	if len(cpu) > 0 {
		fmt.Fprintf(w, "; server CPU per exchange %s", strings.Join(cpu, " "))
	}
	if len(p99) > 0 {
		fmt.Fprintf(w, "; p99 %s", strings.Join(p99, " "))
	}
	span := func(r *ciRange) string {
		if r == nil {
			return ""
		}
		return " [" + fmt.Sprintf(format, r.Low) + " – " + fmt.Sprintf(format, r.High) + "]"
	}
	var tiv, civ, liv *ciRange
	if iv != nil {
		tiv, civ, liv = &iv.Throughput, iv.CPUPerExchange, iv.P99
	}
	fmt.Fprintf(w, "\n  median of the rounds: throughput "+format+"%s", med.Throughput, span(tiv))
	if med.CPUPerExchange > 0 {
		fmt.Fprintf(w, ", server CPU per exchange "+format+"%s", med.CPUPerExchange, span(civ))
	}
	if med.P99 > 0 {
		fmt.Fprintf(w, ", p99 "+format+"%s", med.P99, span(liv))
	}
	fmt.Fprintln(w)
	if tiv == nil {
		return
	}
	conf := fmt.Sprintf("%.1f %%", 100*tiv.Confidence)
	for _, o := range []struct {
		name string
		r    *ciRange
	}{{"server CPU", civ}, {"p99", liv}} {
		if o.r != nil && o.r.Confidence != tiv.Confidence {
			conf += fmt.Sprintf(" (%s: %.1f %%)", o.name, 100*o.r.Confidence)
		}
	}
	fmt.Fprintf(w, "  [low – high]: holds the median with %s confidence, from the order of %d rounds' ratios (fewer than 6 rounds cannot reach 95 %%)\n", conf, len(rounds))
}

// pairedRatios are one child's results divided by another's: round by
// round, over the merged rounds, and the median of the rounds' ratios with
// its confidence interval.
type pairedRatios struct {
	Rounds []roundRatio `json:"rounds"`
	// Total is the ratio of the merged rounds.
	Total roundRatio `json:"total"`
	// Median is the median of the per-round ratios, each ratio on its
	// own: one round disturbed by the machine moves it less than Total.
	Median roundRatio `json:"median"`
	// MedianInterval are the medians' confidence intervals
	// (bench_interval.go); nil with one round.
	MedianInterval *roundInterval `json:"median_interval,omitempty"`
}

// pairedOf divides num's rounds and total by den's.
func pairedOf(num, den []*loadgen.Result, numTotal, denTotal *loadgen.Result) pairedRatios {
	p := pairedRatios{Total: roundRatioOf(numTotal, denTotal)}
	p.Rounds, p.Median, p.MedianInterval = pairRounds(num, den)
	return p
}

// writePaired prints one pairing's ratios over the merged rounds, then
// round by round with their medians.
func writePaired(w io.Writer, title string, p pairedRatios) {
	fmt.Fprintf(w, "\n%s: throughput %.3f×", title, p.Total.Throughput)
	if p.Total.CPUPerExchange > 0 {
		fmt.Fprintf(w, ", server CPU per exchange %.3f×", p.Total.CPUPerExchange)
	}
	if p.Total.P99 > 0 {
		fmt.Fprintf(w, ", p99 %.3f×", p.Total.P99)
	}
	fmt.Fprintln(w)
	writeRoundRatios(w, p.Rounds, p.Median, p.MedianInterval, "%.3f×")
}
