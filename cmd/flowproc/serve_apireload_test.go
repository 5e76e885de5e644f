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

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// TestServeAPIReloadProject reloads one project through the API of a
// running serve: the reload is counted in the reload metrics and the
// project's load state turns ready, as a SIGHUP reload would.
func TestServeAPIReloadProject(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"shop", "blog"} {
		write(n+"/swagger.yaml", "swagger: \"2.0\"\nbasePath: /"+n+"\npaths:\n  /x:\n    x-flat-flow: flows/x.xml\n")
	}
	write("shop/flows/x.xml", "<flow><nosuchaction/></flow>")
	write("blog/flows/x.xml", "<flow><echo>b</echo></flow>")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, logs lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runServe(ctx, []string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-api", "127.0.0.1:0",
			filepath.Join(root, "shop"), filepath.Join(root, "blog")}, &stdout, &logs)
	}()
	adminRe, apiRe := regexp.MustCompile(`admin on http://(\S+) `), regexp.MustCompile(`API \(trace, status, reload\) on (\S+) `)
	var admin, api []string
	for deadline := time.Now().Add(5 * time.Second); admin == nil || api == nil; time.Sleep(5 * time.Millisecond) {
		admin, api = adminRe.FindStringSubmatch(stdout.String()), apiRe.FindStringSubmatch(stdout.String())
		if (admin == nil || api == nil) && time.Now().After(deadline) {
			t.Fatalf("no startup lines; stdout %q, logs %s", stdout.String(), logs.String())
		}
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + admin[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Fatalf("/readyz with shop broken = %d, want 503", code)
	}
	conn, err := grpc.NewClient(api[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	write("shop/flows/x.xml", "<flow><echo>s</echo></flow>")
	res, err := flowprocv1.NewFlowprocAdminClient(conn).Reload(ctx, &flowprocv1.ReloadRequest{Project: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Ok || len(res.Projects) != 1 || res.Projects[0].Name != "shop" || res.Projects[0].Outcome != "reloaded" {
		t.Fatalf("reload shop: %v", res)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Errorf("/readyz after the API reloaded shop = %d %q, want 200", code, body)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{`flowproc_project_loaded{project="shop"} 1`, `flowproc_reloads_total{result="success"} 1`, "flowproc_reload_last_success 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !strings.Contains(logs.String(), `"trigger":"api project shop"`) {
		t.Errorf("the API reload was not logged:\n%s", logs.String())
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
