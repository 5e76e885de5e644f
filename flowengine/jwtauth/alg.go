package jwtauth

import (
	"fmt"
	"strings"
)

// keyKind is the kind of key an algorithm verifies with.
type keyKind int

const (
	kindHMAC keyKind = iota
	kindRSA
	kindEC
	kindEd
)

func (k keyKind) String() string {
	switch k {
	case kindHMAC:
		return "an HMAC secret"
	case kindRSA:
		return "an RSA public key"
	case kindEC:
		return "an EC public key"
	}
	return "an Ed25519 public key"
}

// algSpec is a parsed alg setting: the accepted JWS algorithms, all of one
// key kind.
type algSpec struct {
	kind    keyKind
	methods []string
}

var families = map[string]algSpec{
	"HS": {kindHMAC, []string{"HS256", "HS384", "HS512"}},
	"RS": {kindRSA, []string{"RS256", "RS384", "RS512"}},
	"PS": {kindRSA, []string{"PS256", "PS384", "PS512"}},
	"ES": {kindEC, []string{"ES256", "ES384", "ES512"}},
}

const knownAlgs = "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, or a family HS, RS, PS, ES"

// parseAlg parses an x-flat-jwt alg value ("" means the default HS256).
func parseAlg(s string) (algSpec, error) {
	if s == "" {
		s = "HS256"
	}
	if f, ok := families[s]; ok {
		return f, nil
	}
	if s == "EdDSA" {
		return algSpec{kindEd, []string{"EdDSA"}}, nil
	}
	if len(s) == 5 {
		if f, ok := families[s[:2]]; ok {
			for _, m := range f.methods {
				if m == s {
					return algSpec{f.kind, []string{s}}, nil
				}
			}
		}
	}
	return algSpec{}, fmt.Errorf("unknown alg %q (known: %s)", s, knownAlgs)
}

// allows reports whether alg is one of the accepted algorithms.
func (a algSpec) allows(alg string) bool {
	for _, m := range a.methods {
		if m == alg {
			return true
		}
	}
	return false
}

func (a algSpec) String() string { return strings.Join(a.methods, ", ") }
