package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// maxKeyBytes bounds a configured key's text.
const maxKeyBytes = 64 << 10

// hmacSecret decodes a Base64URL-encoded HMAC secret (FLAT's jwt-decode
// convention), with or without padding.
func hmacSecret(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if s == "" {
		return nil, errors.New("the HMAC secret is empty")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("the HMAC secret must be Base64URL-encoded: %w", err)
	}
	return b, nil
}

// publicKey parses a PEM public key, with or without its BEGIN/END lines
// and line breaks: PKIX ("PUBLIC KEY"), PKCS#1 ("RSA PUBLIC KEY") or the
// key of a certificate. Private keys are refused.
func publicKey(s string) (any, error) {
	if len(s) > maxKeyBytes {
		return nil, fmt.Errorf("the key is longer than %d bytes", maxKeyBytes)
	}
	var der []byte
	typ := ""
	if strings.Contains(s, "-----BEGIN") {
		blk, _ := pem.Decode([]byte(strings.TrimSpace(s)))
		if blk == nil {
			return nil, errors.New("the key is not valid PEM")
		}
		typ, der = blk.Type, blk.Bytes
		if strings.Contains(typ, "PRIVATE") {
			return nil, errors.New("the key is a private key; configure the public key")
		}
	} else {
		body := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
		var err error
		der, err = base64.StdEncoding.DecodeString(body)
		if err != nil {
			if der, err = base64.RawStdEncoding.DecodeString(body); err != nil {
				return nil, fmt.Errorf("the key is neither PEM nor a Base64 PEM body: %w", err)
			}
		}
	}
	switch typ {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("the certificate does not parse: %w", err)
		}
		return cert.PublicKey, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("the RSA public key does not parse: %w", err)
		}
		return k, nil
	case "", "PUBLIC KEY":
	default:
		return nil, fmt.Errorf("unsupported PEM block %q (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)", typ)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err == nil {
		return k, nil
	}
	if typ == "" {
		if rk, err2 := x509.ParsePKCS1PublicKey(der); err2 == nil {
			return rk, nil
		}
		if _, err2 := x509.ParsePKCS8PrivateKey(der); err2 == nil {
			return nil, errors.New("the key is a private key; configure the public key")
		}
	}
	return nil, fmt.Errorf("the public key does not parse: %w", err)
}

// fitKey checks that key suits the algorithms in a and narrows an ES
// family to the algorithm of the key's curve.
func fitKey(a algSpec, key any) (algSpec, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if a.kind == kindRSA {
			return a, nil
		}
	case *ecdsa.PublicKey:
		if a.kind != kindEC {
			break
		}
		want := map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384", elliptic.P521(): "ES512"}[k.Curve]
		if want == "" {
			return a, errors.New("the EC key's curve is not P-256, P-384 or P-521")
		}
		if !a.allows(want) {
			return a, fmt.Errorf("the EC key's curve %s needs %s, not %s", k.Curve.Params().Name, want, a)
		}
		return algSpec{kindEC, []string{want}}, nil
	case ed25519.PublicKey:
		if a.kind == kindEd {
			return a, nil
		}
	case []byte:
		if a.kind == kindHMAC {
			return a, nil
		}
	}
	return a, fmt.Errorf("alg %s needs %s, but the key is %s", a, a.kind, describeKey(key))
}

func describeKey(key any) string {
	switch key.(type) {
	case *rsa.PublicKey:
		return kindRSA.String()
	case *ecdsa.PublicKey:
		return kindEC.String()
	case ed25519.PublicKey:
		return kindEd.String()
	case []byte:
		return kindHMAC.String()
	}
	return fmt.Sprintf("a %T", key)
}

// staticKey turns a configured key text into the verification key for a.
func staticKey(a algSpec, text string) (any, algSpec, error) {
	if a.kind == kindHMAC {
		if strings.Contains(text, "-----BEGIN") {
			return nil, a, fmt.Errorf("alg %s needs a Base64URL HMAC secret, but the key is PEM (set alg to the key's algorithm, e.g. RS256)", a)
		}
		b, err := hmacSecret(text)
		return b, a, err
	}
	k, err := publicKey(text)
	if err != nil {
		return nil, a, err
	}
	a, err = fitKey(a, k)
	return k, a, err
}
