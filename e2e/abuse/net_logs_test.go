package abuse

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine/budget"
)

// netLogBuffer collects log lines written concurrently.
type netLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *netLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *netLogBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

// TestNetLogLineBounded: a 1 MB :path (and a flow that logs a 1 MB custom
// field) give flat_access lines of a few KiB, with the truncation marker
// and the original length.
func TestNetLogLineBounded(t *testing.T) {
	set := project(t, budget.Limits{}, 0, map[string]string{
		"/hello": `<flow><log>{"echo": {{ $request/get/q }} }</log><echo>hi</echo></flow>`,
	})
	logs := &netLogBuffer{}
	srv := extproc.New(extproc.Options{Resolver: set, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
	if err != nil {
		t.Fatal(err)
	}
	// Envoy's own header size limit would refuse a 1 MB :path (431); an
	// Envoy configured with a larger max_request_headers_kb would not.
	c, err := envoy.NewClient(extproctest.Dial(t, srv), fc, envoy.WithHeaderLimits(100, 8192))
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("a", 1<<20)
	up := envoy.UpstreamFunc(func(context.Context, *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
		return &envoy.UpstreamResponse{Status: 200}, nil
	})
	resp, err := c.Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local",
		Path: "/hello?q=" + huge}, up)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 {
		t.Fatalf("status %d, want 200", resp.Status)
	}
	// The record is written when the stream ends, just after the reply.
	var access string
	for deadline := time.Now().Add(5 * time.Second); access == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, l := range logs.lines() {
			if strings.Contains(l, `"msg":"flat_access"`) {
				access = l
			}
		}
	}
	if access == "" {
		t.Fatalf("no flat_access record in %d log lines", len(logs.lines()))
	}
	t.Logf("flat_access line for a 1 MiB :path: %d bytes", len(access))
	if len(access) > 8<<10 {
		t.Errorf("flat_access line is %d bytes, want under 8 KiB", len(access))
	}
	// url, path and the custom field each end in the marker with the
	// original length.
	if n := strings.Count(access, "…[truncated "); n != 3 || !strings.Contains(access, `"echo":"aaaa`) {
		t.Errorf("flat_access line has %d truncation markers, want 3 (url, path, echo): %.300s…", n, access)
	}
}
