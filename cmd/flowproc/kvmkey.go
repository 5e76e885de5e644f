package main

import (
	"fmt"
	"os"

	"github.com/flowproc/flowproc/flowengine/store"
)

// kvmKeyOf reads the KVM key of serve: the file when one is named, else
// $FLOWPROC_KVM_KEY; nil when neither is set.
func kvmKeyOf(file string) ([]byte, error) {
	if file != "" {
		return store.LoadKVMKeyFile(file)
	}
	if s := os.Getenv(store.KVMKeyEnv); s != "" {
		k, err := store.ParseKVMKey([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", store.KVMKeyEnv, err)
		}
		return k, nil
	}
	return nil, nil
}

// devKVMKey gives the process-wide memory stores of flowproc dev a KVM key:
// $FLOWPROC_KVM_KEY when set, else a random one for this process (values of
// encrypted KVMs need not outlive it).
func devKVMKey(s *store.Stores) error {
	k, err := kvmKeyOf("")
	if err != nil {
		return err
	}
	if k == nil {
		k = store.RandomKVMKey()
	}
	return store.SetKVMKey(s, k)
}
