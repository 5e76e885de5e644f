package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// KVMKeyBytes is the length of the key encrypted KVMs are sealed with
// (AES-256-GCM).
const KVMKeyBytes = 32

// KVMKeyEnv is the environment variable that may hold the KVM key (hex or
// base64) when no key file is configured.
const KVMKeyEnv = "FLOWPROC_KVM_KEY"

// kvSealPrefix marks a sealed value: "fpkv1:" + base64(nonce ‖ ciphertext ‖ tag).
const kvSealPrefix = "fpkv1:"

var (
	// ErrNoKVMKey is returned when a KVM declared encrypted cannot be used
	// because the process has no KVM key (serve -kvm-key-file, the config
	// key kvmKeyFile or $FLOWPROC_KVM_KEY).
	ErrNoKVMKey = errors.New("an encrypted KVM needs a KVM key (serve -kvm-key-file, config kvmKeyFile or $" + KVMKeyEnv + ")")
	// ErrKVMSealed is returned when a value of an encrypted KVM does not
	// open with the process's key: another key wrote it, it was altered,
	// moved to another entry, or stored in plain text.
	ErrKVMSealed = errors.New("encrypted KVM value does not decrypt with this KVM key")
)

// ParseKVMKey reads a KVM key: 64 hex digits, or the standard or URL
// base64 of 32 bytes (with or without padding), or exactly 32 raw bytes.
// Surrounding white space is ignored.
func ParseKVMKey(b []byte) ([]byte, error) {
	if len(b) == KVMKeyBytes && !isPrintable(b) {
		return append([]byte(nil), b...), nil
	}
	s := strings.TrimSpace(string(b))
	if k, err := hex.DecodeString(s); err == nil && len(k) == KVMKeyBytes {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KVMKeyBytes {
			return k, nil
		}
	}
	if len(b) == KVMKeyBytes {
		return append([]byte(nil), b...), nil
	}
	return nil, fmt.Errorf("KVM key: want %d bytes as 64 hex digits or base64: %w", KVMKeyBytes, ErrInvalid)
}

func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// LoadKVMKeyFile reads a KVM key from a file (see ParseKVMKey).
func LoadKVMKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("KVM key file: %w", err)
	}
	k, err := ParseKVMKey(b)
	if err != nil {
		return nil, fmt.Errorf("KVM key file %s: %w", path, err)
	}
	return k, nil
}

// RandomKVMKey returns a fresh random key: the per-process default of
// flowproc dev and flowproc test, whose values need not outlive the
// process.
func RandomKVMKey() []byte {
	k := make([]byte, KVMKeyBytes)
	_, _ = rand.Read(k)
	return k
}

// CryptKV is a KV whose maps declared encrypted (an encrypted flag in the
// KVM seed files) hold their values sealed with AES-256-GCM: the backend,
// memory or Redis, only ever sees ciphertext. Each value is sealed with a
// fresh random nonce and the entry's storage key as additional data, so a
// value copied to another entry does not open. Values of other maps pass
// through unchanged. The zero value is not usable; call NewCryptKV.
type CryptKV struct {
	inner KV

	mu        sync.RWMutex
	aead      cipher.AEAD
	encrypted map[string]bool // scope path + "\x00" + map name
}

// NewCryptKV wraps inner. It has no key until SetKey.
func NewCryptKV(inner KV) *CryptKV {
	return &CryptKV{inner: inner, encrypted: map[string]bool{}}
}

// Unwrap returns the backend KV (whose values of encrypted maps are
// ciphertext).
func (c *CryptKV) Unwrap() KV { return c.inner }

// SetKey sets the key encrypted maps are sealed with (KVMKeyBytes long).
// Changing the key makes the values sealed with the old one unreadable
// (ErrKVMSealed).
func (c *CryptKV) SetKey(key []byte) error {
	if len(key) != KVMKeyBytes {
		return fmt.Errorf("KVM key: %d bytes, want %d: %w", len(key), KVMKeyBytes, ErrInvalid)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("KVM key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("KVM key: %w", err)
	}
	c.mu.Lock()
	c.aead = aead
	c.mu.Unlock()
	return nil
}

// HasKey reports whether a key is set.
func (c *CryptKV) HasKey() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.aead != nil
}

func mapID(scope Scope, mapName string) (string, error) {
	p, err := scope.Path()
	if err != nil {
		return "", err
	}
	return p + "\x00" + mapName, nil
}

// DeclareEncrypted marks a map encrypted: from now on its values are
// sealed on Put and opened on Get. Without a key it returns ErrNoKVMKey.
func (c *CryptKV) DeclareEncrypted(scope Scope, mapName string) error {
	id, err := mapID(scope, mapName)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aead == nil {
		return fmt.Errorf("KVM %s: %w", mapName, ErrNoKVMKey)
	}
	c.encrypted[id] = true
	return nil
}

// Encrypted reports whether a map was declared encrypted.
func (c *CryptKV) Encrypted(scope Scope, mapName string) bool {
	id, err := mapID(scope, mapName)
	if err != nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.encrypted[id]
}

// sealer returns the AEAD when the map is encrypted; nil, nil when it is
// not.
func (c *CryptKV) sealer(scope Scope, mapName string) (cipher.AEAD, error) {
	id, err := mapID(scope, mapName)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.encrypted[id] {
		return nil, nil
	}
	if c.aead == nil {
		return nil, fmt.Errorf("KVM %s: %w", mapName, ErrNoKVMKey)
	}
	return c.aead, nil
}

// Get implements KV: a value of an encrypted map is opened.
func (c *CryptKV) Get(ctx context.Context, scope Scope, mapName, key string) (string, bool, error) {
	aead, err := c.sealer(scope, mapName)
	if err != nil {
		return "", false, err
	}
	v, ok, err := c.inner.Get(ctx, scope, mapName, key)
	if err != nil || !ok || aead == nil {
		return v, ok, err
	}
	ad, err := kvKey(scope, mapName, key)
	if err != nil {
		return "", false, err
	}
	plain, err := openValue(aead, ad, v)
	if err != nil {
		return "", false, fmt.Errorf("KVM %s key %q: %w", mapName, key, err)
	}
	return plain, true, nil
}

// Put implements KV: a value of an encrypted map is sealed first.
func (c *CryptKV) Put(ctx context.Context, scope Scope, mapName, key, value string, ttl time.Duration, override bool) error {
	aead, err := c.sealer(scope, mapName)
	if err != nil {
		return err
	}
	if aead != nil {
		ad, err := kvKey(scope, mapName, key)
		if err != nil {
			return err
		}
		value = sealValue(aead, ad, value)
	}
	return c.inner.Put(ctx, scope, mapName, key, value, ttl, override)
}

// Delete implements KV.
func (c *CryptKV) Delete(ctx context.Context, scope Scope, mapName, key string) error {
	return c.inner.Delete(ctx, scope, mapName, key)
}

func sealValue(aead cipher.AEAD, ad, plain string) string {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, []byte(plain), []byte(ad))
	return kvSealPrefix + base64.RawStdEncoding.EncodeToString(out)
}

func openValue(aead cipher.AEAD, ad, sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, kvSealPrefix)
	if !ok {
		return "", ErrKVMSealed
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(b) < aead.NonceSize()+aead.Overhead() {
		return "", ErrKVMSealed
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(ad))
	if err != nil {
		return "", ErrKVMSealed
	}
	return string(plain), nil
}

// SetKVMKey gives the stores' KV its KVM key (the KV of stores opened by
// OpenConfig is a *CryptKV).
func SetKVMKey(s *Stores, key []byte) error {
	c, ok := s.KV.(*CryptKV)
	if !ok {
		return fmt.Errorf("KVM key: the KV store %T does not encrypt: %w", s.KV, ErrInvalid)
	}
	return c.SetKey(key)
}

// HasKVMKey reports whether the stores' KV has a KVM key.
func HasKVMKey(s *Stores) bool {
	c, ok := s.KV.(*CryptKV)
	return ok && c.HasKey()
}
