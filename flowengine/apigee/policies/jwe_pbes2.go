package policies

import (
	"crypto/aes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe/jwebb"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// pbes2KeyWrap is the PBES2 key encrypter of a generated token: the key
// encryption key is derived once per token from the password, a random
// salt of <SaltLength> bytes and <PBKDF2Iterations>, and wraps the
// content encryption key with AES key wrap (RFC 7518 section 4.8). It
// exists because the library always draws a salt as long as the wrapping
// key, where Apigee's <SaltLength> defaults to 8 bytes.
type pbes2KeyWrap struct {
	alg jwa.KeyEncryptionAlgorithm
	kek []byte
}

// Algorithm returns the PBES2 algorithm the header names.
func (w *pbes2KeyWrap) Algorithm() jwa.KeyEncryptionAlgorithm { return w.alg }

// EncryptKey wraps the content encryption key.
func (w *pbes2KeyWrap) EncryptKey(cek []byte) ([]byte, error) {
	block, err := aes.NewCipher(w.kek)
	if err != nil {
		return nil, fmt.Errorf("pbes2: %w", err)
	}
	out, err := jwebb.Wrap(block, cek)
	if err != nil {
		return nil, fmt.Errorf("pbes2: wrap: %w", err)
	}
	return out, nil
}

// pbes2Encrypter resolves the password, draws the salt and derives the
// key encryption key of alg; it writes p2s and p2c into hdr, the
// protected header of the token.
func (j *jweConf) pbes2Encrypter(r *engine.Run, alg string, hdr map[string]any) (*pbes2KeyWrap, error) {
	password, err := j.passwordBytes(r)
	if err != nil {
		return nil, err
	}
	var h func() hash.Hash
	switch alg {
	case "PBES2-HS256+A128KW":
		h = sha256.New
	case "PBES2-HS384+A192KW":
		h = sha512.New384
	case "PBES2-HS512+A256KW":
		h = sha512.New
	default:
		return nil, j.keys.fault("EncryptionFailed", "Algorithm %s is not PBES2", alg)
	}
	salt := make([]byte, j.saltLen)
	if _, err := rand.Read(salt); err != nil {
		f := j.keys.fault("EncryptionFailed", "Failed to draw a salt")
		f.Err = err
		return nil, f
	}
	// The PBKDF2 salt is the algorithm name, a zero byte and p2s.
	full := append(append([]byte(alg), 0), salt...)
	kek, err := pbkdf2.Key(h, string(password), full, j.iterations, jweKeyAlgs[alg].keyLen)
	if err != nil {
		f := j.keys.fault("EncryptionFailed", "Failed to derive the key encryption key")
		f.Err = err
		return nil, f
	}
	keyAlg, _ := jwa.LookupKeyEncryptionAlgorithm(alg)
	hdr["p2s"] = base64.RawURLEncoding.EncodeToString(salt)
	hdr["p2c"] = j.iterations
	return &pbes2KeyWrap{alg: keyAlg, kek: kek}, nil
}
