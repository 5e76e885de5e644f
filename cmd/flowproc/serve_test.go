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
	"syscall"
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
	watching := write("watch.yaml", "watch: true\n")

	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, st *settings)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, st *settings) {
			if st.Listen != ":50051" || st.Admin != "127.0.0.1:9090" || st.bodyLimit != 1<<20 || st.grace != 15*time.Second ||
				st.level.String() != "INFO" || st.tls != nil || len(st.Projects) != 0 || st.Watch || st.StepMetrics {
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
		{name: "watch is off by default, on with -watch", args: []string{"-watch"}, check: func(t *testing.T, st *settings) {
			if !st.Watch {
				t.Error("-watch did not turn watching on")
			}
		}},
		{name: "watch from the config file", args: []string{"-config", watching}, check: func(t *testing.T, st *settings) {
			if !st.Watch {
				t.Error("watch: true in the file did not turn watching on")
			}
		}},
		{name: "-watch=false overrides the file", args: []string{"-config", watching, "-watch=false"}, check: func(t *testing.T, st *settings) {
			if st.Watch {
				t.Error("-watch=false did not override the file")
			}
		}},
		{name: "step metrics are off by default, on with -step-metrics", args: []string{"-step-metrics"}, check: func(t *testing.T, st *settings) {
			if !st.StepMetrics {
				t.Error("-step-metrics did not turn step metrics on")
			}
		}},
		{name: "step metrics from the config file", args: []string{"-config", write("steps.yaml", "stepMetrics: true\n")}, check: func(t *testing.T, st *settings) {
			if !st.StepMetrics {
				t.Error("stepMetrics: true in the file did not turn step metrics on")
			}
		}},
		{name: "message timeouts default to the shipped Envoy configs'", check: func(t *testing.T, st *settings) {
			if st.messageTimeout != time.Second || st.maxMessageTimeout != 10*time.Second || st.overrideAfter != 0.5 {
				t.Errorf("timeouts = %v %v %v", st.messageTimeout, st.maxMessageTimeout, st.overrideAfter)
			}
		}},
		{name: "message timeout flags", args: []string{"-message-timeout", "200ms", "-max-message-timeout", "0", "-override-after", "0.25"},
			check: func(t *testing.T, st *settings) {
				if st.messageTimeout != 200*time.Millisecond || st.maxMessageTimeout != 0 || st.overrideAfter != 0.25 {
					t.Errorf("timeouts = %v %v %v", st.messageTimeout, st.maxMessageTimeout, st.overrideAfter)
				}
			}},
		{name: "message timeout zero", args: []string{"-message-timeout", "0s"}, wantErr: "message timeout"},
		{name: "max message timeout over Envoy's limit", args: []string{"-max-message-timeout", "2h"}, wantErr: "max message timeout"},
		{name: "max message timeout under 1ms", args: []string{"-max-message-timeout", "10us"}, wantErr: "max message timeout"},
		{name: "override fraction out of range", args: []string{"-override-after", "1"}, wantErr: "override after"},
		{name: "unknown config key", args: []string{"-config", unknown}, wantErr: `unknown.yaml:1:1: unknown key "listn"`},
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
	// The banner carries the version and revision, never "flowproc dev:".
	// (The memory settings line comes before it.)
	banner := regexp.MustCompile(`(?m)^.*ext_proc gRPC on .*$`).FindString(stdout.String())
	if !strings.HasPrefix(banner, "flowproc serve "+currentStamp().String()+": ") || strings.Contains(stdout.String(), "flowproc dev") {
		t.Errorf("startup banner %q", banner)
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

// TestServeReloads runs the serve command on a project directory with
// -watch: a file edit reloads the project, a broken edit keeps the last good
// version and logs its errors as file:line:col: CODE: message, and SIGHUP
// (sent to this process once serve has installed its handler, which it does
// before printing the startup line) reloads as well.
func TestServeReloads(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "shop")
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
	write("flows/x.xml", "<flow><echo>v1</echo></flow>")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, logs lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runServe(ctx, []string{"-listen", "127.0.0.1:0", "-admin", "off", "-watch", dir}, &stdout, &logs)
	}()
	// waitLog polls the log until it holds every want, in one record each.
	waitLog := func(t *testing.T, wants ...*regexp.Regexp) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			missing := ""
			for _, w := range wants {
				if !w.MatchString(logs.String()) {
					missing = w.String()
					break
				}
			}
			if missing == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no log record matching %s; stdout %q; logs:\n%s", missing, stdout.String(), logs.String())
			}
		}
	}
	waitLog(t, regexp.MustCompile(`"msg":"watching the project directories`))
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stdout.String(), "ext_proc gRPC on"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no startup line; logs:\n%s", logs.String())
		}
	}

	steps := []struct {
		name   string
		change func(t *testing.T)
		wants  []*regexp.Regexp
	}{
		{"file edit", func(t *testing.T) { write("flows/x.xml", "<flow><echo>v2</echo></flow>") }, []*regexp.Regexp{
			regexp.MustCompile(`"msg":"project reloaded","project":"shop".*"outcome":"reloaded"`),
			regexp.MustCompile(`"msg":"projects reloaded","trigger":"file change","projects":1,"allLoaded":true`),
		}},
		{"broken edit", func(t *testing.T) { write("flows/x.xml", "<flow><nosuchaction/></flow>") }, []*regexp.Regexp{
			regexp.MustCompile(`"msg":"project reload failed; keeping the last good version","project":"shop".*"errors":\["[^"]*/shop/flows/x.xml:1:7: FP202: unknown action <nosuchaction>"\]`),
			regexp.MustCompile(`"trigger":"file change","projects":1,"allLoaded":false`),
		}},
		{"SIGHUP", func(t *testing.T) {
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		}, []*regexp.Regexp{regexp.MustCompile(`"msg":"projects reloaded","trigger":"SIGHUP","projects":1,"allLoaded":false`)}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			waitLog(t, st.wants...)
		})
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d; logs:\n%s", code, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
}
