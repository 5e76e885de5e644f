package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"30ps", "10pm", "0ps", "99999999999999999999pm", "-1ps", "ps", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err == nil && r.Validate() != nil {
			t.Fatalf("ParseRate(%q) = %+v, which does not validate", s, r)
		}
	})
}

// FuzzProductJSON decodes arbitrary apiProducts and developerApps payloads
// through the same code as the file loader.
func FuzzProductJSON(f *testing.F) {
	f.Add(`[{"name":"p","quota":"5","quotaInterval":1,"quotaTimeUnit":"hour","apiResources":["/a/**"]}]`,
		`{"d@x":[{"name":"a","apiProducts":["p",{"apiproduct":"p","status":"revoked"}],"credentials":[{"consumerKey":"k","expiresAt":-1}]}]}`)
	f.Add(`[{"name":"p","operationGroup":{"operationConfigs":[{"apiSource":"x","operations":[{"resource":"/*"}],"quota":{"limit":1}}]}}]`, `{}`)
	f.Fuzz(func(t *testing.T, products, apps string) {
		var prods []jsonProduct
		if json.Unmarshal([]byte(products), &prods) != nil {
			return
		}
		d := &productData{developers: map[string]*Developer{"d@x": {Email: "d@x"}}, apps: map[string]*App{},
			keys: map[string]*KeyMatch{}, products: map[string]*APIProduct{}, grants: map[string][]jsonGrant{}}
		for _, j := range prods {
			pr, err := convertProduct(j)
			if err != nil {
				continue
			}
			d.products[pr.Name] = pr
			for _, r := range pr.Resources {
				MatchResource(r, "/a/b")
			}
			pr.Allows("x", "prod", "/a/b", "GET")
		}
		var a map[string][]jsonApp
		if json.Unmarshal([]byte(apps), &a) != nil {
			return
		}
		for _, list := range a {
			for _, j := range list {
				_ = d.addApp(d.developers["d@x"], j)
			}
		}
		for _, m := range d.keys {
			if len(m.Products) != len(m.Credential.Products) {
				t.Fatalf("grants and products differ: %+v", m)
			}
			_, _, _ = m.Authorize("x", "prod", "/a", "GET")
		}
	})
}

func FuzzMatchResource(f *testing.F) {
	f.Add("/a/**/feed/**", "/a/b/feed/rss/1")
	f.Add("/*", "/")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		got := MatchResource(pattern, path)
		if pattern == "/**" && !got {
			t.Fatalf("/** refused %q", path)
		}
		if strings.Trim(pattern, "/") == strings.Trim(path, "/") && !strings.Contains(pattern, "*") && pattern != "" && !got {
			t.Fatalf("literal %q refused itself", pattern)
		}
	})
}

// FuzzCalendarBounds checks start <= now < end and that the next window
// starts where this one ends, for any window and instant.
func FuzzCalendarBounds(f *testing.F) {
	f.Add(int64(1), uint8(2), int64(1_700_000_000), int64(0))
	f.Add(int64(3), uint8(6), int64(1_772_000_000), int64(1_769_860_800))
	f.Fuzz(func(t *testing.T, interval int64, unit uint8, nowSec, startSec int64) {
		w := Window{Kind: Calendar, Interval: interval, Unit: TimeUnit(unit)}
		if startSec != 0 {
			w.Start = time.Unix(startSec%(1<<33), 0).UTC()
		}
		now := time.Unix(nowSec%(1<<33), 0).UTC()
		s, e, err := w.CalendarBounds(now)
		if err != nil {
			return
		}
		if now.Before(s) || !now.Before(e) {
			t.Fatalf("%+v at %s: [%s, %s) does not hold now", w, now, s, e)
		}
		s2, _, _ := w.CalendarBounds(e)
		if !s2.Equal(e) {
			t.Fatalf("%+v: window after [%s, %s) starts at %s", w, s, e, s2)
		}
	})
}
