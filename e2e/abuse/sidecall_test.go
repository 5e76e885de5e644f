package abuse

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// badUpstreams starts the misbehaving upstreams of the side-call tests and
// returns their URLs by name.
func badUpstreams(t *testing.T) map[string]string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(30 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"pad":"`+strings.Repeat("x", 64<<10)+`"}`)
	})
	mux.HandleFunc("/invalid", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"a": 1,,, not json`)
	})
	plain := httptest.NewServer(mux)
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewUnstartedServer(mux) // its certificate is not trusted
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() // nothing listens once closed
	l.Close()
	return map[string]string{"plain": plain.URL, "tls": tlsSrv.URL, "closed": closed}
}

// TestSideCallFailures: every way a side call can fail ends in FLAT's
// error document (exit-on-error) or in a flow that goes on with
// $upstream/<id>/error, through the whole stack, within its timeout.
func TestSideCallFailures(t *testing.T) {
	up := badUpstreams(t)
	call := func(url, opts string) string {
		return `<flow><request content="x">{"url": "` + url + `", "options": {"exit-on-error": true` + opts + `}}</request><echo>unreachable</echo></flow>`
	}
	set := project(t, budget.Limits{DecodedBytes: 32 << 10}, 0, map[string]string{
		"/unreachable": call(up["closed"]+"/", ""),
		"/slow":        call(up["plain"]+"/slow", `, "timeout": 0.2`),
		"/tls":         call(up["tls"]+"/", ""),
		"/loop":        call(up["plain"]+"/loop", `, "follow-redirects": true, "max-redirects": 5`),
		"/big":         call(up["plain"]+"/big", ""),
		"/invalid": `<flow><request content="x">{"url": "` + up["plain"] + `/invalid"}</request>` +
			`<template>{"a": {{ content('x')/json/a }}, "raw": {{ string-length(body('x')) }}}</template></flow>`,
		"/goes-on": `<flow><request content="x">{"url": "` + up["closed"] + `/"}</request>` +
			`<template>{"status": {{ $upstream/x/status }}, "error": {{ $upstream/x/error/code }}}</template></flow>`,
	})
	base := startStack(t, set, 0)
	for _, tc := range []struct {
		path       string
		status     int
		code       int
		body       string
		within     time.Duration
		infoSubstr string
	}{
		{path: "/unreachable", status: 502, code: 3209, infoSubstr: "connect"},
		{path: "/slow", status: 504, code: 3209, within: 3 * time.Second, infoSubstr: "timeout"},
		{path: "/tls", status: 502, code: 3209, infoSubstr: "tls"},
		{path: "/loop", status: 502, code: 3209, infoSubstr: "too-many-redirects"},
		{path: "/big", status: 502, code: 3209, infoSubstr: "body-too-large"},
		{path: "/invalid", status: 200, body: `{"a": null, "raw": 19}`},
		{path: "/goes-on", status: 200, body: `{"status": 0, "error": 3209}`},
	} {
		t.Run(strings.Trim(tc.path, "/"), func(t *testing.T) {
			start := time.Now()
			status, body := do(t, "GET", base+tc.path, "", nil)
			if d := time.Since(start); tc.within > 0 && d > racecheck.Scale(tc.within) {
				t.Errorf("answered after %v, want within %v", d, tc.within)
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.body != "" {
				if string(body) != tc.body {
					t.Errorf("body %s, want %s", body, tc.body)
				}
				return
			}
			var doc struct {
				Error struct {
					Status int      `json:"status"`
					Code   int      `json:"code"`
					Info   []string `json:"info"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("not an error document: %s", body)
			}
			if doc.Error.Code != tc.code || doc.Error.Status != tc.status {
				t.Errorf("error %d/%d, want %d/%d: %s", doc.Error.Status, doc.Error.Code, tc.status, tc.code, body)
			}
			if !strings.Contains(strings.Join(doc.Error.Info, " "), tc.infoSubstr) {
				t.Errorf("info %q does not say %q", doc.Error.Info, tc.infoSubstr)
			}
		})
	}
	// The server goes on answering.
	if status, body := do(t, "GET", base+"/goes-on", "", nil); status != 200 {
		t.Errorf("after the failures: %d %s", status, body)
	}
}

// TestRequestsThousandEntries: a requests map with 1,000 entries runs
// every call, never more than the concurrency bound at once.
func TestRequestsThousandEntries(t *testing.T) {
	var inFlight, maxInFlight, total atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		total.Add(1)
		inFlight.Add(-1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	var b strings.Builder
	b.WriteString("<flow><requests>{")
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"r%d": {"url": "%s/%d"}`, i, srv.URL, i)
	}
	b.WriteString(`}</requests><template>{"n": {{ count($upstream/*) }}, "ok": {{ count($upstream/*[status = 200]) }}}</template></flow>`)
	set := project(t, budget.Limits{}, 0, map[string]string{"/many": b.String()})
	base := startStack(t, set, 0)
	status, body := do(t, "GET", base+"/many", "", nil)
	if status != 200 || string(body) != `{"n": 1000, "ok": 1000}` {
		t.Fatalf("%d %s", status, body)
	}
	if total.Load() != 1000 {
		t.Errorf("upstream saw %d calls, want 1000", total.Load())
	}
	if m := maxInFlight.Load(); m > 8 {
		t.Errorf("%d calls in flight at once, want at most 8", m)
	}
	t.Logf("1000 calls, at most %d at once", maxInFlight.Load())
}

// TestCancelledStreamStopsSideCall: when Envoy cancels the stream while a
// side call waits on a hanging upstream, the run (and the call) stop
// promptly.
func TestCancelledStreamStopsSideCall(t *testing.T) {
	up := badUpstreams(t)
	set := project(t, budget.Limits{}, 0, map[string]string{
		"/hang": `<flow><request content="x">{"url": "` + up["plain"] + `/slow", "options": {"timeout": 60}}</request><echo>done</echo></flow>`,
	})
	runStopsOnCancel(t, set, "/hang", "the side call did not wait")
}

// TestValidationOfAHugeBody: a 10 MB body to an operation that validates
// its body is refused by the body limit (413) before any schema work, and
// the server goes on answering.
func TestValidationOfAHugeBody(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\nx-flat-validate: true\npaths:\n  /items:\n    post:\n      x-flat-flow: ok.xml\n" +
			"      parameters:\n      - name: body\n        in: body\n        required: true\n        schema:\n          type: object\n          properties:\n            items: {type: array, items: {type: string}}\n" +
			"      responses:\n        \"200\": {description: ok}\n",
		"ok.xml": `<flow><echo>ok</echo></flow>`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := projects.Load([]string{dir}, "", projects.LoadOptions{Env: []string{}, Logger: quiet})
	if err != nil || len(set.Entries()[0].Errors) > 0 {
		t.Fatal(err, set.Entries()[0].Errors)
	}
	base := startStack(t, set, 0)
	huge := []byte(`{"items":["` + strings.Repeat("x", 10<<20) + `"]}`)
	status, body := do(t, "POST", base+"/items", "application/json", huge)
	if status != 413 {
		t.Fatalf("status %d, want 413: %.200s", status, body)
	}
	if status, body := do(t, "POST", base+"/items", "application/json", []byte(`{"items":["a"]}`)); status != 200 || string(body) != "ok" {
		t.Errorf("a small valid body: %d %s", status, body)
	}
	if status, _ := do(t, "POST", base+"/items", "application/json", []byte(`{"items":[1]}`)); status != 400 {
		t.Errorf("a small invalid body: %d, want 400", status)
	}
}
