package expr

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
)

// encrypt(data, public_key) encrypts data with RSAES-OAEP (SHA-1 and
// MGF1-SHA-1, OpenSSL's OAEP padding) and returns it Base64-encoded. The
// key is an RSA public key as a PEM X.509 certificate (boundaries
// optional) or PKCS #8 / PKIX public key. A key that is no RSA public key
// (ErrKey) or data too long for the key is an evaluation error.
func init() {
	Register(&Func{Name: "encrypt", MinArgs: 2, MaxArgs: 2, Call: encryptFn})
}

func encryptFn(c *Context, args []Value) (Value, error) {
	key, err := publicKeyCached(String(args[1]))
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("encrypt: %w: not an RSA key", ErrKey)
	}
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, []byte(String(args[0])), nil)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return output(c, base64.StdEncoding.EncodeToString(ct))
}
