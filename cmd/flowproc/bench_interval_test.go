package main

import (
	"math"
	"testing"
)

// TestMedianInterval pins the order statistics the interval takes and
// the coverage it reports against binomial tails worked out by hand.
func TestMedianInterval(t *testing.T) {
	seq := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i + 1)
		}
		return v
	}
	for _, c := range []struct {
		n         int
		low, high float64
		coverage  float64
	}{
		// Fewer than six rounds never reach 95 %: the whole range.
		{2, 1, 2, 1 - 2.0/4},
		{3, 1, 3, 1 - 2.0/8},        // the default -rounds
		{5, 1, 5, 1 - 2.0/32},       // 93.75 %
		{6, 1, 6, 1 - 2.0/64},       // 96.9 %: the first to reach it
		{9, 2, 8, 1 - 2*10.0/512},   // P(B≤1) = (1+9)/512
		{10, 2, 9, 1 - 2*11.0/1024}, // 97.9 %; k=3 would give 89.1 %
		// P(B≤5) = (1+20+190+1140+4845+15504)/2^20; k=7 would give 88.5 %
		{20, 6, 15, 1 - 2*21700.0/1048576},
	} {
		iv, ok := medianInterval(seq(c.n))
		if !ok || iv.Low != c.low || iv.High != c.high || math.Abs(iv.Confidence-c.coverage) > 1e-12 {
			t.Errorf("n=%d: %+v %v, want [%g, %g] at %.6f", c.n, iv, ok, c.low, c.high, c.coverage)
		}
	}
	// Unsorted input: the same interval as sorted.
	if iv, _ := medianInterval([]float64{9, 2, 7, 1, 5, 3, 10, 4, 8, 6}); iv.Low != 2 || iv.High != 9 {
		t.Errorf("unsorted n=10: %+v, want [2, 9]", iv)
	}
	for _, n := range []int{0, 1} {
		if iv, ok := medianInterval(seq(n)); ok {
			t.Errorf("n=%d: interval %+v from fewer than two values", n, iv)
		}
	}
	// Many rounds: the coverage stays at or above the level, and the
	// interval narrows around the middle.
	iv, _ := medianInterval(seq(1000))
	if iv.Confidence < ciLevel || iv.Low < 400 || iv.High > 600 || iv.Low+iv.High != 1001 {
		t.Errorf("n=1000: %+v", iv)
	}
}
