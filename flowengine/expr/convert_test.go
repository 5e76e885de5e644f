package expr

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestParseNumber pins XPath's string-to-number conversion, both on the
// plain-integer path (no float parsing) and on the general one.
func TestParseNumber(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, c := range []struct {
		in   string
		want float64
	}{
		{"200", 200},
		{" 404\n", 404},
		{"\t-17\r", -17},
		{"007", 7},
		{"0", 0},
		{"-0", negZero},
		{"999999999999999", 999999999999999},   // 15 digits: the integer path
		{"9007199254740993", 9007199254740992}, // 16 digits: rounded as strconv rounds
		{"12345678901234567890", 12345678901234567890}, // past uint64's range
		{"1.5", 1.5},
		{".5", 0.5},
		{"5.", 5},
		{"-.25", -0.25},
		{"1e3", 1000},
		{"2.5E-3", 0.0025},
		{"1e999", math.Inf(1)},
		{"", math.NaN()},
		{"-", math.NaN()},
		{"+5", math.NaN()},
		{"1 2", math.NaN()},
		{"0x10", math.NaN()},
		{"1e", math.NaN()},
		{".", math.NaN()},
		{"NaN", math.NaN()},
		{"Infinity", math.NaN()},
		{"\u00a0" + "5", math.NaN()}, // not XML whitespace
		{"١٢", math.NaN()},           // not ASCII digits
	} {
		got := ParseNumber(c.in)
		if !sameNumber(got, c.want) {
			t.Errorf("ParseNumber(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// FuzzParseNumber checks ParseNumber against the grammar checked first
// and every number then parsed by strconv, which is how it worked before
// plain integers took their own path.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"200", " -0 ", "1.5", "1e5", "999999999999999", "9999999999999999", "", "-", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := ParseNumber(s), referenceParseNumber(s)
		if !sameNumber(got, want) {
			t.Fatalf("ParseNumber(%q) = %v, reference %v", s, got, want)
		}
	})
}

// sameNumber is equality that tells the zeros apart and matches NaN.
func sameNumber(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

// referenceParseNumber is the conversion through strconv alone.
func referenceParseNumber(s string) float64 {
	s = strings.Trim(s, " \t\r\n")
	i, digits := 0, 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return math.NaN()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return math.NaN()
		}
	}
	if i != len(s) {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}

// BenchmarkParseNumber: an HTTP status (the integer path) and a fraction
// (strconv).
func BenchmarkParseNumber(b *testing.B) {
	for _, s := range []string{"200", "12.75"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				if math.IsNaN(ParseNumber(s)) {
					b.Fatal("NaN")
				}
			}
		})
	}
}
