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
)

// TestDevServesGoodProjectsAndReportsBrokenOnes: dev with one broken and
// one good project prints the load errors, serves the good one, answers the
// broken one's routes 503, and logs one line per request.
func TestDevServesGoodProjectsAndReportsBrokenOnes(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good/swagger.yaml", "swagger: \"2.0\"\nbasePath: /good\npaths:\n  /hi:\n    x-flat-flow: hi.xml\n")
	write("good/hi.xml", "<flow><echo>hi there</echo></flow>")
	write("broken/swagger.yaml", "swagger: \"2.0\"\nbasePath: /broken\npaths:\n  /x:\n    x-flat-flow: x.xml\n")
	write("broken/x.xml", "<flow><nosuchaction/></flow>")

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runDev(ctx, []string{"-listen", "127.0.0.1:0", filepath.Join(root, "good"), filepath.Join(root, "broken")}, &stdout, &stderr)
	}()
	addrRe := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRe.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		cancel()
		t.Fatalf("dev did not start; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "x.xml:1:7: FP202: unknown action <nosuchaction>") {
		t.Errorf("load error not printed; stderr:\n%s", stderr.String())
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/good/hi"); code != 200 || body != "hi there" {
		t.Errorf("good project: %d %q", code, body)
	}
	if code, body := get("/broken/x"); code != 503 || !strings.Contains(body, `"code":5030`) {
		t.Errorf("broken project: %d %q, want 503 with code 5030", code, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"GET /good/hi project=good flow=hi.xml answered 200", "GET /broken/x project=broken flow=- answered 503"} {
		if !strings.Contains(out, want) {
			t.Errorf("request line %q missing; stdout:\n%s", want, out)
		}
	}
}

// TestDevReloads: dev watches its project directories unless -watch=false;
// an edit is served after the reload, a broken edit keeps the last good
// version and prints the reload outcome with the load error.
func TestDevReloads(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		watch bool
	}{
		{"watching by default", nil, true},
		{"-watch=false", []string{"-watch=false"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
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
			write("shop/swagger.yaml", "swagger: \"2.0\"\nbasePath: /shop\npaths:\n  /hi:\n    x-flat-flow: flows/hi.xml\n")
			write("shop/flows/hi.xml", "<flow><echo>v1</echo></flow>")

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr lockedBuffer
			done := make(chan int, 1)
			args := append(append([]string{"-listen", "127.0.0.1:0"}, tc.flags...), filepath.Join(root, "shop"))
			go func() { done <- runDev(ctx, args, &stdout, &stderr) }()
			startRe := regexp.MustCompile(`http://(127\.0\.0\.1:\d+) .*projects: shop(.*)`)
			var m []string
			for deadline := time.Now().Add(10 * time.Second); m == nil; time.Sleep(20 * time.Millisecond) {
				if m = startRe.FindStringSubmatch(stdout.String()); m == nil && time.Now().After(deadline) {
					t.Fatalf("dev did not start; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
				}
			}
			if got := strings.Contains(m[2], "(watching for changes)"); got != tc.watch {
				t.Fatalf("startup line %q: watching %v, want %v", m[0], got, tc.watch)
			}
			get := func() string {
				resp, err := http.Get("http://" + m[1] + "/shop/hi")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b)
			}
			if body := get(); body != "v1" {
				t.Fatalf("before any edit: %q", body)
			}
			if tc.watch {
				// waitFor polls until the answer is body and stderr holds line.
				waitFor := func(body, line string) {
					t.Helper()
					for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
						got := get()
						if got == body && strings.Contains(stderr.String(), line) {
							return
						}
						if time.Now().After(deadline) {
							t.Fatalf("answer %q (want %q), stderr lacks %q:\n%s", got, body, line, stderr.String())
						}
					}
				}
				write("shop/flows/hi.xml", "<flow><echo>v2</echo></flow>")
				waitFor("v2", "flowproc dev: reload (file change): project shop: reloaded\n")
				write("shop/flows/hi.xml", "<flow><nosuchaction/></flow>")
				waitFor("v2", "flowproc dev: reload (file change): project shop: load failed, keeping the last good version (1 error)\n"+
					"  "+filepath.Join(root, "shop")+"/flows/hi.xml:1:7: FP202: unknown action <nosuchaction>\n")
			}
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit code %d; stderr:\n%s", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("dev did not stop")
			}
		})
	}
}

// TestDevREADMECommands: the README's first screen — `flowproc dev` on the
// embedded example and its three curl commands — keeps working. The
// example's proxy-request origin "upstream" reaches the demo upstream.
// The example's extracted copy is removed when dev stops.
func TestDevREADMECommands(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	defer func() {
		if left, _ := filepath.Glob(filepath.Join(tmp, "flowproc-example-*")); len(left) > 0 {
			t.Errorf("dev left the extracted example behind: %v", left)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() { done <- runDev(ctx, []string{"-listen", "127.0.0.1:0"}, &stdout, &stderr) }()
	defer func() {
		cancel()
		<-done
	}()
	addrRe := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := addrRe.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("dev did not start; stderr:\n%s", stderr.String())
	}
	for _, tc := range []struct {
		method, path, body, want string
		status                   int
	}{
		{"GET", "/api/hello/world?lang=de", "", `"greeting": "Hello, World!"`, 200},
		{"POST", "/api/echo", `{"items":[{"name":"tea","price":3},{"name":"cake","price":4}]}`, `"total": 7`, 201},
		{"GET", "/api/upstream/anything", "", `"path":"/v2/anything"`, 200},
	} {
		req, _ := http.NewRequest(tc.method, "http://"+addr+tc.path, strings.NewReader(tc.body))
		if tc.body != "" {
			req.Header.Set("content-type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s %s: %d %s; want %d with %s", tc.method, tc.path, resp.StatusCode, b, tc.status, tc.want)
		}
	}
}
