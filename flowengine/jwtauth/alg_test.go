package jwtauth

import (
	"strings"
	"testing"
)

func TestParseAlg(t *testing.T) {
	tests := []struct {
		in      string
		kind    keyKind
		methods string
		err     string
	}{
		{in: "", kind: kindHMAC, methods: "HS256"},
		{in: "HS256", kind: kindHMAC, methods: "HS256"},
		{in: "HS512", kind: kindHMAC, methods: "HS512"},
		{in: "HS", kind: kindHMAC, methods: "HS256, HS384, HS512"},
		{in: "RS", kind: kindRSA, methods: "RS256, RS384, RS512"},
		{in: "RS384", kind: kindRSA, methods: "RS384"},
		{in: "PS", kind: kindRSA, methods: "PS256, PS384, PS512"},
		{in: "PS512", kind: kindRSA, methods: "PS512"},
		{in: "ES", kind: kindEC, methods: "ES256, ES384, ES512"},
		{in: "ES256", kind: kindEC, methods: "ES256"},
		{in: "EdDSA", kind: kindEd, methods: "EdDSA"},
		{in: "none", err: "unknown alg"},
		{in: "HS385", err: "unknown alg"},
		{in: "hs256", err: "unknown alg"},
		{in: "RS1", err: "unknown alg"},
		{in: "XS256", err: "unknown alg"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := parseAlg(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseAlg(%q) = %v, %v; want error %q", tt.in, a, err, tt.err)
				}
				return
			}
			if err != nil || a.kind != tt.kind || a.String() != tt.methods {
				t.Fatalf("parseAlg(%q) = %v (%v), %v; want %s %s", tt.in, a, a.kind, err, tt.kind, tt.methods)
			}
			for _, m := range a.methods {
				if !a.allows(m) {
					t.Errorf("%s does not allow %s", a, m)
				}
			}
			if a.allows("none") {
				t.Errorf("%s allows none", a)
			}
		})
	}
}
