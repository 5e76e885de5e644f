package expr

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// jwt-encode(jwt, key [, ttl [, alg]]) signs the claims jwt (a JSON object
// as a string, or an OXN object node) and returns the compact JWS, or ""
// on any error (claims not an object, unusable key, unknown algorithm).
// ttl > 0 sets exp to now + ttl seconds (replacing an exp claim); 0, the
// default, leaves the claims as they are. alg defaults to HS256 and is one
// algorithm (no families). key is, by alg: HS* the Base64URL secret;
// RS*, PS*, ES*, EdDSA a PEM private key (PKCS#8, PKCS#1 or SEC 1, with or
// without BEGIN/END lines; not encrypted); or a JWK with its private
// members, whose kid is put in the header.
func init() {
	Register(&Func{Name: "jwt-encode", MinArgs: 2, MaxArgs: 4, Call: jwtEncode})
}

func jwtEncode(c *Context, args []Value) (Value, error) {
	ttl := 0.0
	if len(args) > 2 {
		ttl = Number(args[2])
	}
	alg := "HS256"
	if len(args) > 3 {
		alg = String(args[3])
	}
	s, err := encodeJWT(args[0], String(args[1]), ttl, alg)
	if err != nil {
		return "", nil
	}
	return output(c, s)
}

// jwtClaims returns the claims argument as an OXN object element (a copy).
func jwtClaims(v Value) (*dom.Node, error) {
	var n *dom.Node
	if ns, ok := v.(NodeSet); ok {
		if len(ns) == 0 {
			return nil, errors.New("no claims")
		}
		n = ns[0]
		if n.Type == dom.DocumentNode {
			n = n.FirstElement()
		}
		if n == nil {
			return nil, errors.New("no claims")
		}
		if oxn.TypeOf(n) != oxn.Object {
			// A text node or untyped element: read its text as JSON.
			return jwtClaims(n.StringValue())
		}
		return n.Clone(), nil
	}
	doc, err := oxn.ParseString(String(v), jsonMaxDepth)
	if err != nil {
		return nil, err
	}
	n = doc.FirstChild
	if oxn.TypeOf(n) != oxn.Object {
		return nil, errors.New("claims are not a JSON object")
	}
	n.Detach()
	return n, nil
}

// jwtSigner is a parsed jwt-encode key argument.
type jwtSigner struct {
	key any
	kid string
}

// jwtSignKey returns the signing key and kid for alg (cached, see
// keyCache).
func jwtSignKey(keyArg, alg string) (any, string, error) {
	v, err := cachedKey("jwt-sign", keyArg, alg, func() (jwtSigner, error) {
		key, kid, err := parseJWTSignKey(keyArg, alg)
		return jwtSigner{key, kid}, err
	})
	return v.key, v.kid, err
}

// parseJWTSignKey is jwtSignKey without the cache.
func parseJWTSignKey(keyArg, alg string) (any, string, error) {
	if isJSONKey(keyArg) {
		keys, err := parseJWKs(keyArg)
		if err != nil {
			return nil, "", err
		}
		for _, k := range keys {
			if k.alg != "" && k.alg != alg {
				continue
			}
			var key any = k.key
			if k.priv != nil {
				key = k.priv
			} else if _, ok := k.key.([]byte); !ok {
				continue // a public key cannot sign
			}
			if jwtKeyFits(alg, key) {
				return key, k.kid, nil
			}
		}
		return nil, "", fmt.Errorf("%w: no JWK can sign %s", ErrKey, alg)
	}
	if strings.HasPrefix(alg, "HS") {
		secret, err := hmacSecret(keyArg)
		return secret, "", err
	}
	k, err := parsePrivateKey(keyArg, "")
	if err != nil {
		return nil, "", err
	}
	var key crypto.Signer = k
	if !jwtKeyFits(alg, key) {
		return nil, "", fmt.Errorf("%w: key type does not fit %s", ErrKey, alg)
	}
	return key, "", nil
}

// encodeJWT builds and signs the token.
func encodeJWT(claims Value, keyArg string, ttl float64, alg string) (string, error) {
	algs, err := jwtAlgs(alg)
	if err != nil || len(algs) != 1 || algs[0] != alg {
		return "", fmt.Errorf("%w: JWT algorithm %q", ErrAlgorithm, alg)
	}
	m := jwt.GetSigningMethod(alg)
	key, kid, err := jwtSignKey(keyArg, alg)
	if err != nil {
		return "", err
	}
	obj, err := jwtClaims(claims)
	if err != nil {
		return "", err
	}
	if math.IsNaN(ttl) || math.IsInf(ttl, 0) || ttl > 1e12 {
		return "", errors.New("jwt-encode: bad ttl")
	}
	if ttl > 0 {
		if old := obj.Child("exp"); old != nil {
			old.Detach()
		}
		oxn.AddMember(obj, "exp", oxn.NewNumberText(oxn.ValueName, strconv.FormatInt(now().Unix()+int64(ttl), 10)))
	}
	var payload bytes.Buffer
	if err := oxn.Write(&payload, obj); err != nil {
		return "", err
	}
	header := `{"alg":"` + alg + `","typ":"JWT"`
	if kid != "" {
		var b bytes.Buffer
		oxn.WriteString(&b, kid)
		header += `,"kid":` + b.String()
	}
	header += "}"
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload.Bytes())
	sig, err := m.Sign(signing, key)
	if err != nil {
		return "", fmt.Errorf("jwt-encode: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}
