package expr

import (
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strings"
)

// decrypt(ciphertext, private_key [, passphrase]) decrypts Base64
// RSAES-OAEP ciphertext (SHA-1, as encrypt writes it) and returns the
// plain text. The key is an RSA private key: PKCS #8 PEM, encrypted
// PKCS #8 with passphrase (both with or without boundaries), or PKCS #1
// with boundaries. A key that cannot be used (no RSA key, wrong
// passphrase) is an evaluation error wrapping ErrKey; ciphertext that is
// no Base64 or does not decrypt under the key gives false(), so a flow can
// reject it.
func init() {
	Register(&Func{Name: "decrypt", MinArgs: 2, MaxArgs: 3, Call: decryptFn})
}

func decryptFn(c *Context, args []Value) (Value, error) {
	key, err := privateKeyCached(String(args[1]), argString(args, 2))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("decrypt: %w: not an RSA key", ErrKey)
	}
	ct, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(String(args[0])), ""))
	if err != nil {
		return false, nil
	}
	pt, err := rsa.DecryptOAEP(sha1.New(), nil, priv, ct, nil)
	if err != nil {
		return false, nil
	}
	return output(c, string(pt))
}
