package policies

import (
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// cachePopulate is a PopulateCache of request.header.v with the given
// key elements and expiry.
func cachePopulate(name, keyXML, expiry string) string {
	return `<PopulateCache name="` + name + `">` + keyXML + `<ExpirySettings>` + expiry + `</ExpirySettings><Source>request.header.v</Source></PopulateCache>`
}

// cacheLookup is a LookupCache into flow.out with the given key elements.
func cacheLookup(name, keyXML string) string {
	return `<LookupCache name="` + name + `">` + keyXML + `<AssignTo>flow.out</AssignTo></LookupCache>`
}

const cacheKeyID = `<CacheKey><KeyFragment ref="request.queryparam.id"/></CacheKey>`

func TestPopulateCacheThenLookup(t *testing.T) {
	type step struct {
		policy  string // XML
		seg     engine.Segment
		path    string
		v       string // request header v (the value PopulateCache stores)
		advance time.Duration
		hit     string // lookupcache.<policy>.cachehit after a LookupCache
		out     string // flow.out after a LookupCache
	}
	pop := cachePopulate("PC", cacheKeyID, `<TimeoutInSeconds>60</TimeoutInSeconds>`)
	look := cacheLookup("LC", cacheKeyID)
	cases := []struct {
		name  string
		steps []step
	}{
		{"hit then expiry", []step{
			{policy: pop, path: "/x?id=1", v: "one"},
			{policy: look, path: "/x?id=1", hit: "true", out: "one"},
			{policy: look, path: "/x?id=2", hit: "false", out: "<null>"},
			{policy: look, path: "/x?id=1", advance: 61 * time.Second, hit: "false", out: "<null>"},
		}},
		{"legacy TimeoutInSec with ref", []step{
			{policy: cachePopulate("PC", cacheKeyID, `<TimeoutInSec ref="request.queryparam.ttl">1</TimeoutInSec>`), path: "/x?id=1&ttl=100", v: "one"},
			{policy: look, path: "/x?id=1", advance: 50 * time.Second, hit: "true", out: "one"},
		}},
		{"named caches are apart", []step{
			{policy: cachePopulate("PC", `<CacheResource>a</CacheResource>`+cacheKeyID, `<TimeoutInSeconds>60</TimeoutInSeconds>`), path: "/x?id=1", v: "in-a"},
			{policy: cacheLookup("LC", `<CacheResource>b</CacheResource>`+cacheKeyID), path: "/x?id=1", hit: "false", out: "<null>"},
			{policy: cacheLookup("LC", `<CacheResource>a</CacheResource>`+cacheKeyID), path: "/x?id=1", hit: "true", out: "in-a"},
		}},
		{"scopes are apart; Exclusive differs between proxy and target flows", []step{
			{policy: cachePopulate("PC", `<Scope>Global</Scope>`+cacheKeyID, `<TimeoutInSeconds>60</TimeoutInSeconds>`), path: "/x?id=1", v: "g"},
			{policy: look, path: "/x?id=1", hit: "false", out: "<null>"},
			{policy: cacheLookup("LC", `<Scope>Global</Scope>`+cacheKeyID), seg: engine.TargetRequest, path: "/x?id=1", hit: "true", out: "g"},
			{policy: pop, path: "/x?id=1", v: "ex"},
			{policy: look, seg: engine.ProxyResponse, path: "/x?id=1", hit: "true", out: "ex"},
		}},
		{"a Prefix replaces the scope", []step{
			{policy: cachePopulate("PC", `<Scope>Global</Scope><CacheKey><Prefix>my</Prefix><KeyFragment>test</KeyFragment></CacheKey>`, `<TimeoutInSeconds>60</TimeoutInSeconds>`), path: "/x", v: "p"},
			{policy: cacheLookup("LC", `<Scope>Application</Scope><CacheKey><Prefix>my</Prefix><KeyFragment>test</KeyFragment></CacheKey>`), path: "/x", hit: "true", out: "p"},
		}},
		{"unset source stores nothing", []step{
			{policy: pop, path: "/x?id=1"},
			{policy: look, path: "/x?id=1", hit: "false", out: "<null>"},
		}},
		{"invalidate removes the entry", []step{
			{policy: pop, path: "/x?id=1", v: "one"},
			{policy: `<InvalidateCache name="IC">` + cacheKeyID + `<PurgeChildEntries>false</PurgeChildEntries></InvalidateCache>`, path: "/x?id=1"},
			{policy: look, path: "/x?id=1", hit: "false", out: "<null>"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, clk := cacheStores(t, 0)
			for i, s := range c.steps {
				clk.Add(s.advance)
				p := compile(t, s.policy)
				seg := s.seg
				if seg == "" {
					seg = engine.ProxyRequest
				}
				var hdr []string
				if s.v != "" {
					hdr = []string{"v", s.v}
				}
				r := cacheRun(st, seg, s.path, engine.NewResponse(), hdr...)
				if err := p.Execute(r); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if strings.HasPrefix(s.policy, "<LookupCache") {
					if got := get(r, "lookupcache.LC.cachehit"); got != s.hit {
						t.Errorf("step %d: cachehit %s, want %s", i, got, s.hit)
					}
					if got := get(r, "flow.out"); got != s.out {
						t.Errorf("step %d: flow.out %q, want %q", i, got, s.out)
					}
				}
			}
		})
	}
}

func TestPopulateCacheFaultsAndOutage(t *testing.T) {
	pop := compile(t, cachePopulate("PC", cacheKeyID, `<TimeoutInSeconds>60</TimeoutInSeconds>`))
	st, _ := cacheStores(t, 64)
	r := cacheRun(st, engine.ProxyRequest, "/x?id=1", nil, "v", strings.Repeat("x", 100))
	want := "EntryCannotBeCached|steps.cache.EntryCannotBeCached|500|Entry for PC cannot be cached: it exceeds the cache size limit"
	if got := faultOf(pop.Execute(r)); got != want {
		t.Errorf("too large: %q, want %q", got, want)
	}
	r = cacheRun(cacheDownStores(), engine.ProxyRequest, "/x?id=1", nil, "v", "x")
	if err := pop.Execute(r); err != nil {
		t.Errorf("store down: %v, want the population skipped", err)
	}
}

func TestPopulateCacheLoadErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`<PopulateCache name="P"><CacheKey><KeyFragment>a</KeyFragment></CacheKey><ExpirySettings><TimeoutInSeconds>1</TimeoutInSeconds></ExpirySettings></PopulateCache>`, "has no <Source>"},
		{`<PopulateCache name="P"><ExpirySettings><TimeoutInSeconds>1</TimeoutInSeconds></ExpirySettings><Source>a</Source></PopulateCache>`, "has no <CacheKey>"},
		{`<PopulateCache name="P"><CacheKey><KeyFragment>a</KeyFragment></CacheKey><Source>a</Source></PopulateCache>`, "has no <ExpirySettings>"},
		{`<PopulateCache name="P"><CacheKey><KeyFragment>a</KeyFragment></CacheKey><ExpirySettings><ExpiryDate/></ExpirySettings><Source>a</Source></PopulateCache>`, "needs TimeoutInSeconds, ExpiryDate or TimeOfDay"},
		{`<PopulateCache name="P"><CacheKey><KeyFragment>a</KeyFragment></CacheKey><ExpirySettings><TimeoutInSeconds>1</TimeoutInSeconds><TimeOfDay>10:00:00</TimeOfDay></ExpirySettings><Source>a</Source></PopulateCache>`, "more than one of"},
		{`<PopulateCache name="P"><CacheKey><KeyFragment>a</KeyFragment></CacheKey><ExpirySettings><TimeoutInSeconds>soon</TimeoutInSeconds></ExpirySettings><Source>a</Source></PopulateCache>`, "want a whole number of seconds"},
		{`<PopulateCache name="P"><Scope>Org</Scope><CacheKey><KeyFragment>a</KeyFragment></CacheKey><ExpirySettings><TimeoutInSeconds>1</TimeoutInSeconds></ExpirySettings><Source>a</Source></PopulateCache>`, "<Scope> \"Org\""},
		{`<PopulateCache name="P"><CacheKey><KeyFragment/></CacheKey><ExpirySettings><TimeoutInSeconds>1</TimeoutInSeconds></ExpirySettings><Source>a</Source></PopulateCache>`, "needs ref= or a value"},
		{`<PopulateCache name="P"><CacheKey><Prefix>p</Prefix></CacheKey><ExpirySettings><TimeoutInSeconds>1</TimeoutInSeconds></ExpirySettings><Source>a</Source></PopulateCache>`, "has no <KeyFragment>"},
		{`<PopulateCache name="P"><Cache/><CacheKey><KeyFragment>a</KeyFragment></CacheKey><ExpirySettings><TimeoutInSeconds>1</TimeoutInSeconds></ExpirySettings><Source>a</Source></PopulateCache>`, "unknown element <Cache>"},
	}
	for _, c := range cases {
		if got := loadErrors(c.src); !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %q\nwant it to contain %q", c.src, got, c.want)
		}
	}
}
