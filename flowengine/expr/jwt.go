package expr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// This file holds what jwt-decode and jwt-encode share: the algorithm
// names (FLAT docs: JWT security, plus PS*, ES* and EdDSA) and the key forms (an
// HMAC secret as Base64URL, PEM with or without boundaries, a JWK or a
// JWK set as JSON).

// jwtFamilies maps an algorithm family name of jwt-decode to its members.
var jwtFamilies = map[string][]string{
	"HS": {"HS256", "HS384", "HS512"},
	"RS": {"RS256", "RS384", "RS512"},
	"PS": {"PS256", "PS384", "PS512"},
	"ES": {"ES256", "ES384", "ES512"},
}

// jwtAlgs returns the algorithms name stands for: one algorithm, or a
// family (HS, RS, PS, ES). "HS385", a misspelling in FLAT's documentation,
// is read as HS384.
func jwtAlgs(name string) ([]string, error) {
	if name == "HS385" {
		name = "HS384"
	}
	if f, ok := jwtFamilies[name]; ok {
		return f, nil
	}
	if name != "none" && jwt.GetSigningMethod(name) != nil {
		return []string{name}, nil
	}
	return nil, fmt.Errorf("%w: JWT algorithm %q", ErrAlgorithm, name)
}

// jwtKeyFits reports whether key (a verification or signing key) has the
// type alg needs.
func jwtKeyFits(alg string, key any) bool {
	switch alg[:2] {
	case "HS":
		b, ok := key.([]byte)
		return ok && len(b) > 0
	case "RS", "PS":
		switch key.(type) {
		case *rsa.PublicKey, *rsa.PrivateKey:
			return true
		}
	case "ES":
		var c elliptic.Curve
		switch k := key.(type) {
		case *ecdsa.PublicKey:
			c = k.Curve
		case *ecdsa.PrivateKey:
			c = k.Curve
		default:
			return false
		}
		return c.Params().BitSize == map[string]int{"ES256": 256, "ES384": 384, "ES512": 521}[alg]
	case "Ed":
		switch key.(type) {
		case ed25519.PublicKey, ed25519.PrivateKey:
			return true
		}
	}
	return false
}

// jwkKey is one key of a JWK or JWK set.
type jwkKey struct {
	kid, alg string
	// key is []byte (oct), *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey; priv is the private key when the JWK has one.
	key  any
	priv crypto.Signer
}

type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	K   string `json:"k"`
	N   string `json:"n"`
	E   string `json:"e"`
	D   string `json:"d"`
	P   string `json:"p"`
	Q   string `json:"q"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKs parses a JWK or a JWK set ({"keys": [...]}, RFC 7517). Keys of
// a set that cannot be used (unknown kty, a use other than sig) are
// skipped; a single unusable JWK, or a set without a usable key, is an
// error.
func parseJWKs(s string) ([]jwkKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal([]byte(s), &set); err != nil {
		return nil, fmt.Errorf("%w: malformed JWK JSON", ErrKey)
	}
	if set.Keys == nil {
		k, err := parseJWK([]byte(s))
		if err != nil {
			return nil, err
		}
		return []jwkKey{k}, nil
	}
	var keys []jwkKey
	for _, raw := range set.Keys {
		if k, err := parseJWK(raw); err == nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: JWK set has no usable key", ErrKey)
	}
	return keys, nil
}

func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func b64int(s string) (*big.Int, error) {
	b, err := b64url(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%w: bad JWK number", ErrKey)
	}
	return new(big.Int).SetBytes(b), nil
}

// parseJWK parses one JWK: kty oct, RSA, EC (P-256, P-384, P-521) or OKP
// (Ed25519), with its private members when present.
func parseJWK(raw []byte) (jwkKey, error) {
	var j jwkJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return jwkKey{}, fmt.Errorf("%w: malformed JWK", ErrKey)
	}
	var use struct {
		Use string `json:"use"`
	}
	_ = json.Unmarshal(raw, &use)
	if use.Use != "" && use.Use != "sig" {
		return jwkKey{}, fmt.Errorf("%w: JWK use %q", ErrKey, use.Use)
	}
	k := jwkKey{kid: j.Kid, alg: j.Alg}
	switch j.Kty {
	case "oct":
		b, err := b64url(j.K)
		if err != nil || len(b) == 0 {
			return jwkKey{}, fmt.Errorf("%w: bad JWK k", ErrKey)
		}
		k.key = b
	case "RSA":
		n, err := b64int(j.N)
		if err != nil {
			return jwkKey{}, err
		}
		e, err := b64int(j.E)
		if err != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return jwkKey{}, fmt.Errorf("%w: bad JWK e", ErrKey)
		}
		pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
		k.key = pub
		if j.D != "" {
			d, err1 := b64int(j.D)
			p, err2 := b64int(j.P)
			q, err3 := b64int(j.Q)
			if err1 != nil || err2 != nil || err3 != nil {
				return jwkKey{}, fmt.Errorf("%w: bad JWK private RSA key (needs d, p, q)", ErrKey)
			}
			priv := &rsa.PrivateKey{PublicKey: *pub, D: d, Primes: []*big.Int{p, q}}
			if err := priv.Validate(); err != nil {
				return jwkKey{}, fmt.Errorf("%w: %w", ErrKey, err)
			}
			priv.Precompute()
			k.priv = priv
		}
	case "EC":
		curve, size := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[j.Crv], 0
		if curve == nil {
			return jwkKey{}, fmt.Errorf("%w: JWK curve %q", ErrKey, j.Crv)
		}
		size = (curve.Params().BitSize + 7) / 8
		x, err1 := b64url(j.X)
		y, err2 := b64url(j.Y)
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return jwkKey{}, fmt.Errorf("%w: bad JWK EC point", ErrKey)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return jwkKey{}, fmt.Errorf("%w: %w", ErrKey, err)
		}
		k.key = pub
		if j.D != "" {
			d, err := b64url(j.D)
			if err != nil {
				return jwkKey{}, fmt.Errorf("%w: bad JWK d", ErrKey)
			}
			priv, err := ecdsa.ParseRawPrivateKey(curve, d)
			if err != nil || !priv.PublicKey.Equal(pub) {
				return jwkKey{}, fmt.Errorf("%w: JWK private EC key does not match its public key", ErrKey)
			}
			k.priv = priv
		}
	case "OKP":
		x, err := b64url(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return jwkKey{}, fmt.Errorf("%w: bad JWK OKP key (Ed25519 only)", ErrKey)
		}
		k.key = ed25519.PublicKey(x)
		if j.D != "" {
			d, err := b64url(j.D)
			if err != nil || len(d) != ed25519.SeedSize {
				return jwkKey{}, fmt.Errorf("%w: bad JWK d", ErrKey)
			}
			priv := ed25519.NewKeyFromSeed(d)
			if !priv.Public().(ed25519.PublicKey).Equal(k.key.(ed25519.PublicKey)) {
				return jwkKey{}, fmt.Errorf("%w: JWK private key does not match its public key", ErrKey)
			}
			k.priv = priv
		}
	default:
		return jwkKey{}, fmt.Errorf("%w: JWK kty %q", ErrKey, j.Kty)
	}
	return k, nil
}

// hmacSecret decodes an HMAC key given as Base64URL (FLAT's form); padding
// is allowed. An empty secret is an error.
func hmacSecret(s string) ([]byte, error) {
	b, err := b64url(strings.TrimSpace(s))
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%w: HMAC key must be non-empty Base64URL", ErrKey)
	}
	return b, nil
}

// isJSONKey reports whether a key argument is a JWK or JWK set.
func isJSONKey(s string) bool {
	return strings.HasPrefix(strings.TrimSpace(s), "{")
}
