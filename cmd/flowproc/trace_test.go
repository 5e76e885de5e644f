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
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/internal/testpki"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

var apiLine = regexp.MustCompile(`API \(trace, status, reload\) on (\S+) `)

// waitFor polls s() until re matches or 20 s pass.
func waitFor(t *testing.T, what string, s func() string, re *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(s()); m != nil {
			return m
		}
	}
	t.Fatalf("%s: no match for %s in:\n%s", what, re, s())
	return nil
}

// traceRun runs `flowproc trace args` in the background.
type traceRun struct {
	stdout, stderr lockedBuffer
	code           chan int
}

func startTrace(ctx context.Context, args ...string) *traceRun {
	r := &traceRun{code: make(chan int, 1)}
	go func() { r.code <- runTrace(ctx, args, &r.stdout, &r.stderr) }()
	return r
}

func (r *traceRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case c := <-r.code:
		return c
	case <-time.After(20 * time.Second):
		t.Fatalf("flowproc trace did not end; stdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
		return -1
	}
}

// TestTraceEndToEnd: dev (the real ext_proc server behind the
// Envoy-faithful client) serves the example project with its API on
// loopback; `flowproc trace` opens a session, real HTTP traffic goes
// through, and the command prints, saves and shows the traces.
func TestTraceEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runDev(ctx, []string{"-listen", "127.0.0.1:0", "-api", "127.0.0.1:0", "-trace-mask-headers", "X-Secret", "-watch=false",
			filepath.Join("..", "..", "examples", "hello")}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("dev exit %d; stderr:\n%s", code, stderr.String())
		}
	}()
	api := waitFor(t, "dev API", stdout.String, apiLine)[1]
	httpAddr := waitFor(t, "dev HTTP", stdout.String, regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`))[1]

	saved := filepath.Join(t.TempDir(), "session.jsonl")
	tr := startTrace(ctx, "-addr", api, "-path", "/api/", "-count", "2", "-json", "-save", saved)
	waitFor(t, "trace session", tr.stderr.String, regexp.MustCompile(`session open`))

	send := func(method, path, body string, want int) {
		req, _ := http.NewRequest(method, "http://"+httpAddr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer top-secret")
		req.Header.Set("X-Secret", "hidden")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s %s: %d", method, path, resp.StatusCode)
		}
	}
	send("GET", "/other", "", 404) // outside the path filter
	send("GET", "/api/hello/world", "", 200)
	send("POST", "/api/upstream/a", "hi", 200)
	if code := tr.wait(t); code != 0 {
		t.Fatalf("trace exit %d; stderr:\n%s", code, tr.stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(tr.stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got:\n%s", tr.stdout.String())
	}
	var docs []*flowprocv1.ExchangeTrace
	for _, l := range lines {
		if !strings.Contains(l, `"durationUs":`) || strings.Contains(l, `"durationUs":"`) || strings.Contains(l, "top-secret") || strings.Contains(l, "hidden") {
			t.Errorf("JSON line breaks the contract or leaks a secret: %s", l)
		}
		d := &flowprocv1.ExchangeTrace{}
		if err := protojson.Unmarshal([]byte(l), d); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		docs = append(docs, d)
	}
	// A trace is delivered when its exchange ends, after the client has its
	// answer, so two exchanges sent one after the other may print in either
	// order.
	hello, up := docs[0], docs[1]
	if hello.Path != "/api/hello/world" {
		hello, up = up, hello
	}
	if hello.Path != "/api/hello/world" || hello.Project != "hello" || hello.Kind != "flat" || hello.Outcome != "answer" || hello.Status != 200 || len(hello.Steps) == 0 {
		t.Errorf("hello trace: %v", hello)
	}
	masked := 0
	for _, h := range hello.Phases[0].Headers {
		if (h.Name == "authorization" || h.Name == "x-secret") && h.Value == "***" {
			masked++
		}
	}
	if masked != 2 {
		t.Errorf("masked headers: %v", hello.Phases[0].Headers)
	}
	if up.Outcome != "forward" || up.Forward.GetPath() != "/v2/a" || up.Status != 200 {
		t.Errorf("upstream trace: %v", up)
	}
	if b, err := os.ReadFile(saved); err != nil || strings.TrimSpace(string(b)) != strings.TrimSpace(tr.stdout.String()) {
		t.Errorf("saved session differs from the printed one: %v\n%s", err, b)
	}

	// -show renders the saved session as the step tree, no server needed.
	show := startTrace(ctx, "-show", saved)
	if code := show.wait(t); code != 0 {
		t.Fatalf("show exit %d: %s", code, show.stderr.String())
	}
	for _, want := range []string{
		"GET /api/hello/world project=hello (flat) flow=api/hello.xml answer 200",
		"    api/hello.xml\n      3:3 if [$request/params/name = 'teapot' → false]",
		"POST /api/upstream/a project=hello (flat) flow=api/upstream.xml forward 200",
		"→ forward :path=/v2/a",
		"← upstream 200",
	} {
		if !strings.Contains(show.stdout.String(), want) {
			t.Errorf("show output lacks %q:\n%s", want, show.stdout.String())
		}
	}

	// Live text output.
	text := startTrace(ctx, "-addr", api, "-count", "1", "-project", "hello", "-status", "2xx")
	waitFor(t, "text session", text.stderr.String, regexp.MustCompile(`session open`))
	send("GET", "/api/hello/you", "", 200)
	if code := text.wait(t); code != 0 || !strings.Contains(text.stdout.String(), "template") || !strings.Contains(text.stdout.String(), "GET /api/hello/you") {
		t.Errorf("text trace exit %d:\n%s%s", code, text.stdout.String(), text.stderr.String())
	}

	// Bad filters are refused by the server with a clear message.
	for _, args := range [][]string{{"-status", "6xx"}, {"-sample", "2"}, {"-project", "nope"}, {"-path", "api"}} {
		bad := startTrace(ctx, append([]string{"-addr", api}, args...)...)
		if code := bad.wait(t); code != 2 || !strings.Contains(bad.stderr.String(), "trace filter") || !strings.Contains(bad.stderr.String(), "InvalidArgument") {
			t.Errorf("%v: exit %d, stderr %s", args, code, bad.stderr.String())
		}
	}
}

func TestTraceCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(notJSON, []byte("{\"id\":\"a\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-header", "novalue"}, 2, "want name=value"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"-show", notJSON}, 1, "bad.jsonl:2: not a trace document"},
		{[]string{"-show", filepath.Join(dir, "nope")}, 1, "no such file"},
		{[]string{"-tls-cert", filepath.Join(dir, "nope")}, 2, "tls client certificate"},
		{[]string{"-token-file", filepath.Join(dir, "nope")}, 2, "no such file"},
		{[]string{"-addr", "127.0.0.1:1"}, 1, "Unavailable"},
	}
	for _, tt := range tests {
		r := startTrace(context.Background(), tt.args...)
		if code := r.wait(t); code != tt.code || !strings.Contains(r.stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, r.stderr.String(), tt.code, tt.want)
		}
	}
}

// TestServeAPI: serve -api starts the API next to ext_proc (Status works),
// and refuses to start when the API would be exposed without
// authentication.
func TestServeAPI(t *testing.T) {
	st, err := parseServeArgs([]string{"-listen", "127.0.0.1:0", "-admin", "off", "-api", "0.0.0.0:0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := serve(context.Background(), st, noProjects{}, newLogger(io.Discard, st.level), io.Discard); err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("exposed API without authentication: %v", err)
	}

	p := testpki.New(t)
	st, err = parseServeArgs([]string{"-listen", "127.0.0.1:0", "-admin", "off", "-api", "127.0.0.1:0", "-trace-max-sessions", "2",
		"-api-tls-cert", p.Cert, "-api-tls-key", p.Key, "-api-tls-client-ca", p.CA}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projects.NewRegistry([]string{filepath.Join("..", "..", "examples", "hello")}, projects.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var stdout lockedBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, st, reg, newLogger(io.Discard, st.level), &stdout) }()
	api := waitFor(t, "serve API", stdout.String, regexp.MustCompile(`API \(trace, status, reload\) on (\S+) \(loopback, mTLS\)`))[1]
	// Plaintext is refused by the mTLS listener; the trace command with
	// the client certificate opens a session.
	conn, err := grpc.NewClient(api, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := flowprocv1.NewFlowprocAdminClient(conn).Status(ctx, &flowprocv1.StatusRequest{}); err == nil {
		t.Error("plaintext call to the mTLS API succeeded")
	}
	tctx, tcancel := context.WithCancel(ctx)
	tr := startTrace(tctx, "-addr", api, "-tls-ca", p.CA, "-tls-cert", p.ClientCert, "-tls-key", p.ClientKey)
	waitFor(t, "mTLS trace session", tr.stderr.String, regexp.MustCompile(`session open`))
	tcancel()
	if code := tr.wait(t); code != 0 {
		t.Errorf("trace exit %d: %s", code, tr.stderr.String())
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
