package policies

import (
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func TestInvalidateCache(t *testing.T) {
	ic := compile(t, `<InvalidateCache name="IC"><CacheResource>c</CacheResource>`+cacheKeyID+`</InvalidateCache>`)
	if err := ic.Execute(cacheRun(cacheDownStores(), engine.ProxyRequest, "/x?id=1", nil)); err != nil {
		t.Errorf("store down: %v, want the invalidation skipped", err)
	}
	st, _ := cacheStores(t, 0)
	pop := compile(t, cachePopulate("PC", `<CacheResource>c</CacheResource>`+cacheKeyID, `<TimeoutInSeconds>60</TimeoutInSeconds>`))
	look := compile(t, cacheLookup("LC", `<CacheResource>c</CacheResource>`+cacheKeyID))
	for _, id := range []string{"1", "2"} {
		if err := pop.Execute(cacheRun(st, engine.ProxyRequest, "/x?id="+id, nil, "v", "val"+id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ic.Execute(cacheRun(st, engine.ProxyRequest, "/x?id=1", nil)); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"1": "false", "2": "true"} {
		r := cacheRun(st, engine.ProxyRequest, "/x?id="+id, nil)
		if err := look.Execute(r); err != nil {
			t.Fatal(err)
		}
		if got := get(r, "lookupcache.LC.cachehit"); got != want {
			t.Errorf("id %s after invalidating id 1: cachehit %s, want %s", id, got, want)
		}
	}
}

func TestInvalidateCacheLoadErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`<InvalidateCache name="I">` + cacheKeyID + `<PurgeChildEntries>true</PurgeChildEntries></InvalidateCache>`, "PurgeChildEntries>true is not supported"},
		{`<InvalidateCache name="I">` + cacheKeyID + `<CacheContext/></InvalidateCache>`, "unknown element <CacheContext>"},
		{`<InvalidateCache name="I"/>`, "has no <CacheKey>"},
	}
	for _, c := range cases {
		if got := loadErrors(c.src); !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %q\nwant it to contain %q", c.src, got, c.want)
		}
	}
}
