package policies

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/store"
)

// quotaRedis starts a throw-away redis-server on a free loopback port and
// returns stores on it; the test is skipped when redis-server is not on
// PATH (as the store package's Redis tests are).
func quotaRedis(t *testing.T, now func() time.Time) *store.Stores {
	t.Helper()
	return quotaRedisStores(t, quotaRedisURL(t), "quotatest:", now)
}

// quotaRedisStores opens stores with key prefix on the server at url.
func quotaRedisStores(t testing.TB, url, prefix string, now func() time.Time) *store.Stores {
	t.Helper()
	st, err := store.OpenConfig(context.Background(), store.Config{URL: url, Prefix: prefix, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// quotaRedisURL starts redis-server (see quotaRedis) and returns its URL.
func quotaRedisURL(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH: Redis quota test skipped")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Dial first so that the Redis client does not log refused
		// connections while the server starts.
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("redis-server did not start: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		_ = c.Close()
		st, err := store.OpenConfig(context.Background(), store.Config{URL: url})
		if err == nil {
			_ = st.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestQuotaConcurrentRedis(t *testing.T) {
	st := quotaRedis(t, nil)
	if n := quotaHammer(t, st); n != 100 {
		t.Fatalf("allowed %d of 400 with a limit of 100", n)
	}
}

func TestSpikeArrestConcurrentRedis(t *testing.T) {
	clk := &quotaClock{t: time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC)}
	st := quotaRedis(t, clk.Now)
	if n := spikeHammer(t, st, clk); n != 10 {
		t.Fatalf("allowed %d requests in 10 steps of 100 ms at 10ps, want 10", n)
	}
}

// TestQuotaRedis runs the Quota, SpikeArrest and ResetQuota scenarios on
// Redis (each with its own key prefix and fake clock).
func TestQuotaRedis(t *testing.T) {
	url := quotaRedisURL(t)
	var all []quotaScenario
	all = append(all, quotaCases()...)
	all = append(all, spikeCases()...)
	all = append(all, resetQuotaCases()...)
	for i, sc := range all {
		t.Run(sc.name, func(t *testing.T) {
			clk := &quotaClock{t: time.Date(2026, 1, 7, 10, 0, 30, 0, time.UTC)}
			st := quotaRedisStores(t, url, fmt.Sprintf("quotatest%d:", i), clk.Now)
			quotaRunScenario(t, sc, st, clk)
		})
	}
}
