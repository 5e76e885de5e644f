package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"sigs.k8s.io/yaml"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
)

// envoyImage is the image used when Docker (not ENVOY_BIN) provides Envoy;
// it matches deploy/docker-compose.yaml.
const envoyImage = "envoyproxy/envoy:v1.37.2"

// TestRealEnvoy runs the same suite through a real Envoy configured from
// envoy/envoy.yaml (ports rewritten to the test's). It runs when ENVOY_BIN
// names an Envoy binary, or when a Docker engine answers; otherwise it is
// skipped, never reported as passed.
func TestRealEnvoy(t *testing.T) {
	bin := os.Getenv("ENVOY_BIN")
	useDocker := false
	if bin == "" {
		if exec.Command("docker", "info").Run() == nil {
			useDocker = true
		} else {
			t.Skip("real Envoy not available: set ENVOY_BIN=/path/to/envoy (or run a Docker engine) to run the e2e suite against it; TestFaithful covers the same cases through the Envoy-faithful client")
		}
	}
	up := newUpstream(t)

	// flowproc's ext_proc server on a loopback port.
	srv := extproc.New(extproc.Options{Resolver: loadExamples(t)})
	g := grpc.NewServer(srv.GRPCOptions()...)
	srv.Register(g)
	glis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, g, glis, time.Second) }()
	t.Cleanup(func() { cancel(); <-done })

	listenPort, adminPort := freePort(t), freePort(t)
	cfg, err := envoyConfig(listenPort, adminPort, port(t, glis.Addr().String()), port(t, up.srv.Listener.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := envoy.ValidateBootstrapFile(path); err != nil {
		t.Fatalf("generated config does not validate: %v", err)
	}
	var cmd *exec.Cmd
	if useDocker {
		cmd = exec.Command("docker", "run", "--rm", "--network", "host", "-v", path+":/etc/envoy/envoy.yaml:ro", envoyImage,
			"-c", "/etc/envoy/envoy.yaml", "--log-level", "warn")
	} else {
		cmd = exec.Command(bin, "-c", path, "--log-level", "warn", "--base-id", fmt.Sprint(listenPort))
	}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start envoy: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("envoy output:\n%s", logs.String())
		}
	})
	waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/ready", adminPort))
	runCases(t, fmt.Sprintf("http://127.0.0.1:%d", listenPort), up)
}

// envoyConfig rewrites envoy/envoy.yaml for the test: the listener, admin,
// flowproc and upstream ports, all on loopback.
func envoyConfig(listen, admin, grpcPort, upstreamPort int) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(envoy.DefaultConfigYAML, &doc); err != nil {
		return nil, fmt.Errorf("parse envoy.yaml: %w", err)
	}
	setSocket := func(v any, port int) {
		if sa, ok := dig(v, "socket_address").(map[string]any); ok {
			sa["address"] = "127.0.0.1"
			sa["port_value"] = port
		}
	}
	setSocket(dig(doc, "admin", "address"), admin)
	sr, _ := doc["static_resources"].(map[string]any)
	for _, l := range asList(sr["listeners"]) {
		setSocket(dig(l, "address"), listen)
	}
	for _, c := range asList(sr["clusters"]) {
		cm, _ := c.(map[string]any)
		p := map[string]int{"flowproc": grpcPort, "upstream": upstreamPort}[fmt.Sprint(cm["name"])]
		if p == 0 {
			continue
		}
		for _, e := range asList(dig(cm, "load_assignment", "endpoints")) {
			for _, lb := range asList(dig(e, "lb_endpoints")) {
				setSocket(dig(lb, "endpoint", "address"), p)
			}
		}
	}
	return yaml.Marshal(doc)
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(p, &n)
	return n
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("envoy not ready at %s after 30s", url)
}

// TestEnvoyConfigRewrite checks the generated config (it is what the real
// Envoy run uses, so it must validate even where Envoy is absent).
func TestEnvoyConfigRewrite(t *testing.T) {
	cfg, err := envoyConfig(18000, 18001, 18002, 18003)
	if err != nil {
		t.Fatal(err)
	}
	if err := envoy.ValidateBootstrapYAML(cfg); err != nil {
		t.Fatalf("rewritten config does not validate: %v", err)
	}
	s := string(cfg)
	for _, p := range []string{"port_value: 18000", "port_value: 18001", "port_value: 18002", "port_value: 18003"} {
		if !strings.Contains(s, p) {
			t.Errorf("rewritten config lacks %q", p)
		}
	}
	if strings.Contains(s, "port_value: 50051") || strings.Contains(s, "port_value: 10000") {
		t.Error("rewritten config still has the shipped ports")
	}
}
