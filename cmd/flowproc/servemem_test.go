package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/budget"
)

func TestParseMemorySettings(t *testing.T) {
	for _, tc := range []struct {
		limit, bodies string
		wantL, wantB  int64
		err           string
	}{
		{"", "", 0, 0, ""},
		{"512MiB", "64MiB", 512 << 20, 64 << 20, ""},
		{"off", "OFF", -1, -1, ""},
		{"lots", "", 0, 0, "memory limit"},
		{"1GiB", "-3", 0, 0, "body budget"},
	} {
		l, b, err := parseMemorySettings(tc.limit, tc.bodies)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q %q: err %v, want %q", tc.limit, tc.bodies, err, tc.err)
			}
			continue
		}
		if err != nil || l != tc.wantL || b != tc.wantB {
			t.Errorf("%q %q = %d %d %v, want %d %d", tc.limit, tc.bodies, l, b, err, tc.wantL, tc.wantB)
		}
	}
}

func TestPlanMemory(t *testing.T) {
	limit := budget.MemoryLimit{Bytes: 200 << 20, Source: budget.SourceCgroupV2}
	for _, tc := range []struct {
		name   string
		bodies int64
		m      budget.MemoryLimit
		want   int64 // 0: no budget
	}{
		{"half the memory limit", 0, limit, 100 << 20},
		{"explicit budget", 32 << 20, limit, 32 << 20},
		{"explicit budget without a limit", 32 << 20, budget.MemoryLimit{Source: budget.SourceNone}, 32 << 20},
		{"off", -1, limit, 0},
		{"no limit, no budget", 0, budget.MemoryLimit{Source: budget.SourceNone}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planMemory(&settings{bodyBudget: tc.bodies}, tc.m)
			if got := p.bodyBudget.Limit(); got != tc.want || (tc.want == 0) != (p.bodyBudget == nil) {
				t.Errorf("body budget %d (nil %v), want %d", got, p.bodyBudget == nil, tc.want)
			}
		})
	}
}

// TestServeMemoryFlags: -memory-limit and -body-budget (and their config
// keys) reach the settings; serve applies the limit to the Go runtime and
// prints it.
func TestServeMemoryFlags(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "flowproc.yaml")
	if err := os.WriteFile(cfg, []byte("memoryLimit: 300MiB\nbodyBudget: 40MiB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := parseServeArgs([]string{"-config", cfg}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if st.memoryLimit != 300<<20 || st.bodyBudget != 40<<20 {
		t.Fatalf("from the config file: %d %d", st.memoryLimit, st.bodyBudget)
	}
	st, err = parseServeArgs([]string{"-config", cfg, "-memory-limit", "256MiB", "-body-budget", "off"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if st.memoryLimit != 256<<20 || st.bodyBudget != -1 {
		t.Fatalf("flags over the config file: %d %d", st.memoryLimit, st.bodyBudget)
	}
	if _, err := parseServeArgs([]string{"-memory-limit", "nope"}, io.Discard); err == nil {
		t.Fatal("a bad -memory-limit was accepted")
	}

	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	oldGC := debug.SetGCPercent(100)
	defer debug.SetGCPercent(oldGC)
	t.Setenv("GOGC", "")
	st.bodyBudget = 0
	var out, logs bytes.Buffer
	p, err := applyMemorySettings(st, slog.New(slog.NewJSONHandler(&logs, nil)), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 256<<20 {
		t.Errorf("runtime memory limit %d, want 256MiB", got)
	}
	if p.bodyBudget.Limit() != 128<<20 {
		t.Errorf("body budget %d, want half the limit", p.bodyBudget.Limit())
	}
	if want := "flowproc: memory limit 256.0MiB (flag); body budget 128.0MiB (50% of the memory limit"; !strings.Contains(out.String(), want) {
		t.Errorf("startup line %q, want %q", out.String(), want)
	}
	if !strings.Contains(logs.String(), `"memoryLimit":268435456`) {
		t.Errorf("log %s lacks the memory limit", logs.String())
	}
	if want := "; GOGC 200 (flowproc default)\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("startup line %q does not end with %q", out.String(), want)
	}
	if got := debug.SetGCPercent(100); got != budget.DefaultGCPercent {
		t.Errorf("runtime GC percent %d, want flowproc's default %d", got, budget.DefaultGCPercent)
	}
	if !strings.Contains(logs.String(), `"gcPercent":200,"gcPercentSource":"flowproc default"`) {
		t.Errorf("log %s lacks the GC percent", logs.String())
	}
}
