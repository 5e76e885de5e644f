package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMatchResource(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/", "/", true},
		{"/", "/a/b", true},
		{"/**", "/", true},
		{"/**", "/a/b/c", true},
		{"/*", "/a", true},
		{"/*", "/a/", true},
		{"/*", "/a/b", false},
		{"/*", "/", false},
		{"/a", "/a", true},
		{"/a", "/a/", true},
		{"/a", "/a/b", false},
		{"/a", "/ab", false},
		{"/a/*", "/a/b", true},
		{"/a/*", "/a/b/c", false},
		{"/a/*", "/a", false},
		{"/a/**", "/a/b", true},
		{"/a/**", "/a/b/c/d", true},
		{"/a/**", "/a", false},
		{"/*/a/*", "/x/a/b", true},
		{"/a/**/feed/**", "/a/b/feed/rss/1234", true},
		{"/a/**/feed/**", "/a/b/c/feed/rss", true},
		{"/a/**/feed/**", "/a/feed/rss", false},
		{"/a/**/feed/**", "/a/b/feed", false},
		{"/forecast/**", "", false},
		{"/current", "", false},
	}
	for _, tt := range tests {
		if got := MatchResource(tt.pattern, tt.path); got != tt.want {
			t.Errorf("MatchResource(%q, %q) = %v", tt.pattern, tt.path, got)
		}
	}
}

func loadFixture(t *testing.T, kv KV) *FileProducts {
	t.Helper()
	p, err := LoadFileProducts(context.Background(), "testdata/apigee-config", FileOptions{Org: "acme", KV: kv})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFileProductsLookupKey(t *testing.T) {
	p := loadFixture(t, nil)
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		key        string
		check      error // from Check
		proxy, env string
		path, verb string
		product    string // "" : not authorized
		quota      *Quota
	}{
		{key: "ada-key-1", proxy: "weather", env: "prod", path: "/forecast/today", verb: "GET", product: "weather-basic", quota: &Quota{100, 1, Hour}},
		{key: "ada-key-1", proxy: "weather", env: "prod", path: "/current", verb: "POST", product: "weather-basic", quota: &Quota{100, 1, Hour}},
		{key: "ada-key-1", proxy: "weather", env: "prod", path: "/history", verb: "GET"},
		{key: "ada-key-1", proxy: "weather", env: "test", path: "/current", verb: "GET"},
		{key: "ada-key-1", proxy: "maps", env: "prod", path: "/current", verb: "GET"},
		{key: "ada-key-1", proxy: "weather", env: "prod", path: "/alerts/x", verb: "GET"}, // weather-ops grant is revoked
		{key: "ops-key", proxy: "weather", env: "test", path: "/alerts/x", verb: "get", product: "weather-ops", quota: &Quota{10, 1, Minute}},
		{key: "ops-key", proxy: "weather", env: "test", path: "/alerts/x", verb: "POST"},
		{key: "ops-key", proxy: "maps", env: "prod", path: "/tiles/1/2", verb: "PUT", product: "weather-ops", quota: &Quota{1000, 1, Day}},
		{key: "ops-key", proxy: "other", env: "prod", path: "/", verb: "GET"},
		{key: "ada-key-old", check: ErrKeyExpired},
		{key: "ada-key-revoked", check: ErrKeyNotApproved},
		{key: "revoked-app-key", check: ErrAppNotApproved},
		{key: "bob-key", check: ErrDeveloperInactive},
	}
	for _, tt := range tests {
		m, err := p.LookupKey(ctx, tt.key)
		if err != nil {
			t.Fatalf("%s: %v", tt.key, err)
		}
		if err := m.Check(now); !errors.Is(err, tt.check) || (tt.check == nil && err != nil) {
			t.Errorf("%s: Check = %v, want %v", tt.key, err, tt.check)
			continue
		}
		if tt.check != nil {
			continue
		}
		pr, q, err := m.Authorize(tt.proxy, tt.env, tt.path, tt.verb)
		if tt.product == "" {
			if !errors.Is(err, ErrResourceNotAllowed) {
				t.Errorf("%s %s %s %s: authorized by %v", tt.key, tt.proxy, tt.env, tt.path, pr)
			}
			continue
		}
		if err != nil || pr.Name != tt.product || *q != *tt.quota {
			t.Errorf("%s %s %s %s: %v %+v %v, want %s %+v", tt.key, tt.proxy, tt.env, tt.path, pr, q, err, tt.product, tt.quota)
		}
	}
	if _, err := p.LookupKey(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
}

func TestFileProductsShapes(t *testing.T) {
	p := loadFixture(t, nil)
	ctx := context.Background()
	m, err := p.LookupKey(ctx, "ada-key-1")
	if err != nil {
		t.Fatal(err)
	}
	if m.Developer.Attributes["tier"] != "gold" || m.App.Attributes["team"] != "blue" || m.App.CallbackURL != "https://ada.example.com/cb" {
		t.Errorf("attributes: %+v %+v", m.Developer, m.App)
	}
	if m.Credential.ConsumerSecret != "ada-secret-1" || !m.Credential.ExpiresAt.IsZero() || len(m.App.Credentials) != 3 {
		t.Errorf("credential: %+v", m.Credential)
	}
	app, dev, err := p.LookupApp(ctx, "ADA@example.com", "ada-ops")
	if err != nil || dev.FirstName != "Ada" || len(app.Credentials) != 1 || app.Credentials[0].Products[0].Name != "weather-ops" {
		t.Fatalf("LookupApp: %+v %+v %v", app, dev, err)
	}
	if _, _, err := p.LookupApp(ctx, "ada@example.com", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown app: %v", err)
	}
	pr, err := p.Product(ctx, "weather-basic")
	if err != nil || pr.Attributes["access"] != "public" || pr.DisplayName != "Weather basic" {
		t.Fatalf("Product: %+v %v", pr, err)
	}
	if _, err := p.Product(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown product: %v", err)
	}
}

func TestFileProductsSeedKVM(t *testing.T) {
	backend := NewMemoryKV(nil)
	kv := NewCryptKV(backend)
	if err := kv.SetKey(RandomKVMKey()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prodScope := Scope{Kind: Environment, Org: "acme", Env: "prod"}
	// env/prod's settings map is declared encrypted in the fixture.
	if err := kv.DeclareEncrypted(prodScope, "settings"); err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, prodScope, "settings", "retries", "7", 0, true); err != nil {
		t.Fatal(err)
	}
	loadFixture(t, kv)
	if v, _, _ := backend.Get(ctx, prodScope, "settings", "mode"); !strings.HasPrefix(v, kvSealPrefix) {
		t.Errorf("encrypted map stored %q, want ciphertext", v)
	}
	if v, _, _ := backend.Get(ctx, Scope{Kind: Organization, Org: "acme"}, "settings", "mode"); v != "org" {
		t.Errorf("unencrypted map stored %q, want plain text", v)
	}
	tests := []struct {
		scope     Scope
		mapName   string
		key, want string
	}{
		{Scope{Kind: Organization, Org: "acme"}, "settings", "mode", "org"},
		{prodScope, "settings", "mode", "prod"},
		{prodScope, "settings", "retries", "7"}, // a seed never overwrites
		{Scope{Kind: APIProxy, Org: "acme", Proxy: "weather"}, "keys", "upstream", "u-1"},
	}
	for _, tt := range tests {
		if v, ok, err := kv.Get(ctx, tt.scope, tt.mapName, tt.key); err != nil || !ok || v != tt.want {
			t.Errorf("%+v %s/%s = %q %v %v, want %q", tt.scope, tt.mapName, tt.key, v, ok, err, tt.want)
		}
	}
}

// writeConfig writes files (path -> content) under a new directory.
func writeConfig(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		writeFile(t, filepath.Join(dir, name), body)
	}
	return dir
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	okDevs  = `[{"email": "d@x"}]`
	okProds = `[{"name": "p", "quota": "5", "quotaInterval": "1", "quotaTimeUnit": "minute"}]`
)

func TestFileProductsErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"syntax error has line and column", map[string]string{"org/developers.json": "[\n  {\"email\": \"d@x\",}\n]"}, "org/developers.json:2:"},
		{"type error has line", map[string]string{"org/developers.json": "[\n {\"email\": 5}]"}, "org/developers.json:2:"},
		{"trailing data", map[string]string{"org/developers.json": "[] []"}, "data after the JSON value"},
		{"yaml error", map[string]string{"org/developers.yaml": "- email: [unclosed"}, "org/developers.yaml"},
		{"json and yaml", map[string]string{"org/developers.json": "[]", "org/developers.yml": "[]"}, "one file per kind"},
		{"developer without email", map[string]string{"org/developers.json": `[{"firstName": "x"}]`}, "has no email"},
		{"developer twice", map[string]string{"org/developers.json": `[{"email": "d@x"}, {"email": "D@X"}]`}, "twice"},
		{"app of unknown developer", map[string]string{"org/developerApps.json": `{"who@x": [{"name": "a"}]}`}, "not in org/developers"},
		{"app with unknown product", map[string]string{"org/developers.json": okDevs,
			"org/developerApps.json": `{"d@x": [{"name": "a", "apiProducts": ["nope"]}]}`}, `"nope" is not in org/apiProducts`},
		{"credential with unknown product", map[string]string{"org/developers.json": okDevs, "org/apiProducts.json": okProds,
			"org/developerApps.json": `{"d@x": [{"name": "a", "credentials": [{"consumerKey": "k", "apiProducts": ["nope"]}]}]}`}, `"nope"`},
		{"duplicate key", map[string]string{"org/developers.json": okDevs, "org/apiProducts.json": okProds,
			"org/developerApps.json": `{"d@x": [{"name": "a", "credentials": [{"consumerKey": "k"}, {"consumerKey": "k"}]}]}`}, "consumer key used twice"},
		{"import for unknown app", map[string]string{"org/developers.json": okDevs,
			"org/importKeys.json": `{"d@x": [{"name": "ghost", "consumerKey": "k"}]}`}, "not in org/developerApps"},
		{"bad quota", map[string]string{"org/apiProducts.json": `[{"name": "p", "quota": "lots"}]`}, "quota limit"},
		{"bad time unit", map[string]string{"org/apiProducts.json": `[{"name": "p", "quota": "1", "quotaTimeUnit": "fortnight"}]`}, "fortnight"},
		{"bad resource", map[string]string{"org/apiProducts.json": `[{"name": "p", "apiResources": ["/a*"]}]`}, "whole path segment"},
		{"relative resource", map[string]string{"org/apiProducts.json": `[{"name": "p", "apiResources": ["a"]}]`}, "must start with /"},
		{"product twice", map[string]string{"org/apiProducts.json": `[{"name": "p"}, {"name": "p"}]`}, "twice"},
		{"bad expiry", map[string]string{"org/developers.json": okDevs, "org/apiProducts.json": okProds,
			"org/developerApps.json": `{"d@x": [{"name": "a", "credentials": [{"consumerKey": "k", "expiresAt": "soon"}]}]}`}, "epoch milliseconds"},
		{"KVM without name", map[string]string{"env/prod/kvms.json": `[{"entry": []}]`}, "KVM without a name"},
		{"operation config without operations", map[string]string{"org/apiProducts.json": `[{"name": "p", "operationGroup": {"operationConfigs": [{"apiSource": "x"}]}}]`}, "no operations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfig(t, tt.files)
			_, err := LoadFileProducts(context.Background(), dir, FileOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := LoadFileProducts(context.Background(), filepath.Join(t.TempDir(), "missing"), FileOptions{}); err == nil {
		t.Fatal("missing directory loaded")
	}
}

func TestFileProductsReloadKeepsLastGood(t *testing.T) {
	dir := writeConfig(t, map[string]string{"org/developers.json": okDevs, "org/apiProducts.json": okProds,
		"org/developerApps.json": `{"d@x": [{"name": "a", "apiProducts": ["p"], "credentials": [{"consumerKey": "k1"}]}]}`})
	ctx := context.Background()
	p, err := LoadFileProducts(ctx, dir, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "org/developerApps.json"), `{"d@x": [{"name": "a", "apiProducts": ["p"], "credentials": [{"consumerKey": "k1"}`)
	if err := p.Reload(ctx); err == nil {
		t.Fatal("broken file reloaded")
	}
	if p.Err() == nil {
		t.Fatal("Err() does not report the broken file")
	}
	if _, err := p.LookupKey(ctx, "k1"); err != nil {
		t.Fatalf("last good data lost: %v", err)
	}
	writeFile(t, filepath.Join(dir, "org/developerApps.json"), `{"d@x": [{"name": "a", "apiProducts": ["p"], "credentials": [{"consumerKey": "k2"}]}]}`)
	if err := p.Reload(ctx); err != nil || p.Err() != nil {
		t.Fatalf("fixed file: %v %v", err, p.Err())
	}
	if _, err := p.LookupKey(ctx, "k1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old key still there: %v", err)
	}
	if m, err := p.LookupKey(ctx, "k2"); err != nil || m.Products[0].Quota.Limit != 5 {
		t.Fatalf("new key: %+v %v", m, err)
	}
}

func TestFileProductsWatch(t *testing.T) {
	dir := writeConfig(t, map[string]string{"org/developers.json": okDevs, "org/apiProducts.json": okProds})
	reloads := make(chan error, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := LoadFileProducts(ctx, dir, FileOptions{Debounce: 50 * time.Millisecond, OnReload: func(err error) { reloads <- err }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Watch(ctx) }()
	time.Sleep(100 * time.Millisecond) // let the watcher start
	wait := func() error {
		t.Helper()
		select {
		case err := <-reloads:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("no reload after a file change")
		}
		return nil
	}
	// A new file in a new directory (editors write files several times:
	// the debounce makes one reload of the last state).
	writeFile(t, filepath.Join(dir, "org/developerApps.json"), `{"d@x": [{"name": "a", "apiProducts": ["p"]}]}`)
	writeFile(t, filepath.Join(dir, "org/importKeys.json"), `{"d@x": [{"name": "a", "consumerKey": "watched"}]}`)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.LookupKey(ctx, "watched"); err != nil {
		// the two writes may have landed in two reloads
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		if _, err := p.LookupKey(ctx, "watched"); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "org/importKeys.json"), `{broken`)
	for {
		if err := wait(); err != nil {
			break
		}
	}
	if _, err := p.LookupKey(ctx, "watched"); err != nil {
		t.Fatalf("broken file dropped the last good data: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestMatchResourceNoBlowUp: many "**" against a long path stays linear
// in each (a backtracking matcher would take O(n^k)).
func TestMatchResourceNoBlowUp(t *testing.T) {
	path := strings.Repeat("/s", 5000)
	start := time.Now()
	if MatchResource("/**/**/**/**/**/**/x", path) {
		t.Fatal("matched a path without x")
	}
	if !MatchResource("/**/**/**/**/**/**/s", path) {
		t.Fatal("did not match")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %s", d)
	}
}

// downKV fails every Put as an unavailable shared store would, until up.
type downKV struct {
	*MemoryKV
	up chan struct{}
}

func (d downKV) Put(ctx context.Context, s Scope, m, k, v string, ttl time.Duration, override bool) error {
	select {
	case <-d.up:
		return d.MemoryKV.Put(ctx, s, m, k, v, ttl, override)
	default:
		return fmt.Errorf("test: %w", ErrUnavailable)
	}
}

func TestFileProductsSeedRetry(t *testing.T) {
	old := seedRetry
	seedRetry = 50 * time.Millisecond
	defer func() { seedRetry = old }()
	down := downKV{MemoryKV: NewMemoryKV(nil), up: make(chan struct{})}
	kv := NewCryptKV(down)
	if err := kv.SetKey(RandomKVMKey()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reloads := make(chan error, 64)
	p, err := LoadFileProducts(ctx, "testdata/apigee-config", FileOptions{Org: "acme", KV: kv, OnReload: func(err error) { reloads <- err }})
	if p == nil || !errors.Is(err, ErrUnavailable) || !errors.Is(p.Err(), ErrUnavailable) {
		t.Fatalf("load with the KV down: %v, %v", p, err)
	}
	if _, err := p.LookupKey(ctx, "ada-key-1"); err != nil {
		t.Fatalf("products unusable while the KV is down: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Watch(ctx) }()
	if err := <-reloads; !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first retry: %v", err)
	}
	close(down.up)
	for err := range reloads {
		if err == nil {
			break
		}
	}
	if v, ok, _ := kv.Get(ctx, Scope{Kind: Organization, Org: "acme"}, "settings", "mode"); !ok || v != "org" {
		t.Fatalf("seed not applied after the KV came back: %q %v", v, ok)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
