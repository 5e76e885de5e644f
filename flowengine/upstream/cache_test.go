package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/store"
)

// testClock is a settable clock shared by the client, the store and the
// test server's Date header.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cacheStep is one call in a cache scenario and what it must produce.
type cacheStep struct {
	advance   time.Duration // clock moves before the call
	tweak     func(c *Call)
	wantHit   bool
	wantReval bool
	wantHits  int    // requests the upstream has seen so far
	wantBody  string // "" skips the check
	wantAge   string // "" skips the check
}

// respondFunc answers the n-th (1-based) upstream request of a scenario.
type respondFunc func(w http.ResponseWriter, r *http.Request, n int, now time.Time)

// cacheControl is a respondFunc sending a Cache-Control value and body vN.
func cacheControl(cc string) respondFunc {
	return func(w http.ResponseWriter, _ *http.Request, n int, _ time.Time) {
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		fmt.Fprintf(w, "v%d", n)
	}
}

func runCacheScenario(t *testing.T, respond respondFunc, base Call, steps []cacheStep) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var mu sync.Mutex
	n := 0
	var lastReq *http.Request
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		cur := n
		lastReq = r.Clone(context.Background())
		mu.Unlock()
		now := clk.now()
		w.Header().Set("Date", now.Format(http.TimeFormat))
		respond(w, r, cur, now)
	})
	h := newClient(t, HTTPOptions{Cache: store.NewMemory(1<<20, clk.now), Now: clk.now})
	for i, s := range steps {
		clk.add(s.advance)
		c := base
		c.URL = srv.URL + base.URL
		c.ID = fmt.Sprint("step", i)
		if s.tweak != nil {
			s.tweak(&c)
		}
		r := do(t, h, &c)
		if r.Failed() {
			t.Fatalf("step %d failed: %s %s", i, r.Err.Kind, r.Err.Message)
		}
		mu.Lock()
		hits := n
		mu.Unlock()
		if r.CacheHit != s.wantHit || r.Revalidated != s.wantReval || hits != s.wantHits {
			t.Errorf("step %d: hit=%v revalidated=%v upstream=%d; want hit=%v revalidated=%v upstream=%d",
				i, r.CacheHit, r.Revalidated, hits, s.wantHit, s.wantReval, s.wantHits)
		}
		if s.wantBody != "" && string(r.Body) != s.wantBody {
			t.Errorf("step %d: body %q, want %q", i, r.Body, s.wantBody)
		}
		if s.wantAge != "" && r.Header.Get("Age") != s.wantAge {
			t.Errorf("step %d: Age %q, want %q", i, r.Header.Get("Age"), s.wantAge)
		}
		if r.ID != c.ID || r.CacheError != "" {
			t.Errorf("step %d: ID %q cache error %q", i, r.ID, r.CacheError)
		}
	}
	_ = lastReq
}

// etagServer answers conditional requests for the current ETag with 304.
func etagServer(cc string, etagFor func(n int) string) respondFunc {
	return func(w http.ResponseWriter, r *http.Request, n int, _ time.Time) {
		et := etagFor(n)
		w.Header().Set("Cache-Control", cc)
		w.Header().Set("ETag", et)
		if r.Header.Get("If-None-Match") == et {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprintf(w, "v%d", n)
	}
}

func TestCacheRFC9111(t *testing.T) {
	s := time.Second
	useCache := Call{URL: "/r", Cache: CacheOptions{UseHTTPCache: true}}
	lm := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	setHeader := func(name, value string) func(*Call) {
		return func(c *Call) { c.Headers = append(c.Headers, Field{name, value}) }
	}
	tests := []struct {
		name    string
		respond respondFunc
		base    Call
		steps   []cacheStep
	}{
		{"max-age", cacheControl("max-age=60"), useCache, []cacheStep{
			{wantHits: 1, wantBody: "v1"},
			{advance: 30 * s, wantHit: true, wantHits: 1, wantBody: "v1", wantAge: "30"},
			{advance: 31 * s, wantHits: 2, wantBody: "v2"},
			{advance: 1 * s, wantHit: true, wantHits: 2, wantBody: "v2", wantAge: "1"},
		}},
		{"s-maxage beats max-age in a shared cache", cacheControl("max-age=0, s-maxage=60"), useCache, []cacheStep{
			{wantHits: 1},
			{advance: 30 * s, wantHit: true, wantHits: 1},
			{advance: 31 * s, wantHits: 2},
		}},
		{"Expires", func(w http.ResponseWriter, _ *http.Request, n int, now time.Time) {
			w.Header().Set("Expires", now.Add(60*s).Format(http.TimeFormat))
			fmt.Fprintf(w, "v%d", n)
		}, useCache, []cacheStep{
			{wantHits: 1},
			{advance: 59 * s, wantHit: true, wantHits: 1},
			{advance: 2 * s, wantHits: 2, wantBody: "v2"},
		}},
		{"an invalid Expires is already stale", func(w http.ResponseWriter, _ *http.Request, n int, _ time.Time) {
			w.Header().Set("Expires", "0")
			fmt.Fprintf(w, "v%d", n)
		}, useCache, []cacheStep{{wantHits: 1}, {wantHits: 2}}},
		{"max-age beats Expires", func(w http.ResponseWriter, _ *http.Request, n int, now time.Time) {
			w.Header().Set("Expires", now.Add(time.Hour).Format(http.TimeFormat))
			w.Header().Set("Cache-Control", "max-age=10")
			fmt.Fprintf(w, "v%d", n)
		}, useCache, []cacheStep{{wantHits: 1}, {advance: 11 * s, wantHits: 2}}},
		{"no-store", cacheControl("max-age=60, no-store"), useCache, []cacheStep{{wantHits: 1}, {wantHits: 2}}},
		{"private is not stored by a shared cache", cacheControl("private, max-age=60"), useCache, []cacheStep{{wantHits: 1}, {wantHits: 2}}},
		{"nothing cacheable", cacheControl(""), useCache, []cacheStep{{wantHits: 1}, {wantHits: 2}}},
		{"no-cache revalidates with ETag", etagServer("no-cache", func(int) string { return `"e1"` }), useCache, []cacheStep{
			{wantHits: 1, wantBody: "v1"},
			{advance: s, wantHit: true, wantReval: true, wantHits: 2, wantBody: "v1"},
			{advance: s, wantHit: true, wantReval: true, wantHits: 3, wantBody: "v1"},
		}},
		{"a 304 with no-store drops the entry", func(w http.ResponseWriter, r *http.Request, n int, _ time.Time) {
			w.Header().Set("ETag", `"e"`)
			w.Header().Set("Cache-Control", "no-cache")
			if n > 1 {
				w.Header().Set("Cache-Control", "no-store")
			}
			if r.Header.Get("If-None-Match") == `"e"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprintf(w, "v%d", n)
		}, useCache, []cacheStep{
			{wantHits: 1, wantBody: "v1"},
			{wantHit: true, wantReval: true, wantHits: 2, wantBody: "v1"},
			{wantHits: 3, wantBody: "v3"},
		}},
		{"a changed ETag replaces the entry", etagServer("no-cache", func(n int) string { return fmt.Sprintf(`"e%d"`, n) }), useCache, []cacheStep{
			{wantHits: 1, wantBody: "v1"},
			{advance: s, wantHits: 2, wantBody: "v2"},
			{advance: s, wantHits: 3, wantBody: "v3"},
		}},
		{"stale max-age revalidates with ETag", etagServer("max-age=10", func(int) string { return `"e1"` }), useCache, []cacheStep{
			{wantHits: 1},
			{advance: 5 * s, wantHit: true, wantHits: 1},
			{advance: 10 * s, wantHit: true, wantReval: true, wantHits: 2, wantBody: "v1"},
			{advance: 5 * s, wantHit: true, wantHits: 2, wantBody: "v1", wantAge: "5"},
		}},
		{"Last-Modified revalidation", func(w http.ResponseWriter, r *http.Request, n int, _ time.Time) {
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("Last-Modified", lm)
			if r.Header.Get("If-Modified-Since") == lm {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprintf(w, "v%d", n)
		}, useCache, []cacheStep{
			{wantHits: 1},
			{advance: 5 * s, wantHit: true, wantHits: 1},
			{advance: 10 * s, wantHit: true, wantReval: true, wantHits: 2, wantBody: "v1"},
			{advance: 5 * s, wantHit: true, wantHits: 2},
		}},
		{"heuristic freshness from Last-Modified", func(w http.ResponseWriter, _ *http.Request, n int, now time.Time) {
			w.Header().Set("Last-Modified", now.Add(-1000*s).Format(http.TimeFormat))
			fmt.Fprintf(w, "v%d", n)
		}, useCache, []cacheStep{
			{wantHits: 1},
			{advance: 90 * s, wantHit: true, wantHits: 1},
			{advance: 20 * s, wantHits: 2, wantBody: "v2"},
		}},
		{"Vary selects the variant", func(w http.ResponseWriter, r *http.Request, n int, _ time.Time) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Vary", "Accept-Language")
			fmt.Fprintf(w, "v%d-%s", n, r.Header.Get("Accept-Language"))
		}, useCache, []cacheStep{
			{tweak: setHeader("Accept-Language", "en"), wantHits: 1, wantBody: "v1-en"},
			{tweak: setHeader("Accept-Language", "en"), wantHit: true, wantHits: 1, wantBody: "v1-en"},
			{tweak: setHeader("Accept-Language", "de"), wantHits: 2, wantBody: "v2-de"},
			{tweak: setHeader("Accept-Language", "de"), wantHit: true, wantHits: 2, wantBody: "v2-de"},
			{wantHits: 3, wantBody: "v3-"},
		}},
		{"Vary: * is never stored", func(w http.ResponseWriter, _ *http.Request, n int, _ time.Time) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Vary", "*")
			fmt.Fprintf(w, "v%d", n)
		}, useCache, []cacheStep{{wantHits: 1}, {wantHits: 2}}},
		{"Authorization requests are not stored", cacheControl("max-age=60"), useCache, []cacheStep{
			{tweak: setHeader("Authorization", "Bearer x"), wantHits: 1},
			{tweak: setHeader("Authorization", "Bearer x"), wantHits: 2},
		}},
		{"basic auth counts as Authorization", cacheControl("max-age=60"), useCache, []cacheStep{
			{tweak: func(c *Call) { c.BasicAuth = &Credentials{"u", "p"} }, wantHits: 1},
			{tweak: func(c *Call) { c.BasicAuth = &Credentials{"u", "p"} }, wantHits: 2},
		}},
		{"Authorization with public is stored", cacheControl("public, max-age=60"), useCache, []cacheStep{
			{tweak: setHeader("Authorization", "Bearer x"), wantHits: 1},
			{tweak: setHeader("Authorization", "Bearer x"), wantHit: true, wantHits: 1},
		}},
		{"Authorization with s-maxage is stored", cacheControl("s-maxage=60"), useCache, []cacheStep{
			{tweak: setHeader("Authorization", "Bearer x"), wantHits: 1},
			{tweak: setHeader("Authorization", "Bearer x"), wantHit: true, wantHits: 1},
		}},
		{"only GET is cached", cacheControl("max-age=60"), Call{URL: "/r", Method: "POST", Cache: CacheOptions{UseHTTPCache: true}}, []cacheStep{
			{wantHits: 1}, {wantHits: 2},
		}},
		{"HEAD is not cached", cacheControl("max-age=60"), Call{URL: "/r", Method: "HEAD", Cache: CacheOptions{UseHTTPCache: true}}, []cacheStep{
			{wantHits: 1}, {wantHits: 2},
		}},
		{"a successful POST invalidates the stored GET", cacheControl("max-age=60"), useCache, []cacheStep{
			{wantHits: 1},
			{wantHit: true, wantHits: 1},
			{tweak: func(c *Call) { c.Method = "POST" }, wantHits: 2},
			{wantHits: 3, wantBody: "v3"},
		}},
		{"the request's own no-store", cacheControl("max-age=60"), useCache, []cacheStep{
			{tweak: setHeader("Cache-Control", "no-store"), wantHits: 1},
			{wantHits: 2},
		}},
		{"max-stale serves a stale entry", cacheControl("max-age=10"), useCache, []cacheStep{
			{wantHits: 1},
			{advance: 20 * s, tweak: setHeader("Cache-Control", "max-stale=30"), wantHit: true, wantHits: 1},
			{tweak: setHeader("Cache-Control", "max-stale=5"), wantHits: 2},
		}},
		{"must-revalidate is never served stale", cacheControl("max-age=10, must-revalidate"), useCache, []cacheStep{
			{wantHits: 1},
			{advance: 20 * s, tweak: setHeader("Cache-Control", "max-stale"), wantHits: 2},
		}},
		{"only-if-cached without an entry is 504", cacheControl("max-age=60"), useCache, []cacheStep{
			{tweak: setHeader("Cache-Control", "only-if-cached"), wantHits: 0},
		}},
		{"force-cache-ttl ignores the response's headers", cacheControl("no-store, private"), Call{URL: "/r", Cache: CacheOptions{ForceTTL: 60 * s}}, []cacheStep{
			{wantHits: 1, wantBody: "v1"},
			{advance: 30 * s, wantHit: true, wantHits: 1, wantBody: "v1"},
			{advance: 31 * s, wantHits: 2, wantBody: "v2"},
		}},
		{"force-cache-ttl ignores an upstream Age", func(w http.ResponseWriter, _ *http.Request, n int, _ time.Time) {
			w.Header().Set("Age", "100000")
			w.Header().Set("Cache-Control", "max-age=1")
			fmt.Fprintf(w, "v%d", n)
		}, Call{URL: "/r", Cache: CacheOptions{ForceTTL: 60 * s}}, []cacheStep{
			{wantHits: 1},
			{advance: 30 * s, wantHit: true, wantHits: 1, wantAge: "30"},
		}},
		{"force-cache-ttl does not store errors", func(w http.ResponseWriter, _ *http.Request, _ int, _ time.Time) {
			w.WriteHeader(500)
		}, Call{URL: "/r", Cache: CacheOptions{ForceTTL: 60 * s}}, []cacheStep{{wantHits: 1}, {wantHits: 2}}},
		{"force-cache-refresh skips but stores", cacheControl("max-age=60"), useCache, []cacheStep{
			{wantHits: 1, wantBody: "v1"},
			{tweak: func(c *Call) { c.Cache.ForceRefresh = true }, wantHits: 2, wantBody: "v2"},
			{wantHit: true, wantHits: 2, wantBody: "v2"},
		}},
		{"force-cache-refresh with force-cache-ttl", cacheControl(""), Call{URL: "/r", Cache: CacheOptions{ForceTTL: time.Minute}}, []cacheStep{
			{wantHits: 1},
			{tweak: func(c *Call) { c.Cache.ForceRefresh = true }, wantHits: 2},
			{wantHit: true, wantHits: 2, wantBody: "v2"},
		}},
		{"client no-cache is ignored unless respected", cacheControl("max-age=60"), useCache, []cacheStep{
			{wantHits: 1},
			{tweak: func(c *Call) { c.Cache.ClientCacheControl = "no-cache" }, wantHit: true, wantHits: 1},
			{tweak: func(c *Call) { c.Cache.ClientCacheControl = "no-cache"; c.Cache.RespectClientCacheHeaders = true }, wantHits: 2, wantBody: "v2"},
			{wantHit: true, wantHits: 2, wantBody: "v2"},
		}},
		{"client max-age=0 respected", cacheControl("max-age=60"), useCache, []cacheStep{
			{wantHits: 1},
			{tweak: func(c *Call) { c.Cache.ClientCacheControl = "max-age=0"; c.Cache.RespectClientCacheHeaders = true }, wantHits: 2},
		}},
		{"client max-age=0 revalidates with ETag", etagServer("max-age=60", func(int) string { return `"x"` }), useCache, []cacheStep{
			{wantHits: 1},
			{tweak: func(c *Call) { c.Cache.ClientCacheControl = "max-age=0"; c.Cache.RespectClientCacheHeaders = true }, wantHit: true, wantReval: true, wantHits: 2, wantBody: "v1"},
		}},
		{"client Pragma: no-cache respected", cacheControl("max-age=60"), useCache, []cacheStep{
			{wantHits: 1},
			{tweak: func(c *Call) { c.Cache.ClientPragma = "no-cache"; c.Cache.RespectClientCacheHeaders = true }, wantHits: 2},
		}},
		{"client no-cache respected with force-cache-ttl", cacheControl(""), Call{URL: "/r", Cache: CacheOptions{ForceTTL: time.Minute}}, []cacheStep{
			{wantHits: 1},
			{tweak: func(c *Call) { c.Cache.ClientCacheControl = "no-cache"; c.Cache.RespectClientCacheHeaders = true }, wantHits: 2},
		}},
		{"cache options off", cacheControl("max-age=60"), Call{URL: "/r"}, []cacheStep{{wantHits: 1}, {wantHits: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runCacheScenario(t, tt.respond, tt.base, tt.steps)
		})
	}
}

func TestCacheOnlyIfCachedStatus(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Cache-Control", "max-age=60") })
	h := newClient(t, HTTPOptions{Cache: store.NewMemory(1<<20, nil)})
	r := do(t, h, &Call{URL: srv.URL, Headers: []Field{{"Cache-Control", "only-if-cached"}}, Cache: CacheOptions{UseHTTPCache: true}})
	wantOK(t, r, http.StatusGatewayTimeout)
}

func TestCacheRedirectsNotStored(t *testing.T) {
	n := 0
	var mu sync.Mutex
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		if r.URL.Path == "/from" {
			http.Redirect(w, r, "/to", http.StatusFound)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
	})
	h := newClient(t, HTTPOptions{Cache: store.NewMemory(1<<20, nil)})
	for range 2 {
		r := do(t, h, &Call{URL: srv.URL + "/from", FollowRedirects: true, Cache: CacheOptions{UseHTTPCache: true}})
		wantOK(t, r, 200)
		if r.CacheHit {
			t.Error("a redirected response came from the cache")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 4 {
		t.Errorf("upstream saw %d requests, want 4", n)
	}
}

// failingStore fails every operation.
type failingStore struct{}

var errStoreDown = errors.New("store down")

func (failingStore) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, errStoreDown
}
func (failingStore) Set(context.Context, string, []byte, time.Duration) error {
	return errStoreDown
}
func (failingStore) Delete(context.Context, string) error { return errStoreDown }

func TestCacheStoreErrors(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("fresh"))
	})
	h := newClient(t, HTTPOptions{Cache: failingStore{}})
	for _, method := range []string{"GET", "GET", "DELETE"} {
		r := do(t, h, &Call{URL: srv.URL, Method: method, Cache: CacheOptions{UseHTTPCache: true}})
		wantOK(t, r, 200)
		if !strings.Contains(r.CacheError, "store down") || r.CacheHit {
			t.Errorf("%s: cache error %q hit %v", method, r.CacheError, r.CacheHit)
		}
	}
}

func TestCacheCorruptEntry(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("fresh"))
	})
	mem := store.NewMemory(1<<20, nil)
	h := newClient(t, HTTPOptions{Cache: mem})
	c := &Call{URL: srv.URL, Cache: CacheOptions{UseHTTPCache: true}}
	req, e := h.buildRequest(c)
	if e != nil {
		t.Fatal(e)
	}
	if err := mem.Set(t.Context(), cacheKey(c, req), []byte("{not json"), time.Minute); err != nil {
		t.Fatal(err)
	}
	r := do(t, h, c)
	wantOK(t, r, 200)
	if !strings.Contains(r.CacheError, "corrupt") || r.CacheHit || string(r.Body) != "fresh" {
		t.Errorf("cache error %q hit %v body %q", r.CacheError, r.CacheHit, r.Body)
	}
	r = do(t, h, c)
	if !r.CacheHit || r.CacheError != "" {
		t.Errorf("the entry was not replaced: hit %v error %q", r.CacheHit, r.CacheError)
	}
}

func TestCacheEntryTooLarge(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte(strings.Repeat("x", 4096)))
	})
	h := newClient(t, HTTPOptions{Cache: store.NewMemory(1024, nil)})
	r := do(t, h, &Call{URL: srv.URL, Cache: CacheOptions{UseHTTPCache: true}})
	wantOK(t, r, 200)
	if !strings.Contains(r.CacheError, "larger than") {
		t.Errorf("cache error %q", r.CacheError)
	}
}

func TestCacheHitIsACopy(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("abc"))
	})
	h := newClient(t, HTTPOptions{Cache: store.NewMemory(1<<20, nil)})
	c := &Call{URL: srv.URL, Cache: CacheOptions{UseHTTPCache: true}}
	r1 := do(t, h, c)
	r1.Body[0] = 'X'
	r1.Header.Set("Cache-Control", "no-store")
	r2 := do(t, h, c)
	if !r2.CacheHit || string(r2.Body) != "abc" || r2.Header.Get("Cache-Control") != "max-age=60" {
		t.Errorf("hit %v body %q header %v", r2.CacheHit, r2.Body, r2.Header)
	}
}

func TestCacheKeySeparatesUpstreams(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte(r.Host))
	})
	h := newClient(t, HTTPOptions{Cache: store.NewMemory(1<<20, nil)})
	a := do(t, h, &Call{URL: srv.URL, Headers: []Field{{"Host", "a.test"}}, Cache: CacheOptions{UseHTTPCache: true}})
	b := do(t, h, &Call{URL: srv.URL, Headers: []Field{{"Host", "b.test"}}, Cache: CacheOptions{UseHTTPCache: true}})
	if string(a.Body) != "a.test" || string(b.Body) != "b.test" || b.CacheHit {
		t.Errorf("bodies %q %q, second hit %v", a.Body, b.Body, b.CacheHit)
	}
}
