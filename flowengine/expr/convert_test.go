package expr

import (
	"math"
	"regexp"
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

// FuzzParseNumber checks ParseNumber against referenceParseNumber, a
// grammar written as a regular expression and strconv for every number.
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

// numberGrammar is ParseNumber's grammar after trimming: XPath's Number
// with an optional '-', and the exponent flowproc accepts for JSON data.
var numberGrammar = regexp.MustCompile(`^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// referenceParseNumber is the conversion written independently: the
// grammar as a regular expression, every number then parsed by strconv.
func referenceParseNumber(s string) float64 {
	s = strings.Trim(s, " \t\r\n")
	if !numberGrammar.MatchString(s) {
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
