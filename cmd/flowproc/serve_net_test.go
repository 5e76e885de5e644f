package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/extproc"
)

func TestParseServeNetArgs(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "net.yaml")
	if err := os.WriteFile(cfg, []byte("maxConcurrentStreams: 50\nmaxConnectionAge: 0\nkeepaliveTime: 1m\n"+
		"streamWaitTimeout: 90s\nreflection: true\nreadyWhen: any\ntlsReloadInterval: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, n netSettings)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, n netSettings) {
			l := n.limits
			if l.MaxConcurrentStreams != extproc.DefaultMaxConcurrentStreams || l.MaxConnectionIdle != extproc.DefaultMaxConnectionIdle ||
				l.MaxConnectionAge != extproc.DefaultMaxConnectionAge || l.MaxConnectionAgeGrace != extproc.DefaultMaxConnectionAgeGrace ||
				l.KeepaliveTime != extproc.DefaultKeepaliveTime || l.KeepaliveTimeout != extproc.DefaultKeepaliveTimeout ||
				n.wait != 0 || n.reflection || n.ready != extproc.ReadyAll || n.tlsReloadInterval != extproc.DefaultTLSReloadInterval {
				t.Errorf("defaults = %+v", n)
			}
		}},
		{name: "config file", args: []string{"-config", cfg}, check: func(t *testing.T, n netSettings) {
			if n.limits.MaxConcurrentStreams != 50 || n.limits.MaxConnectionAge >= 0 || n.limits.KeepaliveTime != time.Minute ||
				n.wait != 90*time.Second || !n.reflection || n.ready != extproc.ReadyAny || n.tlsReloadInterval != 0 {
				t.Errorf("from file = %+v", n)
			}
		}},
		{name: "flags override the file", args: []string{"-config", cfg, "-max-concurrent-streams", "7", "-stream-wait-timeout", "0",
			"-reflection=false", "-ready-when", "all", "-max-connection-idle", "1m"}, check: func(t *testing.T, n netSettings) {
			if n.limits.MaxConcurrentStreams != 7 || n.wait >= 0 || n.reflection || n.ready != extproc.ReadyAll || n.limits.MaxConnectionIdle != time.Minute {
				t.Errorf("flags over file = %+v", n)
			}
		}},
		{name: "zero streams", args: []string{"-max-concurrent-streams", "0"}, wantErr: "max concurrent streams"},
		{name: "bad duration", args: []string{"-max-connection-age", "soon"}, wantErr: "max connection age"},
		{name: "negative duration", args: []string{"-keepalive-timeout", "-1s"}, wantErr: "keepalive timeout"},
		{name: "keepalive too fast", args: []string{"-keepalive-time", "100ms"}, wantErr: "at least 1s"},
		{name: "bad wait", args: []string{"-stream-wait-timeout", "forever"}, wantErr: "stream wait timeout"},
		{name: "bad ready rule", args: []string{"-ready-when", "most"}, wantErr: "want all or any"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseServeArgs(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, st.net)
		})
	}
}

// TestServeNotReadyUntilLoaded runs serve on a project that does not load:
// /readyz is 503 naming the project and its first error code, the metrics
// say so, and once a file edit makes it load the server turns ready and the
// reload is counted.
func TestServeNotReadyUntilLoaded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("swagger.yaml", "swagger: \"2.0\"\nbasePath: /shop\npaths:\n  /x:\n    x-flat-flow: flows/x.xml\n")
	write("flows/x.xml", "<flow><nosuchaction/></flow>")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, logs lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runServe(ctx, []string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-watch", dir}, &stdout, &logs)
	}()
	line := regexp.MustCompile(`admin on http://(\S+) `)
	var m []string
	for deadline := time.Now().Add(5 * time.Second); m == nil; time.Sleep(5 * time.Millisecond) {
		if m = line.FindStringSubmatch(stdout.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("no startup line; stdout %q, logs %s", stdout.String(), logs.String())
		}
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "project shop has never loaded (FP202)") {
		t.Errorf("/readyz with a project that never loaded = %d %q, want 503 naming it", code, body)
	}
	if _, metrics := get("/metrics"); !strings.Contains(metrics, `flowproc_project_loaded{project="shop"} 0`) || !strings.Contains(metrics, "flowproc_ready 0") {
		t.Errorf("metrics do not show the failed project:\n%s", metrics)
	}

	write("flows/x.xml", "<flow><echo>v1</echo></flow>")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _ := get("/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after the project loaded; logs:\n%s", logs.String())
		}
	}
	_, metrics := get("/metrics")
	for _, want := range []string{`flowproc_project_loaded{project="shop"} 1`, `flowproc_reloads_total{result="success"} 1`, "flowproc_reload_last_success 1", "flowproc_ready 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
}
