package expr

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// verify-signature(signature, data, public_key [, algorithm]) reports
// whether the Base64 signature is a valid signature of data under
// public_key (PEM public key, PKCS #1 RSA public key or X.509
// certificate, with or without boundaries; RSA PKCS #1 v1.5 or ECDSA).
// algorithm is as for calc-signature (default SHA256). A signature that
// does not verify or decode, and a key that cannot be used, give false;
// an unsupported algorithm is an evaluation error wrapping ErrAlgorithm.
func init() {
	Register(&Func{Name: "verify-signature", MinArgs: 3, MaxArgs: 4, Call: verifySignature})
}

func verifySignature(_ *Context, args []Value) (Value, error) {
	h, err := sigHash(argString(args, 3))
	if err != nil {
		return nil, fmt.Errorf("verify-signature: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(String(args[0])), ""))
	if err != nil || len(sig) == 0 {
		return false, nil
	}
	key, err := publicKeyCached(String(args[2]))
	if err != nil {
		return false, nil
	}
	return verifyData(key, h, String(args[1]), sig), nil
}
