package expr

import (
	"fmt"
	"math"
	"strconv"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// String converts v to a string per XPath 1.0 string(): a node-set gives
// its first node's string-value ("" when empty), a number FormatNumber, a
// boolean "true"/"false", nil "".
func String(v Value) string {
	switch x := v.(type) {
	case string:
		return x
	case NodeSet:
		if len(x) == 0 || x[0] == nil {
			return ""
		}
		return x[0].StringValue()
	case float64:
		return FormatNumber(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return ""
	case *dom.Node:
		if x == nil {
			return ""
		}
		return x.StringValue()
	case []*dom.Node:
		return String(NodeSet(x))
	}
	return fmt.Sprint(v)
}

// Bool converts v to a boolean per XPath 1.0 boolean(): a node-set is true
// when not empty, a number when neither zero nor NaN, a string when not
// empty; nil is false.
func Bool(v Value) bool {
	switch x := v.(type) {
	case bool:
		return x
	case NodeSet:
		return len(x) > 0
	case string:
		return x != ""
	case float64:
		return x != 0 && !math.IsNaN(x)
	case nil:
		return false
	case *dom.Node:
		return x != nil
	case []*dom.Node:
		return len(x) > 0
	}
	return false
}

// Number converts v to a number per XPath 1.0 number(): strings (and the
// string-value of a node-set's first node) are parsed by ParseNumber,
// booleans give 1 or 0, an empty node-set and nil give NaN.
func Number(v Value) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		return ParseNumber(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case NodeSet:
		if len(x) == 0 {
			return math.NaN()
		}
		return ParseNumber(String(x))
	case nil:
		return math.NaN()
	}
	return ParseNumber(String(v))
}

// ParseNumber parses s as an XPath number: optional whitespace, an
// optional '-', digits with an optional fraction (or a fraction alone),
// optional whitespace. As an extension for JSON data an exponent
// ("1e5", "2.5E-3") is accepted too. Anything else is NaN.
func ParseNumber(s string) float64 {
	s = trimXMLSpace(s)
	i := 0
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	// n accumulates the integer part while it is exact: up to
	// maxExactDigits digits convert to float64 without rounding, so a plain
	// integer (an HTTP status, a count, an ID) needs no float parsing.
	var n uint64
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + uint64(s[i]-'0')
		i++
		digits++
	}
	if i == len(s) && digits > 0 && digits <= maxExactDigits {
		f := float64(n)
		if neg {
			f = -f // "-0" is negative zero, as strconv.ParseFloat has it
		}
		return f
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
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

// maxExactDigits is the most decimal digits whose integer value a
// float64 always holds exactly (10^15 < 2^53).
const maxExactDigits = 15

// trimXMLSpace removes XML whitespace (space, tab, CR, LF) from both ends
// of s.
func trimXMLSpace(s string) string {
	for len(s) > 0 && isXMLSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isXMLSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// FormatNumber formats f per XPath 1.0 string(number): "NaN", "Infinity",
// "-Infinity", "0" for both zeros, integers without a fraction, other
// values in the shortest decimal form without an exponent.
func FormatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
