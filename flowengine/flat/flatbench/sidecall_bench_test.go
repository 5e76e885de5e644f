package flatbench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/flat"
)

// Side-call benchmarks (issue #8 "Measure"): a flow with one request and
// with requests ×3 against a local upstream, and the same GET made
// directly with net/http, so the engine's overhead beyond the upstream's
// own latency can be read off. Measured, not asserted.

const sideBody = `{"id":42,"name":"ann","roles":["admin","dev"]}`

func sideServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, sideBody)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func sideProject(b *testing.B, srv *httptest.Server, flow string) *flat.Project {
	b.Helper()
	dir := writeBenchProject(b, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /**:\n    x-flat-flow: a.xml\n",
		"a.xml":        flow,
	})
	p, errs := flat.Load(dir, flat.Options{Env: []string{"SIDE=" + srv.URL}, Logger: slog.New(slog.DiscardHandler)})
	if p == nil {
		b.Fatal(errs)
	}
	return p
}

const oneRequestFlow = `<flow>
  <request content="u">{"url": {{ concat($env/SIDE, "/users/42") }}}</request>
  <template>{"name": {{ content('u')/json/name }}, "status": {{ $upstream/u/status }}}</template>
</flow>`

const threeRequestsFlow = `<flow>
  <requests>{
    "a": {"url": {{ concat($env/SIDE, "/a") }}},
    "b": {"url": {{ concat($env/SIDE, "/b") }}},
    "c": {"url": {{ concat($env/SIDE, "/c") }}}
  }</requests>
  <template>{"a": {{ content('a')/json/name }}, "b": {{ $upstream/b/status }}, "c": {{ $upstream/c/status }}}</template>
</flow>`

func sideReq() *flowengine.Request {
	return &flowengine.Request{Method: "GET", Scheme: "http", Authority: "localhost", Path: "/x", Headers: benchHeaders, ID: "rid", BodyKnownEmpty: true}
}

// BenchmarkRunRequest: one request to a local upstream, its JSON read
// through content() into a template.
func BenchmarkRunRequest(b *testing.B) {
	p := sideProject(b, sideServer(b), oneRequestFlow)
	benchRun(b, p, sideReq(), nil, nil)
}

// BenchmarkRunRequests3: requests with three concurrent calls.
func BenchmarkRunRequests3(b *testing.B) {
	p := sideProject(b, sideServer(b), threeRequestsFlow)
	benchRun(b, p, sideReq(), nil, nil)
}

// BenchmarkDirectHTTP: the same GET with a plain net/http client and the
// body read — the floor BenchmarkRunRequest is compared with.
func BenchmarkDirectHTTP(b *testing.B) {
	srv := sideServer(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	for b.Loop() {
		directGet(b, c, srv.URL+"/users/42")
	}
}

func directGet(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
}

// BenchmarkRequestOverheadP50 alternates a direct GET and a run of the
// one-request flow and reports the p50 of each and their difference
// (overhead-p50-µs): what a request action adds over calling the upstream
// from Go. The target is under 100 µs.
func BenchmarkRequestOverheadP50(b *testing.B) {
	srv := sideServer(b)
	p := sideProject(b, srv, oneRequestFlow)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	req, h := sideReq(), &fakeHost{}
	ctx := context.Background()
	var direct, engine []time.Duration
	for b.Loop() {
		t0 := time.Now()
		directGet(b, c, srv.URL+"/users/42")
		t1 := time.Now()
		if out := p.Run(ctx, req, h); out.Status != 200 {
			b.Fatalf("status %d: %s", out.Status, out.Body)
		}
		direct, engine = append(direct, t1.Sub(t0)), append(engine, time.Since(t1))
	}
	pd, pe := p50(direct), p50(engine)
	b.ReportMetric(float64(pd.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(pe.Microseconds()), "run-p50-µs")
	b.ReportMetric(float64((pe - pd).Microseconds()), "overhead-p50-µs")
}

func p50(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
