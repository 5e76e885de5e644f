package store

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseKVMKey(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef")
	bin := make([]byte, KVMKeyBytes)
	bin[0] = 0xff
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte // nil: error
	}{
		{"hex", []byte(hex.EncodeToString(raw)), raw},
		{"hex with newline", []byte(hex.EncodeToString(raw) + "\n"), raw},
		{"base64", []byte(base64.StdEncoding.EncodeToString(raw)), raw},
		{"base64url unpadded", []byte(base64.RawURLEncoding.EncodeToString(bin)), bin},
		{"raw binary", bin, bin},
		{"32 printable bytes", raw, raw},
		{"short hex", []byte("abcd"), nil},
		{"long base64", []byte(base64.StdEncoding.EncodeToString(append(raw, 'x'))), nil},
		{"empty", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKVMKey(tc.in)
			if tc.want == nil {
				if err == nil || !errors.Is(err, ErrInvalid) {
					t.Fatalf("got %x, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil || string(got) != string(tc.want) {
				t.Fatalf("got %x, %v; want %x", got, err, tc.want)
			}
		})
	}
}

func TestLoadKVMKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kvm.key")
	if err := os.WriteFile(p, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := LoadKVMKeyFile(p); err != nil || len(k) != KVMKeyBytes || k[0] != 0xab {
		t.Fatalf("LoadKVMKeyFile = %x, %v", k, err)
	}
	if _, err := LoadKVMKeyFile(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(p, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKVMKeyFile(p); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad key: %v", err)
	}
}

// testCryptKV is a CryptKV over a memory KV with a random key.
func testCryptKV(t *testing.T, backend KV) *CryptKV {
	t.Helper()
	c := NewCryptKV(backend)
	if err := c.SetKey(RandomKVMKey()); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCryptKV: values of an encrypted map are ciphertext in the backend
// and plain text through the CryptKV; other maps are stored as given.
func TestCryptKV(t *testing.T) {
	ctx := context.Background()
	backend := NewMemoryKV(nil)
	c := testCryptKV(t, backend)
	env := Scope{Kind: Environment, Org: "o", Env: "prod"}
	if err := c.DeclareEncrypted(env, "secrets"); err != nil {
		t.Fatal(err)
	}
	if !c.Encrypted(env, "secrets") || c.Encrypted(env, "plain") || c.Encrypted(Scope{Kind: Environment, Org: "o", Env: "test"}, "secrets") {
		t.Fatal("Encrypted reports the wrong maps")
	}
	for _, m := range []string{"secrets", "plain"} {
		if err := c.Put(ctx, env, m, "k", "hunter2", 0, true); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := c.Get(ctx, env, m, "k"); err != nil || !ok || v != "hunter2" {
			t.Fatalf("%s: Get = %q %v %v", m, v, ok, err)
		}
	}
	stored, _, _ := backend.Get(ctx, env, "secrets", "k")
	if strings.Contains(stored, "hunter2") || !strings.HasPrefix(stored, kvSealPrefix) {
		t.Errorf("encrypted map stored %q", stored)
	}
	_ = c.Put(ctx, env, "secrets", "k2", "hunter2", 0, true)
	again, _, _ := backend.Get(ctx, env, "secrets", "k2")
	if again == stored {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if v, _, _ := backend.Get(ctx, env, "plain", "k"); v != "hunter2" {
		t.Errorf("plain map stored %q", v)
	}
	// A sealed value moved to another entry, altered, or read with
	// another key does not open; nor does a plain value.
	for name, setup := range map[string]func() *CryptKV{
		"moved": func() *CryptKV { _ = backend.Put(ctx, env, "secrets", "k3", stored, 0, true); return c },
		"altered": func() *CryptKV {
			b := []byte(stored)
			b[len(b)-2] ^= 1
			_ = backend.Put(ctx, env, "secrets", "k3", string(b), 0, true)
			return c
		},
		"plain": func() *CryptKV { _ = backend.Put(ctx, env, "secrets", "k3", "hunter2", 0, true); return c },
		"other key": func() *CryptKV {
			o := testCryptKV(t, backend)
			_ = o.DeclareEncrypted(env, "secrets")
			_ = c.Put(ctx, env, "secrets", "k3", "hunter2", 0, true) // sealed for k3, with c's key
			return o
		},
	} {
		t.Run(name, func(t *testing.T) {
			kv := setup()
			if v, ok, err := kv.Get(ctx, env, "secrets", "k3"); !errors.Is(err, ErrKVMSealed) || ok || v != "" {
				t.Fatalf("Get = %q %v %v, want ErrKVMSealed", v, ok, err)
			}
		})
	}
	if err := c.Delete(ctx, env, "secrets", "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := backend.Get(ctx, env, "secrets", "k"); ok {
		t.Error("Delete left the entry")
	}
}

func TestCryptKVNoKey(t *testing.T) {
	c := NewCryptKV(NewMemoryKV(nil))
	env := Scope{Kind: Environment, Org: "o", Env: "prod"}
	if c.HasKey() {
		t.Fatal("HasKey without a key")
	}
	if err := c.DeclareEncrypted(env, "secrets"); !errors.Is(err, ErrNoKVMKey) {
		t.Fatalf("DeclareEncrypted without a key: %v", err)
	}
	if err := c.SetKey([]byte("short")); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetKey(short): %v", err)
	}
	if err := c.DeclareEncrypted(Scope{Kind: Environment}, "m"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad scope: %v", err)
	}
	// The stores opened by OpenConfig encrypt once given a key.
	s, err := OpenConfig(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if HasKVMKey(s) {
		t.Fatal("new stores have a KVM key")
	}
	if err := SetKVMKey(s, RandomKVMKey()); err != nil || !HasKVMKey(s) {
		t.Fatalf("SetKVMKey: %v", err)
	}
	if err := SetKVMKey(&Stores{KV: NewMemoryKV(nil)}, RandomKVMKey()); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetKVMKey on a plain KV: %v", err)
	}
}

// TestFileProductsEncryptedKVMNeedsKey: seeds of a map declared
// encrypted do not load without a KVM key, nor into a KV that cannot
// encrypt; an "encrypted" flag that is not a boolean is an error.
func TestFileProductsEncryptedKVMNeedsKey(t *testing.T) {
	ctx := context.Background()
	for name, kv := range map[string]KV{"no key": NewCryptKV(NewMemoryKV(nil)), "plain KV": NewMemoryKV(nil)} {
		if _, err := LoadFileProducts(ctx, "testdata/apigee-config", FileOptions{Org: "acme", KV: kv}); !errors.Is(err, ErrNoKVMKey) {
			t.Errorf("%s: %v, want ErrNoKVMKey", name, err)
		}
	}
	dir := writeConfig(t, map[string]string{"env/prod/kvms.json": `[{"name": "s", "encrypted": "maybe", "entry": []}]`})
	if _, err := LoadFileProducts(ctx, dir, FileOptions{}); err == nil || !strings.Contains(err.Error(), "want true or false") {
		t.Errorf("bad flag: %v", err)
	}
	// An encrypted map without entries is declared all the same.
	dir = writeConfig(t, map[string]string{"env/prod/kvms.json": `[{"name": "s", "encrypted": true}]`})
	c := testCryptKV(t, NewMemoryKV(nil))
	if _, err := LoadFileProducts(ctx, dir, FileOptions{Org: "acme", KV: c}); err != nil {
		t.Fatal(err)
	}
	if !c.Encrypted(Scope{Kind: Environment, Org: "acme", Env: "prod"}, "s") {
		t.Error("empty encrypted map not declared")
	}
}

// TestRedisCryptKV: in Redis the bytes of an encrypted map's value are
// ciphertext, and the value reads back through the CryptKV.
func TestRedisCryptKV(t *testing.T) {
	r := testRedis(t, nil)
	ctx := context.Background()
	c := testCryptKV(t, r.KV())
	env := Scope{Kind: Environment, Org: "o", Env: "prod"}
	if err := c.DeclareEncrypted(env, "secrets"); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, env, "secrets", "api", "s3cr3t-value", 0, true); err != nil {
		t.Fatal(err)
	}
	k, err := kvKey(env, "secrets", "api")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := r.client.Get(ctx, r.prefix+"kv:"+k).Result()
	if err != nil {
		t.Fatalf("raw Redis GET: %v", err)
	}
	if strings.Contains(raw, "s3cr3t") || !strings.HasPrefix(raw, kvSealPrefix) {
		t.Fatalf("Redis holds %q, want ciphertext", raw)
	}
	if v, ok, err := c.Get(ctx, env, "secrets", "api"); err != nil || !ok || v != "s3cr3t-value" {
		t.Fatalf("Get = %q %v %v", v, ok, err)
	}
}

// FuzzKVMKey: ParseKVMKey never panics and returns only 32-byte keys.
func FuzzKVMKey(f *testing.F) {
	f.Add([]byte(strings.Repeat("ab", 32)))
	f.Add([]byte(base64.StdEncoding.EncodeToString(make([]byte, 32))))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKVMKey(b)
		if err == nil && len(k) != KVMKeyBytes {
			t.Fatalf("key of %d bytes", len(k))
		}
	})
}

// FuzzKVMOpen: opening an arbitrary stored value never panics and never
// succeeds for a value not sealed by the key.
func FuzzKVMOpen(f *testing.F) {
	c := NewCryptKV(NewMemoryKV(nil))
	if err := c.SetKey(make([]byte, KVMKeyBytes)); err != nil {
		f.Fatal(err)
	}
	f.Add(kvSealPrefix + "AAAA")
	f.Add(sealValue(c.aead, "ad", "v"))
	f.Add("plain")
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := openValue(c.aead, "other-ad", s); err == nil {
			t.Fatalf("opened %q to %q with the wrong additional data", s, v)
		}
	})
}

// BenchmarkCryptKVGet reads one 64-byte value of a plain and of an
// encrypted map through a CryptKV over the memory KV: the cost of opening
// the seal.
func BenchmarkCryptKVGet(b *testing.B) {
	ctx := context.Background()
	c := NewCryptKV(NewMemoryKV(nil))
	if err := c.SetKey(RandomKVMKey()); err != nil {
		b.Fatal(err)
	}
	env := Scope{Kind: Environment, Org: "o", Env: "prod"}
	if err := c.DeclareEncrypted(env, "secrets"); err != nil {
		b.Fatal(err)
	}
	for _, m := range []string{"plain", "secrets"} {
		if err := c.Put(ctx, env, m, "k", strings.Repeat("v", 64), 0, true); err != nil {
			b.Fatal(err)
		}
		b.Run(m, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, ok, err := c.Get(ctx, env, m, "k"); err != nil || !ok {
					b.Fatal(err)
				}
			}
		})
	}
}
