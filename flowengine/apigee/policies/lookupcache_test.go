package policies

import (
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func TestLookupCacheMissCases(t *testing.T) {
	cases := []struct {
		name string
		run  func() *engine.Run
	}{
		{"store unavailable is a miss", func() *engine.Run {
			return cacheRun(cacheDownStores(), engine.ProxyRequest, "/x?id=1", nil)
		}},
		{"empty store is a miss", func() *engine.Run {
			st, _ := cacheStores(t, 0)
			return cacheRun(st, engine.ProxyRequest, "/x?id=1", nil)
		}},
	}
	p := compile(t, `<LookupCache name="LC">`+cacheKeyID+`<CacheLookupTimeoutInSeconds>2</CacheLookupTimeoutInSeconds><AssignTo>flow.out</AssignTo></LookupCache>`)
	for _, c := range cases {
		r := c.run()
		if err := r.Set("flow.out", "before"); err != nil {
			t.Fatal(err)
		}
		if err := p.Execute(r); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if got := get(r, "lookupcache.LC.cachehit"); got != "false" {
			t.Errorf("%s: cachehit %s", c.name, got)
		}
		if got := get(r, "flow.out"); got != "before" {
			t.Errorf("%s: AssignTo changed to %q", c.name, got)
		}
	}
}

func TestLookupCacheLoadErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`<LookupCache name="L">` + cacheKeyID + `</LookupCache>`, "has no <AssignTo>"},
		{`<LookupCache name="L">` + cacheKeyID + `<CacheLookupTimeoutInSeconds>-1</CacheLookupTimeoutInSeconds><AssignTo>a</AssignTo></LookupCache>`, "InvalidTimeout"},
		{`<LookupCache name="L"><AssignTo>a</AssignTo></LookupCache>`, "has no <CacheKey>"},
	}
	for _, c := range cases {
		if got := loadErrors(c.src); !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %q\nwant it to contain %q", c.src, got, c.want)
		}
	}
}
