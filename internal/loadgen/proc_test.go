package loadgen

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		hz      int64
		want    time.Duration
		wantErr string
	}{
		{name: "plain", hz: 100, want: 1230 * time.Millisecond,
			stat: "4242 (flowproc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 100 23 0 0 20 0 9 0 100 1000000 500 18446744073709551615"},
		{name: "command with spaces and parentheses", hz: 100, want: 50 * time.Millisecond,
			stat: "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 2 3 0 0 20 0 1 0 1 1 1"},
		{name: "other clock rate", hz: 1000, want: 8 * time.Millisecond,
			stat: "1 (init) S 0 1 1 0 -1 0 0 0 0 0 5 3 0 0 20 0 1 0 1 1 1"},
		{name: "no command", hz: 100, stat: "1 init S", wantErr: "no ')'"},
		{name: "truncated", hz: 100, stat: "1 (init) S 0 1", wantErr: "fields"},
		{name: "not a number", hz: 100, stat: "1 (x) S 0 1 1 0 -1 0 0 0 0 0 u s 0", wantErr: "parse /proc stat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU(tc.stat, tc.hz)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseStatCPU = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestProcCPUOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if hz := clockTicks(); hz <= 0 || hz > 10000 {
		t.Errorf("clock ticks = %d", hz)
	}
	before, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn at least two ticks of CPU, bounded in time.
	deadline := time.Now().Add(2 * time.Second)
	x := 0
	for after := before; after-before < 20*time.Millisecond && time.Now().Before(deadline); after, _ = ProcCPU(os.Getpid()) {
		for i := range 1_000_000 {
			x += i
		}
	}
	after, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 20*time.Millisecond {
		t.Errorf("CPU time grew by %v after 2s of busy work (x=%d)", after-before, x)
	}
	if _, err := ProcCPU(-1); err == nil {
		t.Error("ProcCPU(-1) did not fail")
	}
}

func TestLoadAvg(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		t.Skip("no /proc")
	}
	la := LoadAvg()
	for _, v := range la {
		if v < 0 {
			t.Errorf("load average %v", la)
		}
	}
}

// TestStartChild runs the test binary as a no-op server child, loads it
// through StartChild's address and reads its CPU time.
func TestStartChild(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	child, err := StartChild(ctx, exe, nil, []string{childEnv + "=1"}, &stderr, 30*time.Second)
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, stderr.String())
	}
	defer child.Kill()
	if !strings.HasPrefix(child.Addr, "127.0.0.1:") || child.Pid <= 0 {
		t.Errorf("child addr %q pid %d", child.Addr, child.Pid)
	}
	res, err := Run(ctx, Config{Target: child.Addr, Count: 200, Workers: 4, Conns: 2, ServerCPU: child.CPU})
	if err != nil {
		t.Fatal(err)
	}
	if res.Exchanges != 200 || res.ClientErrors+res.LocalReplies != 0 || !res.ServerCPUMeasured || res.ServerCPU < 0 {
		t.Errorf("exchanges %d, errors %d+%d, server CPU %v (measured %v)", res.Exchanges, res.ClientErrors, res.LocalReplies, res.ServerCPU, res.ServerCPUMeasured)
	}
	if err := child.Stop(10 * time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if _, err := child.CPU(); err == nil {
		t.Error("CPU of a stopped child did not fail")
	}
}

func TestStartChildFailures(t *testing.T) {
	tests := []struct {
		name string
		exe  string
		args []string
		want string
	}{
		{"no such binary", "/nonexistent/server", nil, "start server child"},
		{"exits without an address", "/bin/sh", []string{"-c", "echo hello; exit 3"}, "exited before listening"},
		{"never prints an address", "/bin/sh", []string{"-c", "exec sleep 30"}, "did not print its address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := StartChild(context.Background(), tc.exe, tc.args, nil, nil, 300*time.Millisecond)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
