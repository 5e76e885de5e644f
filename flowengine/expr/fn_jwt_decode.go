package expr

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// jwt-decode(jws, key [, alg]) verifies a compact JWS and returns its
// claims as the OXN root element (<json object="">), or an empty node-set
// when the token is malformed, its signature or algorithm does not match,
// it has expired (exp), is not yet valid (nbf) or issued in the future
// (iat), it has a crit header (no extensions are understood), its payload
// is not a JSON object, or the key cannot be used.
//
// alg is one algorithm (HS256, HS384, HS512, RS256, RS384, RS512, PS256,
// PS384, PS512, ES256, ES384, ES512, EdDSA) or a family (HS, RS, PS, ES);
// "none" is never accepted. key is, by alg:
//
//   - HS*: the secret, Base64URL-encoded (FLAT's form); alg defaults to HS;
//   - RS*, PS*, ES*, EdDSA: a PEM public key, certificate or private key,
//     with or without BEGIN/END lines and line breaks; alg is mandatory;
//   - any: a JWK or JWK set (JSON). A key's own alg and kid must match the
//     token's; without an alg argument the keys' alg members (an oct key
//     without one: HS) give the accepted algorithms.
func init() {
	Register(&Func{Name: "jwt-decode", MinArgs: 2, MaxArgs: 3, Call: jwtDecode})
}

// errNoJWTKey is the error of a token no given key can verify.
var errNoJWTKey = fmt.Errorf("%w: no key for the token's algorithm and kid", ErrKey)

func jwtDecode(c *Context, args []Value) (Value, error) {
	token := String(args[0])
	root, err := decodeJWT(token, String(args[1]), argString(args, 2))
	if err != nil {
		if c.Budget.Err() != nil {
			return nil, c.Budget.Err()
		}
		return NodeSet(nil), nil
	}
	if err := c.Budget.Decoded(int64(len(token))); err != nil {
		return nil, err
	}
	return NodeSet{root}, nil
}

// jwtVerify is a parsed jwt-decode key argument.
type jwtVerify struct {
	keys    []jwkKey
	allowed []string
}

// jwtVerifyKeys returns the keys and accepted algorithms for a jwt-decode
// key and alg argument (cached, see keyCache).
func jwtVerifyKeys(keyArg, algArg string) ([]jwkKey, []string, error) {
	v, err := cachedKey("jwt-verify", keyArg, algArg, func() (jwtVerify, error) {
		keys, allowed, err := parseJWTVerifyKeys(keyArg, algArg)
		return jwtVerify{keys, allowed}, err
	})
	return v.keys, v.allowed, err
}

// parseJWTVerifyKeys is jwtVerifyKeys without the cache.
func parseJWTVerifyKeys(keyArg, algArg string) ([]jwkKey, []string, error) {
	var allowed []string
	if algArg != "" {
		var err error
		if allowed, err = jwtAlgs(algArg); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case isJSONKey(keyArg):
		keys, err := parseJWKs(keyArg)
		if err != nil {
			return nil, nil, err
		}
		if algArg == "" {
			set := map[string]bool{}
			for _, k := range keys {
				if k.alg == "" {
					if _, ok := k.key.([]byte); ok {
						for _, a := range jwtFamilies["HS"] {
							set[a] = true
						}
					}
				} else if algs, err := jwtAlgs(k.alg); err == nil && len(algs) == 1 {
					set[k.alg] = true
				}
			}
			for a := range set {
				allowed = append(allowed, a)
			}
			sort.Strings(allowed)
			if len(allowed) == 0 {
				return nil, nil, fmt.Errorf("%w: an algorithm is required for this key", ErrAlgorithm)
			}
		}
		return keys, allowed, nil
	case algArg == "" || strings.HasPrefix(allowed[0], "HS"):
		if algArg == "" {
			allowed = jwtFamilies["HS"]
		}
		secret, err := hmacSecret(keyArg)
		if err != nil {
			return nil, nil, err
		}
		return []jwkKey{{key: secret}}, allowed, nil
	}
	pub, err := parsePublicKey(keyArg)
	if err != nil {
		return nil, nil, err
	}
	return []jwkKey{{key: pub}}, allowed, nil
}

// decodeJWT verifies token and returns its claims as a detached OXN root.
func decodeJWT(token, keyArg, algArg string) (*dom.Node, error) {
	keys, allowed, err := jwtVerifyKeys(keyArg, algArg)
	if err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	p := jwt.NewParser(jwt.WithValidMethods(allowed), jwt.WithIssuedAt(), jwt.WithTimeFunc(now))
	_, err = p.Parse(token, func(t *jwt.Token) (any, error) {
		if _, crit := t.Header["crit"]; crit {
			return nil, errors.New("jwt-decode: critical header extensions are not supported") // RFC 7515 §4.1.11
		}
		alg := t.Method.Alg()
		kid, _ := t.Header["kid"].(string)
		var vk []jwt.VerificationKey
		for _, k := range keys {
			if (k.alg != "" && k.alg != alg) || (kid != "" && k.kid != "" && kid != k.kid) || !jwtKeyFits(alg, k.key) {
				continue
			}
			vk = append(vk, k.key)
		}
		switch len(vk) {
		case 0:
			return nil, errNoJWTKey
		case 1:
			return vk[0], nil
		}
		return jwt.VerificationKeySet{Keys: vk}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("jwt-decode: %w", err)
	}
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("jwt-decode: payload: %w", err)
	}
	doc, err := oxn.Parse(payload, jsonMaxDepth)
	if err != nil {
		return nil, fmt.Errorf("jwt-decode: payload: %w", err)
	}
	root := doc.FirstChild
	if oxn.TypeOf(root) != oxn.Object {
		return nil, errors.New("jwt-decode: claims are not a JSON object")
	}
	root.Detach()
	return root, nil
}
