package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/store"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// benchServer answers every GET with a small JSON body.
func benchServer(tb testing.TB) string {
	return server(tb, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"n":42}`))
	}).URL
}

// directClient is a plain net/http client like the one a caller would
// write without this package.
func directClient(tb testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 3 * time.Second}
}

// directGet is the baseline: the same GET with net/http only.
func directGet(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "FLAT")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return err
}

func BenchmarkDo(b *testing.B) {
	url := benchServer(b)
	h := newClient(b, HTTPOptions{})
	c := &Call{ID: "main", URL: url}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := h.Do(ctx, c)
		if err != nil || r.Failed() {
			b.Fatalf("%v %+v", err, r.Err)
		}
	}
}

func BenchmarkDirect(b *testing.B) {
	url := benchServer(b)
	hc := directClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := directGet(ctx, hc, url); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDoAll3(b *testing.B) {
	url := benchServer(b)
	h := newClient(b, HTTPOptions{})
	calls := []*Call{{ID: "a", URL: url + "/a"}, {ID: "b", URL: url + "/b"}, {ID: "c", URL: url + "/c"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range DoAll(ctx, h, calls, 0) {
			if r.Failed() {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkDoCached is Do served from the memory cache (no network).
func BenchmarkDoCached(b *testing.B) {
	url := server(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}).URL
	h := newClient(b, HTTPOptions{Cache: newBenchStore()})
	c := &Call{URL: url, Cache: CacheOptions{UseHTTPCache: true}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r, _ := h.Do(ctx, c); r.Failed() {
			b.Fatal(r.Err)
		}
	}
}

// TestDoOverhead measures the median latency of Client.Do against the same
// GET through plain net/http, interleaved so both see the same machine
// load, and logs the difference. It asserts nothing about timing (the
// target is < 100 µs at p50); run with -v to read the numbers.
func TestDoOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement")
	}
	url := benchServer(t)
	h := newClient(t, HTTPOptions{})
	hc := directClient(t)
	c := &Call{ID: "main", URL: url}
	ctx := context.Background()
	const n = 2000
	var viaDo, direct []time.Duration
	for i := range n + 100 {
		t0 := time.Now()
		r, err := h.Do(ctx, c)
		d1 := time.Since(t0)
		if err != nil || r.Failed() {
			t.Fatalf("Do: %v %+v", err, r.Err)
		}
		t0 = time.Now()
		if err := directGet(ctx, hc, url); err != nil {
			t.Fatal(err)
		}
		d2 := time.Since(t0)
		if i >= 100 { // warm-up
			viaDo, direct = append(viaDo, d1), append(direct, d2)
		}
	}
	p := func(ds []time.Duration, q float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[int(q*float64(len(s)-1))]
	}
	diffs := make([]time.Duration, n)
	for i := range diffs {
		diffs[i] = viaDo[i] - direct[i]
	}
	msg := fmt.Sprintf("p50 Do %v, direct %v, overhead %v (p50 of pairwise differences %v); p90 Do %v, direct %v",
		p(viaDo, .5), p(direct, .5), p(viaDo, .5)-p(direct, .5), p(diffs, .5), p(viaDo, .9), p(direct, .9))
	if racecheck.Enabled {
		msg += " [race detector on: not representative]"
	}
	t.Log(msg)
}

func newBenchStore() *store.Memory { return store.NewMemory(1<<20, nil) }
