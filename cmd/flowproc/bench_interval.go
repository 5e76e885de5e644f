package main

import (
	"math"
	"slices"
)

// ciLevel is the confidence the interval of a median aims for.
const ciLevel = 0.95

// ciRange is a confidence interval for the median of the per-round
// ratios: the median of the distribution the rounds were drawn from lies
// in [Low, High] with probability Confidence.
type ciRange struct {
	Low        float64 `json:"low"`
	High       float64 `json:"high"`
	Confidence float64 `json:"confidence"`
}

// roundInterval holds the intervals of the medians of a roundRatio's
// fields (CPUPerExchange, P99 nil: fewer than two rounds measured it).
type roundInterval struct {
	Throughput     ciRange  `json:"throughput"`
	CPUPerExchange *ciRange `json:"cpu_per_exchange,omitempty"`
	P99            *ciRange `json:"p99,omitempty"`
}

// medianInterval returns the distribution-free confidence interval of the
// median of v, two values or more (it sorts v): [v(k), v(n+1-k)], the k-th
// smallest and the k-th largest, for the largest k whose coverage (see
// medianCoverage) is at least ciLevel, or the whole range with its
// coverage when no k reaches it (fewer than six values). Nothing is
// assumed about the ratios' distribution, only that the rounds are
// independent draws from one: a run on a machine whose load changed
// half-way breaks that, and the interval cannot tell.
func medianInterval(v []float64) (ciRange, bool) {
	n := len(v)
	if n < 2 {
		return ciRange{}, false
	}
	slices.Sort(v)
	k := 1
	for k+1 <= n/2 && medianCoverage(n, k+1) >= ciLevel {
		k++
	}
	return ciRange{Low: v[k-1], High: v[n-k], Confidence: medianCoverage(n, k)}, true
}

// medianCoverage is the probability that the k-th smallest and the k-th
// largest of n independent draws from a continuous distribution enclose
// its median: 1 − 2·P(B ≤ k−1), B ~ Binomial(n, ½), since the k-th
// smallest lies above the median exactly when fewer than k draws fall
// below it.
func medianCoverage(n, k int) float64 {
	tail := 0.0
	for i := range k {
		tail += math.Exp(logChoose(n, i) - float64(n)*math.Ln2)
	}
	return 1 - 2*tail
}

// logChoose is ln C(n, i).
func logChoose(n, i int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(i + 1))
	c, _ := math.Lgamma(float64(n - i + 1))
	return a - b - c
}
