package expr

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// This file parses the key forms of the crypto functions (jwt-decode,
// jwt-encode, calc-signature, verify-signature, encrypt, decrypt): PEM
// with or without BEGIN/END boundaries, as FLAT documents them.

// ErrKey is wrapped by errors of functions that cannot use a key: it does
// not parse, has the wrong type for the algorithm, or is encrypted and the
// passphrase is wrong.
var ErrKey = errors.New("unusable key")

// ErrAlgorithm is wrapped by errors of functions given an algorithm name
// they do not support.
var ErrAlgorithm = errors.New("unsupported algorithm")

// maxPBKDF2Iter bounds the PBKDF2 iteration count of an encrypted private
// key, so that a crafted key cannot make a request spin.
const maxPBKDF2Iter = 1 << 20

// pemBlocks returns the DER blocks of s: the PEM blocks when s has BEGIN
// lines, otherwise s without whitespace decoded as Base64 (one block with
// an empty Type).
func pemBlocks(s string) ([]*pem.Block, error) {
	if strings.Contains(s, "-----BEGIN") {
		var blocks []*pem.Block
		rest := []byte(s)
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			blocks = append(blocks, b)
		}
		if len(blocks) == 0 {
			return nil, fmt.Errorf("%w: malformed PEM", ErrKey)
		}
		return blocks, nil
	}
	compact := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n', '\v', '\f':
			return -1
		}
		return r
	}, s)
	if compact == "" {
		return nil, fmt.Errorf("%w: empty key", ErrKey)
	}
	der, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		if der, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(compact, "=")); err != nil {
			return nil, fmt.Errorf("%w: not PEM or Base64", ErrKey)
		}
	}
	return []*pem.Block{{Bytes: der}}, nil
}

// parsePublicKey returns the first public key in s: a PKIX public key
// (BEGIN PUBLIC KEY), a PKCS#1 RSA public key, an X.509 certificate's key,
// or the public half of a private key. Without boundaries the Base64 DER
// is tried in that order.
func parsePublicKey(s string) (crypto.PublicKey, error) {
	blocks, err := pemBlocks(s)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		switch b.Type {
		case "PUBLIC KEY":
			if k, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
				return k, nil
			}
		case "RSA PUBLIC KEY":
			if k, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
				return k, nil
			}
		case "CERTIFICATE":
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				return c.PublicKey, nil
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if k, err := parsePrivateDER(b.Bytes); err == nil {
				return k.Public(), nil
			}
		case "":
			if k, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
				return k, nil
			}
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				return c.PublicKey, nil
			}
			if k, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
				return k, nil
			}
			if k, err := parsePrivateDER(b.Bytes); err == nil {
				return k.Public(), nil
			}
		}
	}
	return nil, fmt.Errorf("%w: no public key found", ErrKey)
}

// parsePrivateKey returns the first private key in s: PKCS#8 (BEGIN
// PRIVATE KEY), encrypted PKCS#8 (BEGIN ENCRYPTED PRIVATE KEY, PBES2 with
// PBKDF2 and AES-CBC or 3DES-CBC, decrypted with passphrase), PKCS#1 RSA
// or SEC 1 EC keys. Without boundaries the Base64 DER is tried as
// unencrypted and then as encrypted PKCS#8, then PKCS#1 and SEC 1.
func parsePrivateKey(s, passphrase string) (crypto.Signer, error) {
	blocks, err := pemBlocks(s)
	if err != nil {
		return nil, err
	}
	var last error = fmt.Errorf("%w: no private key found", ErrKey)
	for _, b := range blocks {
		switch b.Type {
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if _, enc := b.Headers["DEK-Info"]; enc {
				last = fmt.Errorf("%w: legacy encrypted PEM is not supported, use encrypted PKCS#8", ErrKey)
				continue
			}
			if k, err := parsePrivateDER(b.Bytes); err == nil {
				return k, nil
			}
		case "ENCRYPTED PRIVATE KEY":
			k, err := decryptPKCS8(b.Bytes, passphrase)
			if err == nil {
				return k, nil
			}
			last = err
		case "":
			if k, err := parsePrivateDER(b.Bytes); err == nil {
				return k, nil
			}
			k, err := decryptPKCS8(b.Bytes, passphrase)
			if err == nil {
				return k, nil
			}
			if !errors.Is(err, errNotPBES2) {
				last = err
			}
		}
	}
	return nil, last
}

// parsePrivateDER parses an unencrypted PKCS#8, PKCS#1 or SEC 1 key.
func parsePrivateDER(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case *ecdsa.PrivateKey:
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("%w: unsupported private key type", ErrKey)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: not a private key", ErrKey)
}

var errNotPBES2 = fmt.Errorf("%w: not an encrypted PKCS#8 key", ErrKey)

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type encryptedPKInfo struct {
	Algo          algorithmIdentifier
	EncryptedData []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

type pbkdf2Params struct {
	Salt      []byte
	Iter      int
	KeyLength int                 `asn1:"optional"`
	PRF       algorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 decrypts a PBES2 EncryptedPrivateKeyInfo (RFC 8018) and
// parses the key inside.
func decryptPKCS8(der []byte, passphrase string) (crypto.Signer, error) {
	var info encryptedPKInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 || !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, errNotPBES2
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &p); err != nil || !p.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("%w: unsupported key encryption (PBES2 with PBKDF2 only)", ErrKey)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(p.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("%w: malformed PBKDF2 parameters", ErrKey)
	}
	if kdf.Iter < 1 || kdf.Iter > maxPBKDF2Iter {
		return nil, fmt.Errorf("%w: PBKDF2 iteration count out of range", ErrKey)
	}
	var h func() hash.Hash
	switch prf := kdf.PRF.Algorithm; {
	case len(prf) == 0 || prf.Equal(oidHMACSHA1):
		h = sha1.New
	case prf.Equal(oidHMACSHA224):
		h = sha256.New224
	case prf.Equal(oidHMACSHA256):
		h = sha256.New
	case prf.Equal(oidHMACSHA384):
		h = sha512.New384
	case prf.Equal(oidHMACSHA512):
		h = sha512.New
	default:
		return nil, fmt.Errorf("%w: unsupported PBKDF2 PRF", ErrKey)
	}
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch alg := p.EncryptionScheme.Algorithm; {
	case alg.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case alg.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case alg.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case alg.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("%w: unsupported key cipher", ErrKey)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("%w: malformed cipher parameters", ErrKey)
	}
	key, err := pbkdf2.Key(h, passphrase, kdf.Salt, kdf.Iter, keyLen)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	bs := block.BlockSize()
	data := info.EncryptedData
	if len(iv) != bs || len(data) == 0 || len(data)%bs != 0 {
		return nil, fmt.Errorf("%w: malformed encrypted key", ErrKey)
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > bs {
		return nil, fmt.Errorf("%w: wrong passphrase", ErrKey)
	}
	for _, c := range plain[len(plain)-pad:] {
		if int(c) != pad {
			return nil, fmt.Errorf("%w: wrong passphrase", ErrKey)
		}
	}
	k, err := parsePrivateDER(plain[:len(plain)-pad])
	if err != nil {
		return nil, fmt.Errorf("%w: wrong passphrase", ErrKey)
	}
	return k, nil
}

// keyCacheMax bounds the parsed-key cache; it is emptied when full.
const keyCacheMax = 64

// keyCache holds parsed keys by a hash of their kind, text and passphrase
// (or algorithm), so that a flow calling jwt-decode, decrypt or
// calc-signature per request does not pay PEM or JWK parsing and PBKDF2
// each time. Only successes are cached; cached keys are never modified.
var keyCache = struct {
	sync.Mutex
	m map[[32]byte]any
}{m: map[[32]byte]any{}}

func keyCacheKey(kind, s, pass string) [32]byte {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(pass))
	h.Write([]byte{0})
	h.Write([]byte(s))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func cachedKey[K any](kind, s, pass string, parse func() (K, error)) (K, error) {
	ck := keyCacheKey(kind, s, pass)
	keyCache.Lock()
	v, ok := keyCache.m[ck]
	keyCache.Unlock()
	if ok {
		return v.(K), nil
	}
	k, err := parse()
	if err != nil {
		return k, err
	}
	keyCache.Lock()
	if len(keyCache.m) >= keyCacheMax {
		clear(keyCache.m)
	}
	keyCache.m[ck] = k
	keyCache.Unlock()
	return k, nil
}

// publicKeyCached is parsePublicKey with the key cache.
func publicKeyCached(s string) (crypto.PublicKey, error) {
	return cachedKey("pub", s, "", func() (crypto.PublicKey, error) { return parsePublicKey(s) })
}

// privateKeyCached is parsePrivateKey with the key cache.
func privateKeyCached(s, passphrase string) (crypto.Signer, error) {
	return cachedKey("priv", s, passphrase, func() (crypto.Signer, error) { return parsePrivateKey(s, passphrase) })
}
