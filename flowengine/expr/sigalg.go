package expr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"

	// Registered for crypto.Hash.New.
	_ "crypto/md5"
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	_ "golang.org/x/crypto/ripemd160" //nolint:staticcheck // FLAT lists RIPEMD160; OpenSSL still signs with it
)

// This file holds what calc-signature and verify-signature share: the
// digest names of FLAT (OpenSSL's) and signing with RSA (PKCS #1 v1.5) or
// ECDSA (ASN.1 DER signatures) keys.

// sigHashes maps the supported algorithm names (lower case) to digests.
var sigHashes = map[string]crypto.Hash{
	"sha": crypto.SHA1, "sha1": crypto.SHA1, "ecdsa-with-sha1": crypto.SHA1,
	"sha224": crypto.SHA224, "sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512,
	"md5": crypto.MD5, "ripemd160": crypto.RIPEMD160,
}

// sigHash returns the digest of algorithm name (default SHA256). DSA, MD2
// and MD4, listed by FLAT, are not supported (Go's crypto/rsa has no
// PKCS #1 prefix for MD2/MD4, and DSA keys are deprecated) and give an
// error wrapping ErrAlgorithm.
func sigHash(name string) (crypto.Hash, error) {
	if name == "" {
		return crypto.SHA256, nil
	}
	if h, ok := sigHashes[strings.ToLower(name)]; ok {
		return h, nil
	}
	return 0, fmt.Errorf("%w: signature algorithm %q", ErrAlgorithm, name)
}

func digest(h crypto.Hash, data string) []byte {
	d := h.New()
	d.Write([]byte(data))
	return d.Sum(nil)
}

// signData signs data with an RSA or ECDSA key.
func signData(key crypto.Signer, h crypto.Hash, data string) ([]byte, error) {
	sum := digest(h, data)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(rand.Reader, k, h, sum)
	case *ecdsa.PrivateKey:
		return ecdsa.SignASN1(rand.Reader, k, sum)
	}
	return nil, fmt.Errorf("%w: signing needs an RSA or EC key", ErrKey)
}

// verifyData reports whether sig is a valid signature of data.
func verifyData(key crypto.PublicKey, h crypto.Hash, data string, sig []byte) bool {
	sum := digest(h, data)
	switch k := key.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, sum, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, sum, sig)
	}
	return false
}
