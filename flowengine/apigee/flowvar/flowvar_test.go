package flowvar

import (
	"math"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
		ok   bool
	}{
		{"abc", "abc", true},
		{true, "true", true},
		{false, "false", true},
		{42, "42", true},
		{int64(-7), "-7", true},
		{uint8(255), "255", true},
		{1.0, "1.0", true},
		{1.5, "1.5", true},
		{0.001, "0.001", true},
		{0.0001, "1.0E-4", true},
		{1e7, "1.0E7", true},
		{1.5e10, "1.5E10", true},
		{-2.5e-5, "-2.5E-5", true},
		{float32(0.1), "0.1", true},
		{math.NaN(), "NaN", true},
		{math.Inf(-1), "-Infinity", true},
		{0.0, "0.0", true},
		{nil, "", false},
		{struct{}{}, "", false},
	} {
		got, ok := String(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("String(%#v) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMapLookup(t *testing.T) {
	m := Map{"a": "x", "n": nil}
	if v, ok := m.Lookup("a"); !ok || v != "x" {
		t.Errorf("Lookup(a) = %v, %v", v, ok)
	}
	if v, ok := m.Lookup("n"); !ok || v != nil {
		t.Errorf("Lookup(n) = %v, %v", v, ok)
	}
	if _, ok := m.Lookup("missing"); ok {
		t.Error("Lookup(missing) ok")
	}
}

// stringVars is a StringVars that hands out "s" unboxed and "boxed" the
// way Lookup would.
type stringVars struct{ Map }

func (v stringVars) LookupString(name string) (string, bool, any, bool) {
	if name == "s" {
		return "unboxed", true, nil, true
	}
	x, ok := v.Lookup(name)
	return "", false, x, ok
}

func TestLookupString(t *testing.T) {
	m := Map{"a": "x", "n": nil, "i": 7, "boxed": "b"}
	tests := []struct {
		vars     Vars
		name     string
		s        string
		isString bool
		value    any
		ok       bool
	}{
		{m, "a", "x", true, nil, true},
		{m, "n", "", false, nil, true},
		{m, "i", "", false, 7, true},
		{m, "missing", "", false, nil, false},
		{stringVars{m}, "s", "unboxed", true, nil, true},
		{stringVars{m}, "boxed", "b", true, nil, true},
		{stringVars{m}, "i", "", false, 7, true},
		{stringVars{m}, "missing", "", false, nil, false},
	}
	for _, tc := range tests {
		s, isString, v, ok := LookupString(tc.vars, tc.name)
		if s != tc.s || isString != tc.isString || v != tc.value || ok != tc.ok {
			t.Errorf("LookupString(%T, %s) = %q, %v, %v, %v; want %q, %v, %v, %v", tc.vars, tc.name, s, isString, v, ok, tc.s, tc.isString, tc.value, tc.ok)
		}
	}
}
