package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flowproc/flowproc/internal/chromium"
)

// TestTracePageShowsDevTrafficInABrowser: `flowproc dev` serves the example
// project with its trace page on the admin listener; headless chromium opens
// the page and starts a session, real HTTP traffic goes through the
// Envoy-faithful client, and the exchange appears in the list and, clicked,
// shows its steps and its forward.
func TestTracePageShowsDevTrafficInABrowser(t *testing.T) {
	bctx := chromium.Context(t, 90*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runDev(ctx, []string{"-listen", "127.0.0.1:0", "-api", "off", "-admin", "127.0.0.1:0", "-watch=false",
			filepath.Join("..", "..", "examples", "hello")}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("dev exit %d; stderr:\n%s", code, stderr.String())
		}
	}()
	page := waitFor(t, "trace page", stdout.String, regexp.MustCompile(`trace page: (http://\S+)`))[1]
	httpAddr := waitFor(t, "dev HTTP", stdout.String, regexp.MustCompile(`http://(127\.0\.0\.1:\d+) →`))[1]

	if err := chromedp.Do(bctx,
		chromedp.Navigate(page),
		chromedp.SetValue(chromedp.CSS(`input[name=path]`), "/api/"),
		chromedp.Click(chromedp.CSS("#start")),
	); err != nil {
		t.Fatal(err)
	}
	// The session is open once the page says so; then send the traffic.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		state, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#state")))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(state, "tracing") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not open a session: %q", state)
		}
	}
	for _, path := range []string{"/other", "/api/upstream/a"} {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err := chromedp.Do(bctx,
		chromedp.WaitVisible(chromedp.CSS(`#exchanges tbody tr.exchange`)),
		chromedp.Click(chromedp.CSS(`#exchanges tbody tr.exchange`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail`)),
	); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#exchanges tbody`)))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#steps tbody`)))
	if err != nil {
		t.Fatal(err)
	}
	forward, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#forward`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows, "/api/upstream/a") || strings.Contains(rows, "/other") {
		t.Errorf("exchange list %q: want /api/upstream/a only (the path filter)", rows)
	}
	if !strings.Contains(steps, "proxy-request") {
		t.Errorf("steps %q lack the flow's proxy-request", steps)
	}
	if !strings.Contains(forward, "/v2/a") {
		t.Errorf("forward %q lacks the rewritten path /v2/a", forward)
	}
}
