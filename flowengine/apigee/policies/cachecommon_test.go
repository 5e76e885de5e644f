package policies

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// cacheClock is a settable clock for the cache store.
type cacheClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *cacheClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *cacheClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cacheStores returns fresh memory stores bounded to cacheBytes (0: the
// default) on a fake clock.
func cacheStores(t testing.TB, cacheBytes int64) (*store.Stores, *cacheClock) {
	t.Helper()
	clk := &cacheClock{t: time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC)}
	st, err := store.OpenConfig(context.Background(), store.Config{Now: clk.Now, CacheBytes: cacheBytes})
	if err != nil {
		t.Fatal(err)
	}
	return st, clk
}

// cacheRun is a TestRun in seg on the state stores st.
func cacheRun(st *store.Stores, seg engine.Segment, path string, resp *engine.Message, headers ...string) *engine.Run {
	r := newRun(seg, "GET", path, "", resp, headers...)
	r.SetTestState(st)
	return r
}

// cacheDown is a cache store whose every operation fails as an
// unreachable Redis does.
type cacheDown struct{}

func (cacheDown) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, store.ErrUnavailable
}
func (cacheDown) Set(context.Context, string, []byte, time.Duration) error {
	return store.ErrUnavailable
}
func (cacheDown) Delete(context.Context, string) error { return store.ErrUnavailable }

// cacheDownStores are state stores whose cache is unreachable.
func cacheDownStores() *store.Stores {
	s := store.MemoryStores()
	return &store.Stores{Counter: s.Counter, Rate: s.Rate, KV: s.KV, Cache: cacheDown{}, Tokens: s.Tokens}
}

func TestCacheExpiryParse(t *testing.T) {
	now := time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		kind cacheExpiryKind
		in   string
		want time.Duration
		err  bool
	}{
		{cacheExpiryTimeout, "300", 300 * time.Second, false},
		{cacheExpiryTimeout, " 0 ", 0, false},
		{cacheExpiryTimeout, "-1", 0, true},
		{cacheExpiryTimeout, "5m", 0, true},
		{cacheExpiryDate, "01-08-2026", 14 * time.Hour, false},
		{cacheExpiryDate, "2026-01-08", 0, true},
		{cacheExpiryTimeOfDay, "12:30:00", 2*time.Hour + 30*time.Minute, false},
		{cacheExpiryTimeOfDay, "09:00:00", 23 * time.Hour, false}, // tomorrow
		{cacheExpiryTimeOfDay, "10:00:00", 24 * time.Hour, false}, // now: tomorrow
		{cacheExpiryTimeOfDay, "25:00:00", 0, true},
	}
	for _, c := range cases {
		got, err := cacheExpiry{kind: c.kind}.parse(c.in, now)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("parse(%d, %q) = %v, %v; want %v, err %v", c.kind, c.in, got, err, c.want, c.err)
		}
		if err != nil && !errors.Is(err, errCacheExpiry) {
			t.Errorf("parse(%q): error %v does not wrap errCacheExpiry", c.in, err)
		}
	}
}

func TestCacheStoreKeySeparatesResources(t *testing.T) {
	a := (&cacheKeyDef{resource: "a"}).storeKey("b__c")
	b := (&cacheKeyDef{resource: "a:b"}).storeKey("_c")
	if a == b {
		t.Errorf("store keys of different caches collide: %q", a)
	}
}

// FuzzCacheExpiryParse: any ExpirySettings value parses to a duration or
// errCacheExpiry, never panics, and a timeout is never negative.
func FuzzCacheExpiryParse(f *testing.F) {
	for _, s := range []string{"300", "-1", "01-08-2026", "12:30:00", "99:99:99", "", "1e9", "12-31-9999"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []cacheExpiryKind{cacheExpiryTimeout, cacheExpiryDate, cacheExpiryTimeOfDay} {
			d, err := cacheExpiry{kind: k}.parse(s, now)
			if err != nil && !errors.Is(err, errCacheExpiry) {
				t.Fatalf("parse(%d, %q): unexpected error %v", k, s, err)
			}
			if err == nil && k != cacheExpiryDate && d < 0 {
				t.Fatalf("parse(%d, %q) = %v < 0", k, s, d)
			}
		}
	})
}
