// Package flowvar is the tiny contract between Apigee flow variables and the
// packages that read them (conditions, message templates): a Vars lookup
// and the Java-like string form of a variable's value.
//
// A flow variable's value is one of: nil (null), string, bool, a Go integer
// type, float32 or float64. Values of other types are "objects" in Apigee's
// sense; packages that cannot honour them report an error.
package flowvar

import (
	"math"
	"strconv"
)

// Vars resolves Apigee flow variables by name. ok is false when the variable
// does not exist (Apigee treats that as null). Names are passed as written
// in the condition or template; case rules (header names are
// case-insensitive in Apigee) belong to the implementation.
type Vars interface {
	Lookup(name string) (value any, ok bool)
}

// StringVars is a Vars that can hand out a string-valued variable without
// boxing it in an interface, which allocates. Conditions and message
// templates read variables through LookupString, which uses it when their
// Vars implement it.
type StringVars interface {
	Vars
	// LookupString is Lookup with a string value in s (isString true)
	// rather than in value. Other values come in value as Lookup returns
	// them.
	LookupString(name string) (s string, isString bool, value any, ok bool)
}

// LookupString looks name up in v, without boxing a string value when v is
// a StringVars. A string value always comes back in s with isString true,
// whichever way v produced it; any other value comes in value.
func LookupString(v Vars, name string) (s string, isString bool, value any, ok bool) {
	if sv, is := v.(StringVars); is {
		s, isString, value, ok = sv.LookupString(name)
	} else {
		value, ok = v.Lookup(name)
	}
	if !isString {
		if str, is := value.(string); is {
			return str, true, nil, ok
		}
	}
	return s, isString, value, ok
}

// Map is a Vars backed by a map, for tests and simple embeddings.
type Map map[string]any

// Lookup returns m[name].
func (m Map) Lookup(name string) (any, bool) {
	v, ok := m[name]
	return v, ok
}

// AppendString appends the string form Apigee would produce for v
// (Java's String.valueOf): strings as is, booleans as "true"/"false",
// integers in decimal, floating point numbers as Java's Double.toString
// does ("1.0", "1.5E10"). ok is false for nil and for unsupported types.
func AppendString(dst []byte, v any) (out []byte, ok bool) {
	switch x := v.(type) {
	case string:
		return append(dst, x...), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(dst, x, 10), true
	case float32:
		return AppendJavaDouble(dst, float64(x), 32), true
	case float64:
		return AppendJavaDouble(dst, x, 64), true
	}
	return dst, false
}

// String returns the string form of v (see AppendString); ok is false for
// nil and unsupported types.
func String(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	b, ok := AppendString(nil, v)
	return string(b), ok
}

// AppendJavaDouble appends f as Java's Double.toString (bits 64) or
// Float.toString (bits 32) would: "NaN", "Infinity", plain decimal with at
// least one fractional digit for 1e-3 <= |f| < 1e7, otherwise computerized
// scientific notation "d.dddE±n". The digits are the shortest that round
// trip, which matches Java for all but a few rare values.
func AppendJavaDouble(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	a := math.Abs(f)
	if a >= 1e-3 && a < 1e7 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, bits)
		for _, c := range dst[start:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, ".0"...)
	}
	// Scientific: Go gives "1.5e+10"; Java wants "1.5E10" and "1.0E10".
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, bits)
	mant, exp := s, []byte(nil)
	for i, c := range s {
		if c == 'e' {
			mant, exp = s[:i], s[i+1:]
			break
		}
	}
	dst = append(dst, mant...)
	hasDot := false
	for _, c := range mant {
		if c == '.' {
			hasDot = true
		}
	}
	if !hasDot {
		dst = append(dst, ".0"...)
	}
	dst = append(dst, 'E')
	if len(exp) > 0 && exp[0] == '+' {
		exp = exp[1:]
	}
	if len(exp) > 0 && exp[0] == '-' {
		dst = append(dst, '-')
		exp = exp[1:]
	}
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	return append(dst, exp...)
}
