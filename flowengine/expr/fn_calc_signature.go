package expr

import (
	"encoding/base64"
	"fmt"
)

// calc-signature(data, private_key [, passphrase [, algorithm]]) signs
// data and returns the Base64 signature: RSASSA-PKCS1-v1_5 for RSA keys,
// ECDSA (ASN.1 DER) for EC keys. The key is PEM, with or without
// boundaries (PKCS #8, encrypted PKCS #8 with passphrase, PKCS #1, SEC 1).
// algorithm is the digest, case-insensitive: SHA1 (also SHA and
// ecdsa-with-SHA1), SHA224, SHA256 (default), SHA384, SHA512, MD5. An
// unusable key (ErrKey) or an unsupported algorithm such as DSA or MD4
// (ErrAlgorithm) is an evaluation error.
func init() {
	Register(&Func{Name: "calc-signature", MinArgs: 2, MaxArgs: 4, Call: calcSignature})
}

func calcSignature(c *Context, args []Value) (Value, error) {
	h, err := sigHash(argString(args, 3))
	if err != nil {
		return nil, fmt.Errorf("calc-signature: %w", err)
	}
	key, err := privateKeyCached(String(args[1]), argString(args, 2))
	if err != nil {
		return nil, fmt.Errorf("calc-signature: %w", err)
	}
	sig, err := signData(key, h, String(args[0]))
	if err != nil {
		return nil, fmt.Errorf("calc-signature: %w", err)
	}
	return output(c, base64.StdEncoding.EncodeToString(sig))
}
