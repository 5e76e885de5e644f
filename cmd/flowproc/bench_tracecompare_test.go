package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/internal/loadgen"
)

// TestTraceCompareRatios pairs the traced and untraced rounds by round,
// takes the medians per ratio, and prints them.
func TestTraceCompareRatios(t *testing.T) {
	res := cpuRound
	per := map[string][]*loadgen.Result{
		"flowproc":  {res("flowproc", 1, 1000, 100), res("flowproc", 2, 2000, 100), res("flowproc", 3, 1000, 200)},
		tracedLabel: {res(tracedLabel, 1, 500, 110), res(tracedLabel, 2, 1960, 102), res(tracedLabel, 3, 990, 300)},
	}
	tc := newTraceCompare(0.01, per, res("flowproc", 0, 4000, 100), res(tracedLabel, 0, 3000, 120))
	if len(tc.Rounds) != 3 || tc.Rounds[0].Round != 1 || tc.Rounds[0].Throughput != 0.5 || tc.Rounds[2].CPUPerExchange != 1.5 {
		t.Errorf("rounds %+v", tc.Rounds)
	}
	if tc.Total.Throughput != 0.75 || tc.Total.CPUPerExchange != 1.2 {
		t.Errorf("total %+v", tc.Total)
	}
	if tc.Median.Throughput != 0.98 || tc.Median.CPUPerExchange != 1.1 {
		t.Errorf("median %+v, want 0.98 and 1.1", tc.Median)
	}
	var b bytes.Buffer
	writeTraceCompare(&b, tc)
	for _, want := range []string{
		"traced (sample 0.01) / untraced flowproc: throughput 0.750×, server CPU per exchange 1.200×",
		"per round: throughput 0.500× 0.980× 0.990×; server CPU per exchange 1.100× 1.020× 1.500×",
		"median of the rounds: throughput 0.980× [0.500× – 0.990×], server CPU per exchange 1.100× [1.020× – 1.500×]",
		"holds the median with 75.0 % confidence, from the order of 3 rounds' ratios",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	if _, err := parseTraceCompare("abc"); err == nil {
		t.Error("parseTraceCompare accepted abc")
	}
}
