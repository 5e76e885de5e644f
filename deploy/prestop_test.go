package deploy

import (
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEnvoyPreStopDrainsListeners runs the envoy container's preStop script
// (from the raw manifests and the rendered chart) with bash against a fake
// Envoy admin listener, its sleeps shortened to 0, and checks that it sends
// exactly the request Envoy's admin expects: POST /drain_listeners?graceful.
// The Envoy image has bash but no curl, so the script speaks HTTP through
// bash's /dev/tcp.
func TestEnvoyPreStopDrainsListeners(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	forEachPod(t, func(t *testing.T, p sidecarPod) {
		ec := p.containers["envoy"]
		if ec.Lifecycle == nil || ec.Lifecycle.PreStop == nil || ec.Lifecycle.PreStop.Exec == nil {
			t.Fatal("envoy has no exec preStop hook")
		}
		cmd := ec.Lifecycle.PreStop.Exec.Command
		if len(cmd) != 3 || cmd[0] != "/bin/bash" || cmd[1] != "-c" {
			t.Fatalf("preStop command %q: want /bin/bash -c SCRIPT", cmd)
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Method + " " + r.URL.RequestURI()
			_, _ = w.Write([]byte("OK\n"))
		}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(lis) }()
		defer srv.Close()
		port := strconv.Itoa(lis.Addr().(*net.TCPAddr).Port)
		script := strings.ReplaceAll(cmd[2], "/dev/tcp/127.0.0.1/9901", "/dev/tcp/127.0.0.1/"+port)
		script = regexp.MustCompile(`(?m)^(\s*)sleep\s+\d+\s*$`).ReplaceAllString(script, "${1}sleep 0")
		out, err := exec.Command(bash, "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("preStop script failed: %v\n%s", err, out)
		}
		select {
		case req := <-got:
			if req != "POST /drain_listeners?graceful" {
				t.Errorf("admin got %q, want POST /drain_listeners?graceful", req)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the preStop script sent nothing to the admin listener")
		}
	})
}
