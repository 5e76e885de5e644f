package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/flowproc/flowproc/flowengine"
)

func TestParseServeArgs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := write("full.yaml", "listen: 127.0.0.1:7000\nadmin: \"off\"\nbodyLimit: 2MiB\nlogLevel: debug\n"+
		"defaultProject: shop\nshutdownGrace: 3s\nprojects: [a, b]\n")
	unknown := write("unknown.yaml", "listn: :1\n")

	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, st *settings)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, st *settings) {
			if st.Listen != ":50051" || st.Admin != ":9090" || st.bodyLimit != 1<<20 || st.grace != 15*time.Second ||
				st.level.String() != "INFO" || st.tls != nil || len(st.Projects) != 0 {
				t.Errorf("defaults = %+v", st)
			}
		}},
		{name: "config file", args: []string{"-config", full}, check: func(t *testing.T, st *settings) {
			if st.Listen != "127.0.0.1:7000" || st.Admin != "" || st.bodyLimit != 2<<20 || st.level.String() != "DEBUG" ||
				st.DefaultProject != "shop" || st.grace != 3*time.Second || strings.Join(st.Projects, ",") != "a,b" {
				t.Errorf("from file = %+v", st)
			}
		}},
		{name: "flags override the file, DIR arguments replace its projects",
			args: []string{"-listen", ":7001", "-config", full, "-body-limit", "512KiB", "c"},
			check: func(t *testing.T, st *settings) {
				if st.Listen != ":7001" || st.bodyLimit != 512<<10 || st.DefaultProject != "shop" || strings.Join(st.Projects, ",") != "c" {
					t.Errorf("flags over file = %+v", st)
				}
			}},
		{name: "unknown config key", args: []string{"-config", unknown}, wantErr: "unknown field"},
		{name: "missing config file", args: []string{"-config", filepath.Join(dir, "none.yaml")}, wantErr: "read config"},
		{name: "bad body limit", args: []string{"-body-limit", "lots"}, wantErr: "body limit"},
		{name: "bad grace", args: []string{"-shutdown-grace", "soon"}, wantErr: "shutdown grace"},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantErr: "log level"},
		{name: "client CA without a certificate", args: []string{"-tls-client-ca", "ca.pem"}, wantErr: "needs a server certificate"},
		{name: "certificate file missing", args: []string{"-tls-cert", "nope.pem", "-tls-key", "nope.pem"}, wantErr: "load key pair"},
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
			tc.check(t, st)
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20}, {"1MiB", 1 << 20}, {"1m", 1 << 20}, {"512KiB", 512 << 10}, {"2 MB", 2e6},
		{"1.5GiB", 3 << 29}, {"10B", 10}, {"", 0}, {"-1", 0}, {"1XB", 0}, {"0", 0},
	}
	for _, tc := range tests {
		got, err := parseSize(tc.in)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("parseSize(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// lockedBuffer is a goroutine-safe bytes.Buffer.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type noProjects struct{}

func (noProjects) Resolve(string, string) (flowengine.Runner, string, bool) { return nil, "", false }

// TestServeLifecycle starts serve on loopback, checks gRPC health and the
// admin endpoints, then cancels the context (SIGTERM) and expects a clean stop.
func TestServeLifecycle(t *testing.T) {
	st, err := parseServeArgs([]string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-shutdown-grace", "2s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, st, noProjects{}, newLogger(&logs, st.level), &stdout) }()

	line := regexp.MustCompile(`ext_proc gRPC on (\S+) \(plaintext h2c\), admin on http://(\S+) .*envoy/envoy.yaml`)
	var m []string
	for deadline := time.Now().Add(5 * time.Second); m == nil; time.Sleep(5 * time.Millisecond) {
		if m = line.FindStringSubmatch(stdout.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("no startup line; stdout %q, logs %s", stdout.String(), logs.String())
		}
	}
	conn, err := grpc.NewClient(m[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hr, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "envoy.service.ext_proc.v3.ExternalProcessor"})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", hr, err)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get("http://" + m[2] + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s = %d, want 200", path, resp.StatusCode)
		}
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if !strings.Contains(logs.String(), `"timestamp"`) || !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("logs lack timestamp or the stop record:\n%s", logs.String())
	}
}
