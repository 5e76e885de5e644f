package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartGenProfile(t *testing.T) {
	stop, err := startGenProfile("", "flowproc", 1)
	if err != nil || stop() != nil {
		t.Fatalf("no -gen-cpuprofile: %v", err)
	}
	base := filepath.Join(t.TempDir(), "gen.pprof")
	stop, err = startGenProfile(base, "noop", 3)
	if err != nil {
		t.Fatal(err)
	}
	// A second profile while one runs is the runtime's error, reported.
	if _, err := startGenProfile(base, "flowproc", 3); err == nil || !strings.Contains(err.Error(), "-gen-cpuprofile") {
		t.Errorf("a second profile at once: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(base + ".noop.3"); err != nil || st.Size() == 0 {
		t.Errorf("profile not written: %v", err)
	}
	if _, err := startGenProfile(filepath.Join(t.TempDir(), "missing", "gen.pprof"), "noop", 1); err == nil {
		t.Error("a file in a missing directory: no error")
	}
}
