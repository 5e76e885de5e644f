package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// TestLoadEncryptedKVMNeedsKey: a project whose products directory
// declares an encrypted KVM does not load on stores without a KVM key
// (AP206), and loads with one.
func TestLoadEncryptedKVMNeedsKey(t *testing.T) {
	files := map[string]string{
		"apiproxy/proxies/default.xml":  noTargetProxy,
		"apiproxy/policies/Pre.xml":     pol("Pre", ""),
		"apiproxy/policies/Cats.xml":    pol("Cats", ""),
		"apiproxy/policies/Any.xml":     pol("Any", ""),
		"apiproxy/policies/RespHdr.xml": pol("RespHdr", ""),
		DeploymentFile:                  "products: config\n",
		"config/env/test/kvms.json":     `[{"name": "secrets", "encrypted": true, "entry": [{"name": "k", "value": "v"}]}]`,
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	st, err := store.OpenConfig(context.Background(), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, errs := Load(dir, Options{State: st})
	if p != nil || len(errs) != 1 || errs[0].Code != diag.APNoKVMKey || !strings.Contains(errs[0].Error(), "KVM key") {
		t.Fatalf("load without a KVM key: %v", errs)
	}
	if err := store.SetKVMKey(st, store.RandomKVMKey()); err != nil {
		t.Fatal(err)
	}
	if p, errs = Load(dir, Options{State: st}); p == nil || len(errs) > 0 {
		t.Fatalf("load with a KVM key: %v", errs)
	}
}
