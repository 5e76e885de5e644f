package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/internal/loadgen"
)

// TestPairRounds pairs two servers' rounds in order, takes each ratio's
// median on its own (the mean of the middle two for an even count), and
// leaves CPU out of the median for rounds without a CPU measurement.
func TestPairRounds(t *testing.T) {
	res := func(round int, thr, cpu, p99 float64) *loadgen.Result {
		return &loadgen.Result{Round: round, Throughput: thr, ServerCPUMeasured: cpu > 0, ServerCPUPerExchangeUS: cpu, Latency: loadgen.Summary{P99US: p99}}
	}
	num := []*loadgen.Result{res(1, 800, 70, 1100), res(2, 900, 60, 1300), res(3, 700, 0, 1200), res(4, 850, 75, 1000)}
	den := []*loadgen.Result{res(1, 1000, 50, 1000), res(2, 1000, 50, 1000), res(3, 1000, 50, 1000), res(4, 1000, 50, 0)}
	rounds, med, iv := pairRounds(num, den)
	if len(rounds) != 4 || rounds[2].Round != 3 || rounds[2].CPUPerExchange != 0 || rounds[1].Throughput != 0.9 {
		t.Fatalf("rounds %+v", rounds)
	}
	// Round 4's no-op recorded no latency: three p99 ratios.
	if med.Throughput != 0.825 || med.CPUPerExchange != 1.4 || med.P99 != 1.2 || rounds[3].P99 != 0 {
		t.Fatalf("median %+v, want 0.825, 1.4 and 1.2", med)
	}
	// Four throughput ratios, three CPU ratios: each interval is its
	// own range, at the coverage of its count.
	if iv == nil || iv.Throughput != (ciRange{0.7, 0.9, 1 - 2.0/16}) || iv.CPUPerExchange == nil || *iv.CPUPerExchange != (ciRange{1.2, 1.5, 0.75}) ||
		iv.P99 == nil || *iv.P99 != (ciRange{1.1, 1.3, 0.75}) {
		t.Fatalf("interval %+v %+v %+v", iv, iv.CPUPerExchange, iv.P99)
	}
	// The confidence line names the ratios whose count differs.
	var b bytes.Buffer
	writeRoundRatios(&b, rounds, med, iv, "%.2f×")
	if want := "holds the median with 87.5 % (server CPU: 75.0 %) (p99: 75.0 %) confidence, from the order of 4 rounds' ratios"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
	if r, m, iv := pairRounds(num[:1], nil); r != nil || m != (roundRatio{}) || iv != nil {
		t.Fatalf("no pairs: %+v %+v %+v", r, m, iv)
	}
	if _, _, iv := pairRounds(num[:1], den[:1]); iv != nil {
		t.Fatalf("one pair has an interval: %+v", iv)
	}
}

// TestBenchTablePerRoundRatios prints the flowproc / no-op ratios of each
// round and their medians under the overall ratios, only when there are
// rounds to compare.
func TestBenchTablePerRoundRatios(t *testing.T) {
	rounds, med, iv := pairRounds(
		[]*loadgen.Result{{Round: 1, Throughput: 800, ServerCPUMeasured: true, ServerCPUPerExchangeUS: 70, Latency: loadgen.Summary{P99US: 1100}}, {Round: 2, Throughput: 820, ServerCPUMeasured: true, ServerCPUPerExchangeUS: 72, Latency: loadgen.Summary{P99US: 1300}}},
		[]*loadgen.Result{{Round: 1, Throughput: 1000, ServerCPUMeasured: true, ServerCPUPerExchangeUS: 50, Latency: loadgen.Summary{P99US: 1000}}, {Round: 2, Throughput: 1000, ServerCPUMeasured: true, ServerCPUPerExchangeUS: 50, Latency: loadgen.Summary{P99US: 1000}}})
	rep := &benchReport{Settings: benchSettings{Rounds: 2}, Ratios: &benchRatios{Throughput: 0.81, P50: 1.2, P99: 1.1, CPUPerExchange: 1.42, Rounds: rounds, Median: &med, MedianInterval: iv}}
	var b bytes.Buffer
	writeBenchTable(&b, rep)
	for _, want := range []string{
		"flowproc / no-op: throughput 0.81×, p50 1.20×, p99 1.10×, server CPU per exchange 1.42×",
		"per round: throughput 0.80× 0.82×; server CPU per exchange 1.40× 1.44×; p99 1.10× 1.30×",
		"median of the rounds: throughput 0.81× [0.80× – 0.82×], server CPU per exchange 1.42× [1.40× – 1.44×], p99 1.20× [1.10× – 1.30×]",
		"[low – high]: holds the median with 50.0 % confidence, from the order of 2 rounds' ratios (fewer than 6 rounds cannot reach 95 %)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	rep.Ratios.Rounds, rep.Ratios.Median, rep.Ratios.MedianInterval = nil, nil, nil
	b.Reset()
	writeBenchTable(&b, rep)
	if strings.Contains(b.String(), "per round") {
		t.Errorf("one round printed per-round ratios:\n%s", b.String())
	}
}

// cpuRound is a round's result with only what the ratios read: label,
// round, throughput and server CPU per exchange.
func cpuRound(label string, round int, thr, cpu float64) *loadgen.Result {
	return &loadgen.Result{Label: label, Round: round, Throughput: thr, ServerCPUMeasured: true, ServerCPUPerExchangeUS: cpu}
}
