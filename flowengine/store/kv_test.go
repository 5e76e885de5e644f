package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestScopePath(t *testing.T) {
	tests := []struct {
		s    Scope
		want string
	}{
		{Scope{Kind: Organization, Org: "acme"}, "o/acme"},
		{Scope{Kind: Organization}, "o/"},
		{Scope{Kind: Environment, Org: "acme", Env: "prod"}, "o/acme/e/prod"},
		{Scope{Kind: APIProxy, Org: "acme", Env: "prod", Proxy: "weather"}, "o/acme/p/weather"},
		{Scope{Kind: Policy, Org: "acme", Proxy: "weather", Policy: "KVM-1"}, "o/acme/p/weather/x/KVM-1"},
		{Scope{Kind: Environment, Org: "a/b", Env: "p/q"}, "o/a%2Fb/e/p%2Fq"},
		{Scope{Kind: Environment, Org: "acme"}, ""},
		{Scope{Kind: APIProxy, Org: "acme"}, ""},
		{Scope{Kind: Policy, Org: "acme", Proxy: "p"}, ""},
		{Scope{Kind: 9}, ""},
	}
	for _, tt := range tests {
		got, err := tt.s.Path()
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v: %q, %v; want ErrInvalid", tt.s, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v: %q, %v; want %q", tt.s, got, err, tt.want)
		}
	}
}

func TestParseScopeKind(t *testing.T) {
	for in, want := range map[string]ScopeKind{"organization": Organization, "Environment": Environment, "apiproxy": APIProxy, " policy": Policy} {
		if got, err := ParseScopeKind(in); err != nil || got != want {
			t.Errorf("ParseScopeKind(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseScopeKind("proxy"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseScopeKind(proxy): %v", err)
	}
}

func TestKV(t *testing.T) {
	env := Scope{Kind: Environment, Org: "acme", Env: "prod"}
	test := Scope{Kind: Environment, Org: "acme", Env: "test"}
	type step struct {
		advance  time.Duration
		op       string // get, put, putnx, del
		scope    Scope
		key, val string
		ttl      time.Duration
		found    bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"put get delete", []step{
			{op: "get", scope: env, key: "k"},
			{op: "put", scope: env, key: "k", val: "v1"},
			{op: "get", scope: env, key: "k", val: "v1", found: true},
			{op: "del", scope: env, key: "k"},
			{op: "get", scope: env, key: "k"},
			{op: "del", scope: env, key: "missing"},
		}},
		{"override false keeps the old value", []step{
			{op: "put", scope: env, key: "k", val: "v1"},
			{op: "putnx", scope: env, key: "k", val: "v2"},
			{op: "get", scope: env, key: "k", val: "v1", found: true},
			{op: "put", scope: env, key: "k", val: "v3"},
			{op: "get", scope: env, key: "k", val: "v3", found: true},
			{op: "putnx", scope: env, key: "new", val: "n"},
			{op: "get", scope: env, key: "new", val: "n", found: true},
		}},
		{"scopes are separate", []step{
			{op: "put", scope: env, key: "k", val: "prod"},
			{op: "get", scope: test, key: "k"},
			{op: "put", scope: test, key: "k", val: "test"},
			{op: "get", scope: env, key: "k", val: "prod", found: true},
		}},
		{"ttl", []step{
			{op: "put", scope: env, key: "k", val: "v", ttl: 10 * time.Second},
			{advance: 9 * time.Second, op: "get", scope: env, key: "k", val: "v", found: true},
			{op: "putnx", scope: env, key: "k", val: "w"},
			{op: "get", scope: env, key: "k", val: "v", found: true},
			{op: "put", scope: env, key: "k", val: "", ttl: 0},
			{op: "get", scope: env, key: "k", val: "", found: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, clk *fakeClock, _ Counter, _ RateLimiter, kv KV, _ Tokens) {
				ctx := context.Background()
				for i, s := range tt.steps {
					clk.add(s.advance)
					var err error
					switch s.op {
					case "get":
						var v string
						var ok bool
						v, ok, err = kv.Get(ctx, s.scope, "m", s.key)
						if err == nil && (v != s.val || ok != s.found) {
							t.Fatalf("step %d get: %q %v, want %q %v", i, v, ok, s.val, s.found)
						}
					case "put", "putnx":
						err = kv.Put(ctx, s.scope, "m", s.key, s.val, s.ttl, s.op == "put")
					case "del":
						err = kv.Delete(ctx, s.scope, "m", s.key)
					}
					if err != nil {
						t.Fatalf("step %d %s: %v", i, s.op, err)
					}
				}
			})
		})
	}
}

// TestKVTTLExpires uses real time: Redis expires keys on its own clock.
func TestKVTTLExpires(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			_, _, kv, _ := b.open(t, nil)
			s := Scope{Kind: Organization, Org: "o"}
			ctx := context.Background()
			if err := kv.Put(ctx, s, "m", "k", "v", 50*time.Millisecond, true); err != nil {
				t.Fatal(err)
			}
			time.Sleep(120 * time.Millisecond)
			if _, ok, err := kv.Get(ctx, s, "m", "k"); err != nil || ok {
				t.Fatalf("after ttl: %v %v", ok, err)
			}
			if err := kv.Put(ctx, s, "m", "k", "again", 0, false); err != nil {
				t.Fatal(err)
			}
			if v, ok, err := kv.Get(ctx, s, "m", "k"); err != nil || !ok || v != "again" {
				t.Fatalf("put over an expired entry: %q %v %v", v, ok, err)
			}
		})
	}
}

func TestKVInvalid(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ *fakeClock, _ Counter, _ RateLimiter, kv KV, _ Tokens) {
		ctx := context.Background()
		bad := Scope{Kind: Environment, Org: "acme"}
		good := Scope{Kind: Organization, Org: "acme"}
		if _, _, err := kv.Get(ctx, bad, "m", "k"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Get: %v", err)
		}
		if err := kv.Put(ctx, bad, "m", "k", "v", 0, true); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put: %v", err)
		}
		if err := kv.Delete(ctx, good, "", "k"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Delete without map: %v", err)
		}
	})
}
