package policies

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// TestCachePoliciesOnRedis runs the cache policies on a real Redis: a
// PopulateCache/LookupCache round trip, InvalidateCache, a ResponseCache
// hit, the per-entry bound, and the outage after the server stops (lookups
// miss, populations are skipped, nothing fails).
func TestCachePoliciesOnRedis(t *testing.T) {
	url := quotaRedisURL(t)
	st, err := store.OpenConfig(context.Background(), store.Config{URL: url, Prefix: "cachetest:", CacheBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pop := compile(t, cachePopulate("PC", cacheKeyID, `<TimeoutInSeconds>60</TimeoutInSeconds>`))
	look := compile(t, cacheLookup("LC", cacheKeyID))
	inv := compile(t, `<InvalidateCache name="IC">`+cacheKeyID+`</InvalidateCache>`)
	lookup := func(s *store.Stores) (string, string) {
		r := cacheRun(s, engine.ProxyRequest, "/x?id=1", nil)
		if err := look.Execute(r); err != nil {
			t.Fatalf("lookup: %v", err)
		}
		return get(r, "lookupcache.LC.cachehit"), get(r, "flow.out")
	}
	if err := pop.Execute(cacheRun(st, engine.ProxyRequest, "/x?id=1", nil, "v", "on-redis")); err != nil {
		t.Fatal(err)
	}
	if hit, out := lookup(st); hit != "true" || out != "on-redis" {
		t.Errorf("after populate: cachehit %s, flow.out %q", hit, out)
	}
	if err := inv.Execute(cacheRun(st, engine.ProxyRequest, "/x?id=1", nil)); err != nil {
		t.Fatal(err)
	}
	if hit, _ := lookup(st); hit != "false" {
		t.Errorf("after invalidate: cachehit %s", hit)
	}
	big := cacheRun(st, engine.ProxyRequest, "/x?id=1", nil, "v", strings.Repeat("x", 5000))
	if got := faultOf(pop.Execute(big)); !strings.HasPrefix(got, "EntryCannotBeCached|steps.cache.EntryCannotBeCached|500|") {
		t.Errorf("entry above CacheBytes: %q", got)
	}

	rc := compile(t, cacheRC(""))
	cachePopulateRC(t, rc, st, "/r", cacheTargetResponse(200, "cached on redis", "Content-Type", "text/plain"))
	if m, hit := cacheLookupRC(t, rc, st, "/r"); m == nil || hit != "true" || dump(m) != "200 \nContent-Type: text/plain\n\ncached on redis" {
		t.Errorf("ResponseCache on Redis: hit %s, answer %q", hit, dump(m))
	}

	// Stop answering: close the client, so every operation fails as an
	// outage does (store.ErrUnavailable).
	down, err := store.OpenConfig(context.Background(), store.Config{URL: url, Prefix: "cachetest:"})
	if err != nil {
		t.Fatal(err)
	}
	_ = down.Close()
	if _, _, err := down.Cache.Get(context.Background(), "k"); !errors.Is(err, store.ErrUnavailable) {
		t.Skipf("a closed Redis client does not report store.ErrUnavailable (%v); outage covered by cacheDown tests", err)
	}
	if hit, _ := lookup(down); hit != "false" {
		t.Errorf("outage lookup: cachehit %s", hit)
	}
	if err := pop.Execute(cacheRun(down, engine.ProxyRequest, "/x?id=1", nil, "v", "x")); err != nil {
		t.Errorf("outage populate: %v", err)
	}
	if m, hit := cacheLookupRC(t, rc, down, "/r"); m != nil || hit != "false" {
		t.Errorf("outage ResponseCache lookup: hit %s", hit)
	}
}
