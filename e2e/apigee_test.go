package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/internal/devstack"
)

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestApigeeBundleThroughEnvoyClient runs an Apigee bundle through the real
// gRPC server and the Envoy-faithful client configured from the shipped
// envoy.yaml: no-target answers, RaiseFault, a forward whose target the
// bundle chooses (dynamic forward proxy after clear_route_cache), a target
// error passed through the error flow, and an unreachable target, which
// Envoy answers itself and flowproc turns into Apigee's ServiceUnavailable.
func TestApigeeBundleThroughEnvoyClient(t *testing.T) {
	var got struct {
		path    string
		headers http.Header
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path, got.headers = r.URL.RequestURI(), r.Header.Clone()
		if strings.HasSuffix(r.URL.Path, "/boom") {
			w.Header().Set("content-type", "text/plain")
			w.WriteHeader(500)
			io.WriteString(w, "backend exploded")
			return
		}
		w.Header().Set("content-type", "application/json")
		io.WriteString(w, `{"upstream":true}`)
	}))
	defer up.Close()
	dir := filepath.Join(t.TempDir(), "shop")
	copyTree(t, "testdata/apigee-shop", dir)
	if err := os.WriteFile(filepath.Join(dir, "deployment.yaml"), []byte("targetURLs:\n  default: "+up.URL+"/api\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := projects.Load([]string{dir}, "", projects.LoadOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range set.Entries() {
		if len(e.Errors) > 0 {
			t.Fatalf("project %s does not load:\n%v", e.Name, e.Errors)
		}
	}
	stack, err := devstack.Start(context.Background(), devstack.Config{
		Projects:    set,
		EnvoyConfig: envoy.DefaultConfigYAML,
		HTTPAddr:    "127.0.0.1:0",
		Upstream:    &envoy.Router{Hosts: map[string]string{}, Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	base := "http://" + stack.HTTPAddr
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(path string) (*http.Response, string) {
		t.Helper()
		got.path, got.headers = "", nil
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := do("/shop/ping")
	var pong map[string]any
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &pong) != nil || pong["pong"] != true || pong["verb"] != "GET" || pong["gateway"] != "flowproc" || got.path != "" {
		t.Errorf("ping: %d %q (upstream saw %q)", resp.StatusCode, body, got.path)
	}

	resp, body = do("/shop/nope/x")
	if resp.StatusCode != 404 || !strings.Contains(body, `"no such thing"`) || resp.Header.Get("x-fault") != "RaiseFault" {
		t.Errorf("nope: %d %q x-fault=%q", resp.StatusCode, body, resp.Header.Get("x-fault"))
	}

	resp, body = do("/shop/items/7?x=1")
	if resp.StatusCode != 200 || body != `{"upstream":true}` || resp.Header.Get("x-upstream-status") != "200" {
		t.Errorf("items: %d %q headers %v", resp.StatusCode, body, resp.Header)
	}
	if got.path != "/api/items/7?x=1" || got.headers.Get("x-gateway") != "flowproc" || got.headers.Get("x-target") != "default" {
		t.Errorf("upstream saw %q %v", got.path, got.headers)
	}

	resp, body = do("/shop/boom")
	if resp.StatusCode != 500 || body != "backend exploded" || resp.Header.Get("x-fault") != "ErrorResponseCode" || resp.Header.Get("x-upstream-status") != "" {
		t.Errorf("boom: %d %q x-fault=%q", resp.StatusCode, body, resp.Header.Get("x-fault"))
	}

	resp, body = do("/shop/down/x")
	want := `{"fault":{"faultstring":"The Service is temporarily unavailable","detail":{"errorcode":"messaging.adaptors.http.flow.ServiceUnavailable"}}}`
	if resp.StatusCode != 503 || body != want || resp.Header.Get("x-fault") != "ServiceUnavailable" || resp.Header.Get("content-type") != "application/json" {
		t.Errorf("down: %d %q x-fault=%q ct=%q", resp.StatusCode, body, resp.Header.Get("x-fault"), resp.Header.Get("content-type"))
	}
}
