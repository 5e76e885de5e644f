package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/store"
)

func TestKVMKeyOf(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "kvm.key")
	if err := os.WriteFile(good, []byte(strings.Repeat("0f", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	envKey := strings.Repeat("1e", 32)
	for _, tc := range []struct {
		name, file, env string
		want            byte // first key byte; 0: no key
		err             string
	}{
		{name: "none"},
		{name: "file", file: good, want: 0x0f},
		{name: "file wins over the environment", file: good, env: envKey, want: 0x0f},
		{name: "environment", env: envKey, want: 0x1e},
		{name: "bad file", file: bad, err: "KVM key file"},
		{name: "missing file", file: filepath.Join(dir, "none"), err: "no such file"},
		{name: "bad environment", env: "nope", err: "$FLOWPROC_KVM_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(store.KVMKeyEnv, tc.env)
			k, err := kvmKeyOf(tc.file)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case tc.want == 0 && k != nil:
				t.Fatalf("key %x, want none", k)
			case tc.want != 0 && (len(k) != store.KVMKeyBytes || k[0] != tc.want):
				t.Fatalf("key %x", k)
			}
		})
	}
}

// TestServeKVMKeyFlag: -kvm-key-file is read when the settings are
// checked, so a bad key stops serve before it listens.
func TestServeKVMKeyFlag(t *testing.T) {
	t.Setenv(store.KVMKeyEnv, "")
	dir := t.TempDir()
	key := filepath.Join(dir, "kvm.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("ab", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := parseServeArgs([]string{"-kvm-key-file", key}, io.Discard)
	if err != nil || len(st.kvmKey) != store.KVMKeyBytes {
		t.Fatalf("parse: %v, key %x", err, st.kvmKey)
	}
	if _, err := parseServeArgs([]string{"-kvm-key-file", filepath.Join(dir, "none")}, io.Discard); err == nil {
		t.Fatal("a missing key file was accepted")
	}
	if err := devKVMKey(store.MemoryStores()); err != nil || !store.HasKVMKey(store.MemoryStores()) {
		t.Fatalf("dev key: %v", err)
	}
}
