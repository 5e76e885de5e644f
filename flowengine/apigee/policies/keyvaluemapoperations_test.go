package policies

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
	corpusdir "github.com/flowproc/flowproc/internal/corpus"
)

// The scopes a TestRun resolves to: deployment defaults (organization
// "local", environment "test"), proxy "test".
var (
	kvmEnv   = store.Scope{Kind: store.Environment, Org: "local", Env: "test"}
	kvmOrg   = store.Scope{Kind: store.Organization, Org: "local"}
	kvmProxy = store.Scope{Kind: store.APIProxy, Org: "local", Proxy: "test"}
)

func kvmPolicyScope(policy string) store.Scope {
	return store.Scope{Kind: store.Policy, Org: "local", Proxy: "test", Policy: policy}
}

// kvmEntry names one stored entry for setup and checks.
type kvmStored struct {
	scope      store.Scope
	mapName    string
	key, value string // value "" in checks: must be absent
}

type kvmCase struct {
	name    string
	policy  string
	loadErr string
	store   []kvmStored       // entries before the run
	vars    map[string]string // variables set before the run
	want    map[string]string // variables after ("<unset>": absent)
	after   []kvmStored       // entries after the run
	fault   string            // fault code
	kv      store.KV          // replaces the fresh memory KV
}

// kvmFreshStores returns isolated memory stores.
func kvmFreshStores(t *testing.T) *store.Stores {
	t.Helper()
	st, err := store.OpenConfig(context.Background(), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetKVMKey(st, store.RandomKVMKey()); err != nil {
		t.Fatal(err)
	}
	return st
}

// kvmRun compiles c.policy, runs it once on a fresh store and checks c.
func kvmRun(t *testing.T, c kvmCase) {
	t.Helper()
	pol, errs := engine.TestPolicy(c.policy, nil, nil)
	if c.loadErr != "" {
		if len(errs) == 0 || !strings.Contains(errs.Error(), c.loadErr) {
			t.Fatalf("load errors %v, want %q", errs, c.loadErr)
		}
		return
	}
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	ctx := context.Background()
	st := kvmFreshStores(t)
	if c.kv != nil {
		st.KV = c.kv
	}
	for _, e := range c.store {
		if err := st.KV.Put(ctx, e.scope, e.mapName, e.key, e.value, 0, true); err != nil {
			t.Fatal(err)
		}
	}
	r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
	r.SetTestState(st)
	for n, v := range c.vars {
		if err := r.Set(n, v); err != nil {
			t.Fatal(err)
		}
	}
	err := pol.Execute(r)
	if got := kvmFaultCode(err); got != c.fault {
		t.Fatalf("fault %q (%v), want %q", got, err, c.fault)
	}
	for n, want := range c.want {
		got, ok := r.Get(n)
		if want == unset {
			if ok {
				t.Errorf("%s = %q, want unset", n, got)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("%s = %q (set %v), want %q", n, got, ok, want)
		}
	}
	for _, e := range c.after {
		got, found, err := st.KV.Get(ctx, e.scope, e.mapName, e.key)
		if err != nil {
			t.Fatal(err)
		}
		if e.value == "" && found {
			t.Errorf("%s/%s/%s = %q, want absent", e.scope.Kind, e.mapName, e.key, got)
		}
		if e.value != "" && got != e.value {
			t.Errorf("%s/%s/%s = %q (found %v), want %q", e.scope.Kind, e.mapName, e.key, got, found, e.value)
		}
	}
}

func kvmFaultCode(err error) string {
	if err == nil {
		return ""
	}
	var f *engine.Fault
	if errors.As(err, &f) {
		return f.Code
	}
	return "error: " + err.Error()
}

// kvmDownKV is a KV whose backend is unreachable.
type kvmDownKV struct{}

func (*kvmDownKV) Get(context.Context, store.Scope, string, string) (string, bool, error) {
	return "", false, fmt.Errorf("dial tcp: refused: %w", store.ErrUnavailable)
}
func (*kvmDownKV) Put(context.Context, store.Scope, string, string, string, time.Duration, bool) error {
	return fmt.Errorf("dial tcp: refused: %w", store.ErrUnavailable)
}
func (*kvmDownKV) Delete(context.Context, store.Scope, string, string) error {
	return fmt.Errorf("dial tcp: refused: %w", store.ErrUnavailable)
}

func TestKeyValueMapOperations(t *testing.T) {
	cases := []kvmCase{
		{name: "get literal key, environment scope by default",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="jwt-keys"><Get assignTo="pub"><Key><Parameter>rsa_publickey</Parameter></Key></Get></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "jwt-keys", "rsa_publickey", "PEM"}},
			want:   map[string]string{"pub": "PEM"}},
		{name: "composite key joined with __",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="routes"><Scope>environment</Scope>
  <Get assignTo="target" index="1"><Key><Parameter>targeturl</Parameter><Parameter ref="apiproxy.name"/><Parameter ref="tier"/></Key></Get></KeyValueMapOperations>`,
			store: []kvmStored{{kvmEnv, "routes", "targeturl__test__gold", "https://gold"}},
			vars:  map[string]string{"tier": "gold"},
			want:  map[string]string{"target": "https://gold"}},
		{name: "get of a missing key leaves assignTo untouched",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="out"><Key><Parameter>nope</Parameter></Key></Get>
  <Get assignTo="unset.out"><Key><Parameter>nope</Parameter></Key></Get></KeyValueMapOperations>`,
			vars: map[string]string{"out": "before"},
			want: map[string]string{"out": "before", "unset.out": unset}},
		{name: "unresolved key ref skips the get",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="out"><Key><Parameter ref="no.such.var"/></Key></Get></KeyValueMapOperations>`,
			want:   map[string]string{"out": unset}},
		{name: "ref falls back to the literal",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="out"><Key><Parameter ref="no.such.var">dflt</Parameter></Key></Get></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "m", "dflt", "v"}},
			want:   map[string]string{"out": "v"}},
		{name: "private assignTo",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="secrets"><Get assignTo="private.key"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "secrets", "k", "s3cret"}},
			want:   map[string]string{"private.key": "s3cret"}},
		{name: "put override=false keeps the entry, Put is the default",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Put><Key><Parameter>a</Parameter></Key><Value>new</Value></Put>
  <Put><Key><Parameter>b</Parameter></Key><Value>new</Value></Put></KeyValueMapOperations>`,
			store: []kvmStored{{kvmEnv, "m", "a", "old"}},
			after: []kvmStored{{kvmEnv, "m", "a", "old"}, {kvmEnv, "m", "b", "new"}}},
		{name: "put override=true with a ref value, then get in the same policy",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Put override="true"><Key><Parameter ref="request.verb"/></Key><Value ref="v"/></Put>
  <Get assignTo="out"><Key><Parameter>GET</Parameter></Key></Get></KeyValueMapOperations>`,
			store: []kvmStored{{kvmEnv, "m", "GET", "old"}},
			vars:  map[string]string{"v": "fresh"},
			want:  map[string]string{"out": "fresh"},
			after: []kvmStored{{kvmEnv, "m", "GET", "fresh"}}},
		{name: "put with an unresolved value ref is skipped",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Put override="true"><Key><Parameter>a</Parameter></Key><Value ref="nothing"/></Put></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "m", "a", "old"}},
			after:  []kvmStored{{kvmEnv, "m", "a", "old"}}},
		{name: "delete",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Delete><Key><Parameter>a</Parameter><Parameter>b</Parameter></Key></Delete></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "m", "a__b", "x"}, {kvmEnv, "m", "a", "y"}},
			after:  []kvmStored{{kvmEnv, "m", "a__b", ""}, {kvmEnv, "m", "a", "y"}}},
		{name: "organization scope",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Scope>organization</Scope><Put><Key><Parameter>k</Parameter></Key><Value>o</Value></Put></KeyValueMapOperations>`,
			after:  []kvmStored{{kvmOrg, "m", "k", "o"}, {kvmEnv, "m", "k", ""}}},
		{name: "apiproxy scope uses the proxy name",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Scope>apiproxy</Scope><Put><Key><Parameter>k</Parameter></Key><Value>p</Value></Put></KeyValueMapOperations>`,
			after:  []kvmStored{{kvmProxy, "m", "k", "p"}, {kvmEnv, "m", "k", ""}}},
		{name: "policy scope uses the policy name",
			policy: `<KeyValueMapOperations name="KVM-Own" mapIdentifier="m"><Scope>policy</Scope><Put><Key><Parameter>k</Parameter></Key><Value>x</Value></Put></KeyValueMapOperations>`,
			after:  []kvmStored{{kvmPolicyScope("KVM-Own"), "m", "k", "x"}, {kvmProxy, "m", "k", ""}}},
		{name: "Apigee X MapName literal",
			policy: `<KeyValueMapOperations name="K"><MapName>foo</MapName><Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "foo", "k", "v"}},
			want:   map[string]string{"out": "v"}},
		{name: "Apigee X MapName ref",
			policy: `<KeyValueMapOperations name="K"><MapName ref="which">fallback</MapName><Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "chosen", "k", "c"}, {kvmEnv, "fallback", "k", "f"}},
			vars:   map[string]string{"which": "chosen"},
			want:   map[string]string{"out": "c"}},
		{name: "no map name: Edge's kvmap",
			policy: `<KeyValueMapOperations name="K"><Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "kvmap", "k", "d"}},
			want:   map[string]string{"out": "d"}},
		{name: "empty mapIdentifier faults at run time",
			policy: `<KeyValueMapOperations name="K" mapIdentifier=""><Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
			fault:  "Internal Server Error"},
		{name: "MapName ref resolving to empty faults",
			policy: `<KeyValueMapOperations name="K"><MapName ref="which"/><Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
			vars:   map[string]string{"which": ""},
			fault:  "Internal Server Error"},
		{name: "initial entries never override",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><InitialEntries>
  <Entry><Key><Parameter>a</Parameter></Key><Value>seed-a</Value></Entry>
  <Entry><Key><Parameter>b</Parameter><Parameter>c</Parameter></Key><Value>seed-bc</Value></Entry></InitialEntries>
  <Get assignTo="out"><Key><Parameter>b</Parameter><Parameter>c</Parameter></Key></Get></KeyValueMapOperations>`,
			store: []kvmStored{{kvmEnv, "m", "a", "runtime"}},
			want:  map[string]string{"out": "seed-bc"},
			after: []kvmStored{{kvmEnv, "m", "a", "runtime"}, {kvmEnv, "m", "b__c", "seed-bc"}}},
		{name: "store unavailable fails closed",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
			kv:     &kvmDownKV{},
			fault:  "steps.keyvaluemapoperations.ExecutionFailed"},
		{name: "store unavailable on put fails closed",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Put><Key><Parameter>k</Parameter></Key><Value>v</Value></Put></KeyValueMapOperations>`,
			kv:     &kvmDownKV{},
			fault:  "steps.keyvaluemapoperations.ExecutionFailed"},
		{name: "assignTo a read-only variable",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="proxy.pathsuffix"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
			store:  []kvmStored{{kvmEnv, "m", "k", "v"}},
			fault:  "steps.keyvaluemapoperations.SetVariableFailed"},
		{name: "accepted settings",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m" async="false" continueOnError="false" enabled="true"><DisplayName>K</DisplayName><Properties/>
  <ExclusiveCache>false</ExclusiveCache><ExpiryTimeInSecs>-1</ExpiryTimeInSecs><Delete><Key><Parameter>k</Parameter></Key></Delete></KeyValueMapOperations>`},

		{name: "index 0", loadErr: "Invalid index 0 in KeyValueMapStepDefinition K",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="o" index="0"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`},
		{name: "index 2 (multi-value)", loadErr: "one value per key",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="o" index="2"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`},
		{name: "get without assignTo", loadErr: "needs assignTo",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Get><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`},
		{name: "put without value", loadErr: "ValueIsMissing",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Put><Key><Parameter>k</Parameter></Key></Put></KeyValueMapOperations>`},
		{name: "put with two values", loadErr: "several <Value>s",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Put><Key><Parameter>k</Parameter></Key><Value>a</Value><Value>b</Value></Put></KeyValueMapOperations>`},
		{name: "delete without key", loadErr: "KeyIsMissing",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Delete/></KeyValueMapOperations>`},
		{name: "key without parameter", loadErr: "KeyIsMissing",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Delete><Key/></Delete></KeyValueMapOperations>`},
		{name: "bad scope", loadErr: "<Scope> \"revision\"",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Scope>revision</Scope><Delete><Key><Parameter>k</Parameter></Key></Delete></KeyValueMapOperations>`},
		{name: "no operation", loadErr: "has no <Get>, <Put> or <Delete>",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Scope>environment</Scope></KeyValueMapOperations>`},
		{name: "bad expiry", loadErr: "<ExpiryTimeInSecs>",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><ExpiryTimeInSecs>soon</ExpiryTimeInSecs><Delete><Key><Parameter>k</Parameter></Key></Delete></KeyValueMapOperations>`},
		{name: "unknown element", loadErr: "unknown element <Purge>",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Purge/><Delete><Key><Parameter>k</Parameter></Key></Delete></KeyValueMapOperations>`},
		{name: "mapIdentifier and MapName", loadErr: "both mapIdentifier and <MapName>",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><MapName>n</MapName><Delete><Key><Parameter>k</Parameter></Key></Delete></KeyValueMapOperations>`},
		{name: "initial entry with a ref key", loadErr: "keys are literals",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><InitialEntries><Entry><Key><Parameter ref="x"/></Key><Value>v</Value></Entry></InitialEntries>
  <Delete><Key><Parameter>k</Parameter></Key></Delete></KeyValueMapOperations>`},
		{name: "bad override", loadErr: "is not true or false",
			policy: `<KeyValueMapOperations name="K" mapIdentifier="m"><Put override="yes"><Key><Parameter>k</Parameter></Key><Value>v</Value></Put></KeyValueMapOperations>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { kvmRun(t, c) })
	}
}

// TestKeyValueMapOperationsCache: a Get is served from the in-process
// cache for ExpiryTimeInSecs even when the store changes behind it, and a
// Put through a KVM policy drops the cached value at once.
func TestKeyValueMapOperationsCache(t *testing.T) {
	ctx := context.Background()
	st := kvmFreshStores(t)
	kGet := compile(t, `<KeyValueMapOperations name="G" mapIdentifier="cached"><ExpiryTimeInSecs>60</ExpiryTimeInSecs>
  <Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`)
	kPut := compile(t, `<KeyValueMapOperations name="P" mapIdentifier="cached"><Put override="true"><Key><Parameter>k</Parameter></Key><Value ref="v"/></Put></KeyValueMapOperations>`)
	run := func(p engine.Policy, vars ...string) string {
		t.Helper()
		r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
		r.SetTestState(st)
		for i := 0; i+1 < len(vars); i += 2 {
			_ = r.Set(vars[i], vars[i+1])
		}
		if err := p.Execute(r); err != nil {
			t.Fatal(err)
		}
		return get(r, "out")
	}
	if err := st.KV.Put(ctx, kvmEnv, "cached", "k", "one", 0, true); err != nil {
		t.Fatal(err)
	}
	if got := run(kGet); got != "one" {
		t.Fatalf("first get = %q", got)
	}
	// Changed behind the cache (another replica): still the cached value.
	if err := st.KV.Put(ctx, kvmEnv, "cached", "k", "two", 0, true); err != nil {
		t.Fatal(err)
	}
	if got := run(kGet); got != "one" {
		t.Fatalf("cached get = %q, want one", got)
	}
	run(kPut, "v", "three")
	if got := run(kGet); got != "three" {
		t.Fatalf("get after put = %q, want three", got)
	}
	// Another store (another project or test) never sees this cache.
	other := kvmFreshStores(t)
	r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
	r.SetTestState(other)
	if err := kGet.Execute(r); err != nil {
		t.Fatal(err)
	}
	if v, ok := r.Get("out"); ok {
		t.Fatalf("other store served %q from the cache", v)
	}
}

// TestKeyValueMapOperationsSeedsFromProducts: KVM seeds of the products
// directory are what the policy reads (same scopes).
func TestKeyValueMapOperationsSeedsFromProducts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kvmWrite(t, dir, map[string]string{
		"org/kvms.json":          `[{"name": "settings", "encrypted": true, "entry": [{"name": "mode", "value": "org-mode"}]}]`,
		"env/test/kvms.json":     `[{"name": "settings", "entry": [{"name": "mode", "value": "env-mode"}]}]`,
		"api/test/kvms.json":     `[{"name": "settings", "entry": [{"name": "mode", "value": "proxy-mode"}]}]`,
		"org/developers.json":    `[]`,
		"org/apiProducts.json":   `[]`,
		"org/developerApps.json": `{}`,
	})
	st := kvmFreshStores(t)
	if _, err := store.LoadFileProducts(ctx, dir, store.FileOptions{Org: "local", KV: st.KV}); err != nil {
		t.Fatal(err)
	}
	for scope, want := range map[string]string{"organization": "org-mode", "environment": "env-mode", "apiproxy": "proxy-mode"} {
		p := compile(t, `<KeyValueMapOperations name="K" mapIdentifier="settings"><Scope>`+scope+`</Scope>
  <Get assignTo="private.mode"><Key><Parameter>mode</Parameter></Key></Get></KeyValueMapOperations>`)
		r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
		r.SetTestState(st)
		if err := p.Execute(r); err != nil {
			t.Fatal(err)
		}
		if got := get(r, "private.mode"); got != want {
			t.Errorf("%s: %q, want %q", scope, got, want)
		}
	}
}

// TestKeyValueMapOperationsEncrypted: a map the seed files flag encrypted
// holds ciphertext in the store, reads back into private.* variables,
// refuses other variables (SetVariableFailed) and seals what Put writes.
func TestKeyValueMapOperationsEncrypted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kvmWrite(t, dir, map[string]string{
		"env/test/kvms.json": `[{"name": "secrets", "encrypted": "true", "entry": [{"name": "api", "value": "s3cr3t"}]},
			{"name": "plain", "entry": [{"name": "api", "value": "open"}]}]`,
	})
	st := kvmFreshStores(t)
	if _, err := store.LoadFileProducts(ctx, dir, store.FileOptions{Org: "local", KV: st.KV}); err != nil {
		t.Fatal(err)
	}
	backend := st.KV.(*store.CryptKV).Unwrap()
	raw := func(key string) string {
		v, _, err := backend.Get(ctx, kvmEnv, "secrets", key)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := raw("api"); v == "" || strings.Contains(v, "s3cr3t") {
		t.Fatalf("the store holds %q, want ciphertext", v)
	}
	for _, tc := range []struct {
		name, policy string
		vars         map[string]string
		fault        string
		want         map[string]string
	}{
		{name: "get into private", policy: `<KeyValueMapOperations name="K" mapIdentifier="secrets"><Get assignTo="private.api"><Key><Parameter>api</Parameter></Key></Get></KeyValueMapOperations>`,
			want: map[string]string{"private.api": "s3cr3t"}},
		{name: "get into a public variable", policy: `<KeyValueMapOperations name="K" mapIdentifier="secrets"><Get assignTo="api"><Key><Parameter>api</Parameter></Key></Get></KeyValueMapOperations>`,
			fault: "steps.keyvaluemapoperations.SetVariableFailed", want: map[string]string{"api": unset}},
		{name: "missing key into a public variable", policy: `<KeyValueMapOperations name="K" mapIdentifier="secrets"><Get assignTo="api"><Key><Parameter>nope</Parameter></Key></Get></KeyValueMapOperations>`,
			fault: "steps.keyvaluemapoperations.SetVariableFailed"},
		{name: "plain map into a public variable", policy: `<KeyValueMapOperations name="K" mapIdentifier="plain"><Get assignTo="api"><Key><Parameter>api</Parameter></Key></Get></KeyValueMapOperations>`,
			want: map[string]string{"api": "open"}},
		{name: "put seals", policy: `<KeyValueMapOperations name="K" mapIdentifier="secrets"><Put override="true"><Key><Parameter>new</Parameter></Key><Value ref="v"/></Put>
			<Get assignTo="private.new"><Key><Parameter>new</Parameter></Key></Get></KeyValueMapOperations>`,
			vars: map[string]string{"v": "fresh-secret"}, want: map[string]string{"private.new": "fresh-secret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(t, tc.policy)
			r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
			r.SetTestState(st)
			for n, v := range tc.vars {
				_ = r.Set(n, v)
			}
			err := p.Execute(r)
			if got := kvmFaultCode(err); got != tc.fault {
				t.Fatalf("fault %q (%v), want %q", got, err, tc.fault)
			}
			if err != nil && !strings.Contains(err.Error(), "Failed to set variable api in KeyValueMapStepDefinition K") {
				t.Errorf("faultstring %q", err.Error())
			}
			for n, want := range tc.want {
				got, ok := r.Get(n)
				if want == unset {
					if ok {
						t.Errorf("%s = %q, want unset", n, got)
					}
				} else if got != want {
					t.Errorf("%s = %q, want %q", n, got, want)
				}
			}
		})
	}
	if v := raw("new"); v == "" || strings.Contains(v, "fresh-secret") {
		t.Errorf("Put stored %q, want ciphertext", v)
	}
	// A value that does not decrypt (here: written around the CryptKV)
	// is ExecutionFailed, never returned as is.
	if err := backend.Put(ctx, kvmEnv, "secrets", "forged", "plain text", 0, true); err != nil {
		t.Fatal(err)
	}
	p := compile(t, `<KeyValueMapOperations name="K" mapIdentifier="secrets"><Get assignTo="private.f"><Key><Parameter>forged</Parameter></Key></Get></KeyValueMapOperations>`)
	r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
	r.SetTestState(st)
	err := p.Execute(r)
	if got := kvmFaultCode(err); got != "steps.keyvaluemapoperations.ExecutionFailed" || !strings.Contains(err.Error(), "does not decrypt") {
		t.Fatalf("forged value: %v", err)
	}
	if v, ok := r.Get("private.f"); ok {
		t.Errorf("private.f = %q", v)
	}
}

func kvmWrite(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKeyValueMapOperationsCorpus compiles every KeyValueMapOperations
// policy of the public corpus.
func TestKeyValueMapOperationsCorpus(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	n := 0
	_ = filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".xml") || filepath.Base(filepath.Dir(p)) != "policies" {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(src), "<KeyValueMapOperations") {
			return nil
		}
		n++
		rel, _ := filepath.Rel(corpus, p)
		if _, errs := engine.TestPolicy(string(src), nil, nil); len(errs) > 0 {
			t.Errorf("%s:\n%v", rel, errs)
		}
		return nil
	})
	if n < 5 {
		t.Errorf("%d KeyValueMapOperations policies in the corpus, want at least 5", n)
	}
}

// FuzzKeyValueMapOperations: any key parts and value round-trip through
// Put and Get (or are skipped as a whole), never panicking.
func FuzzKeyValueMapOperations(f *testing.F) {
	f.Add("a", "b", "v")
	f.Add("", "x", "")
	f.Add("a__b", "", "ü\x00")
	put := `<KeyValueMapOperations name="P" mapIdentifier="fz"><Put override="true"><Key><Parameter ref="k1"/><Parameter ref="k2"/></Key><Value ref="v"/></Put>
  <Get assignTo="out"><Key><Parameter ref="k1"/><Parameter ref="k2"/></Key></Get></KeyValueMapOperations>`
	pol, errs := engine.TestPolicy(put, nil, nil)
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	st, err := store.OpenConfig(context.Background(), store.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, k1, k2, v string) {
		r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
		r.SetTestState(st)
		_ = r.Set("k1", k1)
		_ = r.Set("k2", k2)
		_ = r.Set("v", v)
		if err := pol.Execute(r); err != nil {
			t.Fatalf("%q %q %q: %v", k1, k2, v, err)
		}
		got, ok := r.Get("out")
		if len(k1)+len(k2)+2 <= kvmMaxKeyBytes && (!ok || got != v) {
			t.Fatalf("%q %q: got %q (%v), want %q", k1, k2, got, ok, v)
		}
	})
}

// BenchmarkKeyValueMapOperationsGet is a Get of a composite key served
// from the in-process cache (memory store behind it).
func BenchmarkKeyValueMapOperationsGet(b *testing.B) {
	ctx := context.Background()
	st, err := store.OpenConfig(ctx, store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.KV.Put(ctx, kvmEnv, "m", "a__GET", "v", 0, true); err != nil {
		b.Fatal(err)
	}
	pol, errs := engine.TestPolicy(`<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="out"><Key><Parameter>a</Parameter><Parameter ref="request.verb"/></Key></Get></KeyValueMapOperations>`, nil, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
		r.SetTestState(st)
		if err := pol.Execute(r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKeyValueMapOperationsConcurrent runs Puts and cached Gets of one key
// from several goroutines (go test -race): every Get sees a value some
// Put wrote.
func TestKeyValueMapOperationsConcurrent(t *testing.T) {
	ctx := context.Background()
	st := kvmFreshStores(t)
	kPut := compile(t, `<KeyValueMapOperations name="P" mapIdentifier="c"><Put override="true"><Key><Parameter>k</Parameter></Key><Value ref="v"/></Put></KeyValueMapOperations>`)
	kGet := compile(t, `<KeyValueMapOperations name="G" mapIdentifier="c"><InitialEntries><Entry><Key><Parameter>k</Parameter></Key><Value>w0</Value></Entry></InitialEntries>
  <Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`)
	errc := make(chan error, 8)
	for g := range 8 {
		go func() {
			var err error
			for i := range 100 {
				r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
				r.SetTestState(st)
				if g%2 == 0 {
					_ = r.Set("v", fmt.Sprintf("w%d", i))
					err = kPut.Execute(r)
				} else if err = kGet.Execute(r); err == nil {
					if v := get(r, "out"); !strings.HasPrefix(v, "w") {
						err = fmt.Errorf("get = %q", v)
					}
				}
				if err != nil {
					break
				}
			}
			errc <- err
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// TestKeyValueMapOperationsRedisDown: with the Redis KV and nothing
// listening, every operation fails closed (ExecutionFailed wrapping
// store.ErrUnavailable) within the store's operation timeout.
func TestKeyValueMapOperationsRedisDown(t *testing.T) {
	rd, err := store.NewRedis("redis://127.0.0.1:1/0", store.RedisOptions{OpTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	st := kvmFreshStores(t)
	st.KV = rd.KV()
	for _, src := range []string{
		`<KeyValueMapOperations name="K" mapIdentifier="m"><Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get></KeyValueMapOperations>`,
		`<KeyValueMapOperations name="K" mapIdentifier="m"><Put><Key><Parameter>k</Parameter></Key><Value>v</Value></Put></KeyValueMapOperations>`,
		`<KeyValueMapOperations name="K" mapIdentifier="m"><Delete><Key><Parameter>k</Parameter></Key></Delete></KeyValueMapOperations>`,
	} {
		r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
		r.SetTestState(st)
		start := time.Now()
		err := compile(t, src).Execute(r)
		if got := kvmFaultCode(err); got != "steps.keyvaluemapoperations.ExecutionFailed" || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: %v, want ExecutionFailed wrapping ErrUnavailable", src, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v", d)
		}
		if _, ok := r.Get("out"); ok {
			t.Error("out set although the store is down")
		}
	}
}
