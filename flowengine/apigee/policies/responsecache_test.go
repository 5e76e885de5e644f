package policies

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
	corpusdir "github.com/flowproc/flowproc/internal/corpus"
)

// cacheRC is a ResponseCache keyed by request.uri with extra elements.
func cacheRC(extra string) string {
	return `<ResponseCache name="RC"><CacheKey><KeyFragment ref="request.uri"/></CacheKey>` +
		`<ExpirySettings><TimeoutInSeconds>60</TimeoutInSeconds></ExpirySettings>` + extra + `</ResponseCache>`
}

// cacheTargetResponse is a target response: status, headers, body.
func cacheTargetResponse(status int, body string, headers ...string) *engine.Message {
	m := engine.NewResponse()
	m.Status = status
	for i := 0; i+1 < len(headers); i += 2 {
		m.AddHeader(headers[i], headers[i+1])
	}
	m.SetContent([]byte(body))
	return m
}

// cacheLookupRC runs the request-side ResponseCache and returns the
// answered response (nil on a miss) and responsecache.RC.cachehit.
func cacheLookupRC(t *testing.T, p engine.Policy, st *store.Stores, path string, headers ...string) (*engine.Message, string) {
	t.Helper()
	r := cacheRun(st, engine.ProxyRequest, path, nil, headers...)
	err := p.Execute(r)
	var a *engine.Answered
	if errors.As(err, &a) {
		return a.Response, get(r, "responsecache.RC.cachehit")
	}
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	return nil, get(r, "responsecache.RC.cachehit")
}

// cachePopulateRC runs the request side (a miss) then the response side on
// resp in one run, as the engine does.
func cachePopulateRC(t *testing.T, p engine.Policy, st *store.Stores, path string, resp *engine.Message, headers ...string) {
	t.Helper()
	r := cacheRun(st, engine.ProxyRequest, path, resp, headers...)
	if err := p.Execute(r); err != nil {
		t.Fatalf("request side: %v", err)
	}
	r2 := cacheRun(st, engine.TargetResponse, path, resp, headers...)
	if k, ok := r.Get("responsecache.RC.cachekey"); ok {
		if err := r2.Set("responsecache.RC.cachekey", k); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Execute(r2); err != nil {
		t.Fatalf("response side: %v", err)
	}
}

func TestResponseCacheTable(t *testing.T) {
	cases := []struct {
		name    string
		extra   string
		resp    *engine.Message
		reqHdr  []string // headers of the populating request
		lookHdr []string // headers of the later lookup
		advance time.Duration
		want    string // dump of the cached answer, "" = miss
	}{
		{name: "hit replays status, headers and body", resp: cacheTargetResponse(201, "hello", "Content-Type", "text/plain", "X-A", "1", "Content-Length", "5"),
			want: "201 \nContent-Type: text/plain\nX-A: 1\n\nhello"},
		{name: "expired", resp: cacheTargetResponse(200, "x"), advance: 61 * time.Second},
		{name: "errors cached by default", resp: cacheTargetResponse(500, "boom"), want: "500 \n\nboom"},
		{name: "ExcludeErrorResponse", extra: `<ExcludeErrorResponse>true</ExcludeErrorResponse>`, resp: cacheTargetResponse(404, "no")},
		{name: "ExcludeErrorResponse keeps 2xx", extra: `<ExcludeErrorResponse>true</ExcludeErrorResponse>`, resp: cacheTargetResponse(204, ""), want: "204 \n\n"},
		{name: "SkipCachePopulation", extra: `<SkipCachePopulation>request.header.nocache = "1"</SkipCachePopulation>`, resp: cacheTargetResponse(200, "x"), reqHdr: []string{"nocache", "1"}},
		{name: "SkipCacheLookup", extra: `<SkipCacheLookup>request.header.cache-control = "no-cache"</SkipCacheLookup>`, resp: cacheTargetResponse(200, "x"), lookHdr: []string{"Cache-Control", "no-cache"}},
		{name: "UseAcceptHeader: another Accept misses", extra: `<UseAcceptHeader>true</UseAcceptHeader>`, resp: cacheTargetResponse(200, "j"), reqHdr: []string{"Accept", "application/json"}, lookHdr: []string{"Accept", "text/xml"}},
		{name: "UseAcceptHeader: same Accept hits", extra: `<UseAcceptHeader>true</UseAcceptHeader>`, resp: cacheTargetResponse(200, "j"), reqHdr: []string{"Accept", "application/json"}, lookHdr: []string{"Accept", "application/json"}, want: "200 \n\nj"},
		{name: "UseResponseCacheHeaders max-age shortens", extra: `<UseResponseCacheHeaders>true</UseResponseCacheHeaders>`, resp: cacheTargetResponse(200, "m", "Cache-Control", "public, max-age=10"), advance: 11 * time.Second},
		{name: "UseResponseCacheHeaders s-maxage wins", extra: `<UseResponseCacheHeaders>true</UseResponseCacheHeaders>`, resp: cacheTargetResponse(200, "m", "Cache-Control", "max-age=10, s-maxage=100"), advance: 50 * time.Second,
			want: "200 \nCache-Control: max-age=10, s-maxage=100\n\nm"},
		{name: "cache headers ignored without UseResponseCacheHeaders", resp: cacheTargetResponse(200, "m", "Cache-Control", "max-age=10"), advance: 50 * time.Second,
			want: "200 \nCache-Control: max-age=10\n\nm"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, clk := cacheStores(t, 0)
			p := compile(t, cacheRC(c.extra))
			cachePopulateRC(t, p, st, "/x?a=1", c.resp, c.reqHdr...)
			clk.Add(c.advance)
			m, hit := cacheLookupRC(t, p, st, "/x?a=1", c.lookHdr...)
			got := ""
			if m != nil {
				got = dump(m)
			}
			if got != c.want {
				t.Errorf("answer %q, want %q", got, c.want)
			}
			if wantHit := map[bool]string{true: "true", false: "false"}[c.want != ""]; hit != wantHit {
				t.Errorf("cachehit %s, want %s", hit, wantHit)
			}
		})
	}
}

func TestResponseCacheVariablesAndOutage(t *testing.T) {
	p := compile(t, `<ResponseCache name="RC"><CacheResource>c1</CacheResource><Scope>Application</Scope><CacheKey><KeyFragment ref="request.queryparam.a"/><KeyFragment>lit</KeyFragment></CacheKey><ExpirySettings><TimeoutInSec>5</TimeoutInSec></ExpirySettings></ResponseCache>`)
	st, _ := cacheStores(t, 0)
	r := cacheRun(st, engine.ProxyRequest, "/x?a=1", nil)
	if err := p.Execute(r); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"cachename": "c1", "cachekey": "local__test__test__1__lit", "cachehit": "false"} {
		if got := get(r, "responsecache.RC."+name); got != want {
			t.Errorf("responsecache.RC.%s = %q, want %q", name, got, want)
		}
	}
	// An entry PopulateCache wrote under the same key is not a response.
	pc := compile(t, `<PopulateCache name="PC"><CacheResource>c1</CacheResource><Scope>Application</Scope><CacheKey><KeyFragment ref="request.queryparam.a"/><KeyFragment>lit</KeyFragment></CacheKey><ExpirySettings><TimeoutInSec>5</TimeoutInSec></ExpirySettings><Source>request.header.v</Source></PopulateCache>`)
	if err := pc.Execute(cacheRun(st, engine.ProxyRequest, "/x?a=1", nil, "v", "not a response")); err != nil {
		t.Fatal(err)
	}
	r = cacheRun(st, engine.ProxyRequest, "/x?a=1", nil)
	if err := p.Execute(r); err != nil {
		t.Fatalf("invalid entry: %v", err)
	}
	if got := get(r, "responsecache.RC.invalidentry"); got != "true" {
		t.Errorf("invalidentry = %q", got)
	}
	// Store down: the lookup misses and the population is skipped.
	down := cacheDownStores()
	if m, hit := cacheLookupRC(t, p, down, "/x?a=1"); m != nil || hit != "false" {
		t.Errorf("store down: answer %v, cachehit %s", m, hit)
	}
	if err := p.Execute(cacheRun(down, engine.TargetResponse, "/x?a=1", cacheTargetResponse(200, "x"))); err != nil {
		t.Errorf("store down, populate: %v", err)
	}
	// A response above the store's bound is not cached, and is no fault.
	small, _ := cacheStores(t, 200)
	cachePopulateRC(t, p, small, "/x?a=1", cacheTargetResponse(200, strings.Repeat("b", 500)))
	if m, _ := cacheLookupRC(t, p, small, "/x?a=1"); m != nil {
		t.Errorf("oversized response was cached")
	}
}

func TestResponseCacheLoadErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{cacheRC(`<SkipCacheLookup>request.verb = </SkipCacheLookup>`), "condition"},
		{cacheRC(`<CacheLookupTimeoutInSeconds>-2</CacheLookupTimeoutInSeconds>`), "InvalidTimeout"},
		{cacheRC(`<ExcludeErrorResponse>maybe</ExcludeErrorResponse>`), "is not true or false"},
		{`<ResponseCache name="RC"><CacheKey><KeyFragment ref="request.uri"/></CacheKey></ResponseCache>`, "has no <ExpirySettings>"},
		{cacheRC(`<Whatever/>`), "unknown element <Whatever>"},
	}
	for _, c := range cases {
		if got := loadErrors(c.src); !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %q\nwant it to contain %q", c.src, got, c.want)
		}
	}
}

// cacheCountingHost answers every target call with 200 "from-target-<n>"
// and counts the calls.
type cacheCountingHost struct{ calls *atomic.Int32 }

func (h cacheCountingHost) RequestBody(context.Context) ([]byte, error) { return nil, nil }
func (h cacheCountingHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	h.calls.Add(1)
	return &flowengine.Response{Status: 200, Headers: []flowengine.Header{{Name: "content-type", Value: "text/plain"}}, CodeDetails: "via_upstream"}, nil
}
func (h cacheCountingHost) ResponseBody(context.Context) ([]byte, error) {
	return []byte("from-target"), nil
}

// TestResponseCacheInABundle attaches one ResponseCache to the proxy
// request flow and the target response flow: the second request is
// answered from the cache without calling the target, the proxy response
// flow still runs on the cached answer, and the copy is the target's
// response before the proxy PostFlow changed it.
func TestResponseCacheInABundle(t *testing.T) {
	st, _ := cacheStores(t, 0)
	dir := t.TempDir()
	files := map[string]string{
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Request><Step><Name>RC</Name></Step></Request></PreFlow>
  <PostFlow name="PostFlow"><Response><Step><Name>AM-Mark</Name></Step></Response></PostFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="t"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`,
		"targets/default.xml": `<TargetEndpoint name="default">
  <PreFlow name="PreFlow"><Response><Step><Name>RC</Name></Step></Response></PreFlow>
  <HTTPTargetConnection><URL>http://backend.example.com</URL></HTTPTargetConnection>
</TargetEndpoint>`,
		"policies/RC.xml":      cacheRC(""),
		"policies/AM-Mark.xml": `<AssignMessage name="AM-Mark"><Set><Headers><Header name="X-Hit">{responsecache.RC.cachehit}</Header></Headers></Set><Add><Headers><Header name="X-Post">1</Header></Headers></Add></AssignMessage>`,
	}
	for name, data := range files {
		p := filepath.Join(dir, "apiproxy", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, errs := engine.Load(dir, engine.Options{Name: "t", Logger: slog.New(slog.DiscardHandler), State: st})
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	var calls atomic.Int32
	run := func(path string) *flowengine.Outcome {
		return p.Run(context.Background(), &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com",
			Path: path, ID: "r", BodyKnownEmpty: true}, cacheCountingHost{calls: &calls})
	}
	first := run("/v1/items?x=1")
	// The target's own response passes through (status 0: unchanged);
	// the proxy PostFlow marks it as no hit.
	if got := answer(first); got != "|0\nx-hit: false\nx-post: 1\n\n" || calls.Load() != 1 {
		t.Fatalf("first request: %q, %d target calls", got, calls.Load())
	}
	second := run("/v1/items?x=1")
	if calls.Load() != 1 {
		t.Errorf("the cached request called the target (%d calls)", calls.Load())
	}
	if got := answer(second); got != "|200\ncontent-type: text/plain\nx-hit: true\nx-post: 1\n\nfrom-target" {
		t.Errorf("cached answer %q", got)
	}
	run("/v1/items?x=2")
	if calls.Load() != 2 {
		t.Errorf("another key: %d target calls, want 2", calls.Load())
	}
}

// TestResponseCacheCorpus compiles the corpus's ResponseCache policies and
// runs each once around a target response: a miss, then a hit.
func TestResponseCacheCorpus(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	for _, c := range []struct {
		file, path string
		skipHdr    []string // headers that make the lookup skip ("": none)
	}{
		{"aps-pagination/apiproxy/policies/ResponseCache-1.xml", "/v1/restaurants?session_id=abc", nil},
		{"devrel-data-api/apiproxy/policies/RC-response-cache.xml", "/v1/data?limit=5", []string{"cache-control", "no-cache"}},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(corpus, c.file))
			if err != nil {
				t.Fatal(err)
			}
			pol, errs := engine.TestPolicy(string(src), nil, nil)
			if len(errs) > 0 || pol == nil {
				t.Fatalf("compile: %v", errs)
			}
			name := strings.TrimSuffix(filepath.Base(c.file), ".xml")
			st, _ := cacheStores(t, 0)
			r := cacheRun(st, engine.ProxyRequest, c.path, nil)
			if err := pol.Execute(r); err != nil {
				t.Fatalf("first lookup: %v", err)
			}
			if got := get(r, "responsecache."+name+".cachehit"); got != "false" {
				t.Fatalf("first lookup cachehit %s", got)
			}
			r2 := cacheRun(st, engine.TargetResponse, c.path, cacheTargetResponse(200, "page"))
			if err := r2.Set("responsecache."+name+".cachekey", get(r, "responsecache."+name+".cachekey")); err != nil {
				t.Fatal(err)
			}
			if err := pol.Execute(r2); err != nil {
				t.Fatalf("populate: %v", err)
			}
			r3 := cacheRun(st, engine.ProxyRequest, c.path, nil)
			var a *engine.Answered
			if err := pol.Execute(r3); !errors.As(err, &a) || dump(a.Response) != "200 \n\npage" {
				t.Fatalf("second lookup: %v", err)
			}
			if c.skipHdr != nil {
				r4 := cacheRun(st, engine.ProxyRequest, c.path, nil, c.skipHdr...)
				if err := pol.Execute(r4); err != nil {
					t.Fatalf("skipped lookup answered: %v", err)
				}
			}
		})
	}
}

// BenchmarkCacheResponseCacheHit measures a request-side hit: key build,
// memory store read, decode of a 4 KiB response and the answer.
func BenchmarkCacheResponseCacheHit(b *testing.B) {
	st, _ := cacheStores(b, 0)
	p, errs := engine.TestPolicy(cacheRC(""), nil, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	r := cacheRun(st, engine.TargetResponse, "/x?a=1", cacheTargetResponse(200, strings.Repeat("z", 4096), "Content-Type", "text/plain"))
	if err := p.Execute(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := cacheRun(st, engine.ProxyRequest, "/x?a=1", nil)
		var a *engine.Answered
		if err := p.Execute(r); !errors.As(err, &a) {
			b.Fatalf("miss: %v", err)
		}
	}
}
