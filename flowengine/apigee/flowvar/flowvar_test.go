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
