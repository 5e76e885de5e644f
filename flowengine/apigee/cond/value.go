package cond

import (
	"math"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

type vkind uint8

const (
	kNull vkind = iota
	kBool
	kInt
	kFloat
	kString
)

// val is an operand value during evaluation; it lives on the stack.
type val struct {
	k vkind
	b bool
	i int64
	f float64
	s string
}

// fromAny converts a flow variable's value. ok is false for types
// conditions cannot compare (Apigee's "Object").
func fromAny(x any) (val, bool) {
	switch t := x.(type) {
	case nil:
		return val{}, true
	case string:
		return val{k: kString, s: t}, true
	case bool:
		return val{k: kBool, b: t}, true
	case int:
		return val{k: kInt, i: int64(t)}, true
	case int64:
		return val{k: kInt, i: t}, true
	case int32:
		return val{k: kInt, i: int64(t)}, true
	case int16:
		return val{k: kInt, i: int64(t)}, true
	case int8:
		return val{k: kInt, i: int64(t)}, true
	case uint:
		return fromUint(uint64(t)), true
	case uint64:
		return fromUint(t), true
	case uint32:
		return val{k: kInt, i: int64(t)}, true
	case uint16:
		return val{k: kInt, i: int64(t)}, true
	case uint8:
		return val{k: kInt, i: int64(t)}, true
	case float64:
		return val{k: kFloat, f: t}, true
	case float32:
		return val{k: kFloat, f: float64(t)}, true
	}
	return val{}, false
}

func fromUint(u uint64) val {
	if u > math.MaxInt64 {
		return val{k: kFloat, f: float64(u)}
	}
	return val{k: kInt, i: int64(u)}
}

func (v val) isNum() bool { return v.k == kInt || v.k == kFloat }

// num is v as a double (Boolean adapts to Integer 1/0).
func (v val) num() float64 {
	switch v.k {
	case kInt:
		return float64(v.i)
	case kFloat:
		return v.f
	case kBool:
		if v.b {
			return 1
		}
	}
	return 0
}

// str is v's string form (Java String.valueOf). Only non-string values
// allocate.
func (v val) str() string {
	switch v.k {
	case kString:
		return v.s
	case kBool:
		return strconv.FormatBool(v.b)
	case kInt:
		return strconv.FormatInt(v.i, 10)
	case kFloat:
		return string(flowvar.AppendJavaDouble(nil, v.f, 64))
	}
	return ""
}

// appendStr appends v as Java writes it (String.valueOf).
func (v val) appendStr(buf []byte) []byte {
	switch v.k {
	case kString:
		return append(buf, v.s...)
	case kBool:
		return strconv.AppendBool(buf, v.b)
	case kInt:
		return strconv.AppendInt(buf, v.i, 10)
	case kFloat:
		return flowvar.AppendJavaDouble(buf, v.f, 64)
	}
	return buf
}

// strCmp compares two operands as strings (one of them is a String); a
// number or boolean is written into a stack buffer, so nothing is
// allocated. fold compares case-insensitively (equality only).
func strCmp(a, b val, fold bool) int {
	if a.k == kString && b.k == kString {
		if fold {
			if strings.EqualFold(a.s, b.s) {
				return 0
			}
			return 1
		}
		return strings.Compare(a.s, b.s)
	}
	var buf [40]byte
	if a.k == kString {
		return cmpStrBytes(a.s, b.appendStr(buf[:0]), fold)
	}
	return -cmpStrBytes(b.s, a.appendStr(buf[:0]), fold)
}

// cmpStrBytes compares s with b (byte-wise; fold: ASCII case-insensitive
// equality, enough for the digits, signs and "true"/"false" b holds).
func cmpStrBytes(s string, b []byte, fold bool) int {
	n := min(len(s), len(b))
	for i := 0; i < n; i++ {
		x, y := s[i], b[i]
		if fold {
			x, y = lowerASCII(x), lowerASCII(y)
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(s) < len(b):
		return -1
	case len(s) > len(b):
		return 1
	}
	return 0
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// truthy is the value of a bare operand used as a condition: Boolean true,
// or a string that reads "true" in any case (Java Boolean.parseBoolean);
// null, numbers and other strings are false [inferred: the reference
// documents bare-variable conditions but not their truth rules].
func (v val) truthy() bool {
	switch v.k {
	case kBool:
		return v.b
	case kString:
		return strings.EqualFold(v.s, "true")
	}
	return false
}

// parseNum reads s as a decimal number: [+-]digits[.digits][(e|E)[+-]digits]
// (a fraction or exponent makes it a double). It does not allocate.
func parseNum(s string) (val, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	ds := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	nd := i - ds
	isFloat := false
	if i < len(s) && s[i] == '.' {
		isFloat = true
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		nd += i - fs
	}
	if nd == 0 {
		return val{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isFloat = true
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		es := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == es {
			return val{}, false
		}
	}
	if i != len(s) {
		return val{}, false
	}
	if !isFloat && nd <= 18 {
		var n int64
		for _, c := range []byte(s[ds:]) {
			n = n*10 + int64(c-'0')
		}
		if s[0] == '-' {
			n = -n
		}
		return val{k: kInt, i: n}, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return val{}, false
	}
	return val{k: kFloat, f: f}, true
}

// javaCompare orders doubles as Java's Double.compare: -0.0 < 0.0, NaN
// above everything and equal to itself.
func javaCompare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	as, bs := math.Signbit(a), math.Signbit(b)
	switch {
	case as == bs:
		return 0
	case as:
		return -1
	}
	return 1
}

func numCmp(a, b val) int {
	if a.k == kInt && b.k == kInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	return javaCompare(a.num(), b.num())
}

// adapt brings two non-null operands to a common type, following the
// conditions reference's adaptation table (Boolean×Integer→Integer,
// Integer×Long→Long, …×Double→Double, Boolean×Boolean→Boolean, and
// any×String→String): a String against a number is compared as a string,
// the number written as Java writes it. So request.header.limit > 100 is a
// lexicographic test, and "99" > 100 is true — the trap the devrel-data-api
// bundle falls into, reproduced on purpose (Apigee docs: condition literals and typing,
// corpus INDEX) [doc].
//
// It returns the operands; str is true when the pair must be compared as
// strings.
func adapt(a, b val) (x, y val, str bool) {
	if a.k == kString || b.k == kString {
		return a, b, true
	}
	return a, b, false
}

// cmpVals orders two non-null operands after adaptation.
func cmpVals(a, b val) int {
	a, b, str := adapt(a, b)
	if str {
		return strCmp(a, b, false)
	}
	if a.k == kBool && b.k == kBool {
		switch {
		case a.b == b.b:
			return 0
		case b.b:
			return -1
		}
		return 1
	}
	return numCmp(a, b)
}

// eqVals is Equals (fold false) or EqualsCaseInsensitive (fold true) of two
// non-null operands.
func eqVals(a, b val, fold bool) bool {
	a, b, str := adapt(a, b)
	if str {
		if a.k == kString && b.k == kString {
			if fold {
				return strings.EqualFold(a.s, b.s)
			}
			return a.s == b.s
		}
		return strCmp(a, b, fold) == 0
	}
	if a.k == kBool && b.k == kBool {
		return a.b == b.b
	}
	return numCmp(a, b) == 0
}
