package policies

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
	corpusdir "github.com/flowproc/flowproc/internal/corpus"
)

// vakFiles is a products directory for proxy "test" in environment
// "test" (the TestRun defaults).
var vakFiles = map[string]string{
	"org/developers.json": `[
  {"email": "ada@example.com", "developerId": "dev-ada", "firstName": "Ada", "lastName": "Lovelace", "userName": "ada",
   "attributes": [{"name": "tier", "value": "gold"}]},
  {"email": "noid@example.com", "firstName": "No", "lastName": "Id", "userName": "noid"},
  {"email": "bob@example.com", "firstName": "Bob", "lastName": "Gone", "userName": "bob", "status": "inactive"}
]`,
	"org/apiProducts.json": `[
  {"name": "basic", "environments": ["test"], "proxies": ["test"], "apiResources": ["/forecast/**", "/current"],
   "quota": "100", "quotaInterval": "1", "quotaTimeUnit": "hour", "attributes": [{"name": "access", "value": "public"}]},
  {"name": "elsewhere", "proxies": ["other-proxy"]},
  {"name": "prod-only", "environments": ["prod"], "proxies": ["test"]},
  {"name": "ops", "operationGroup": {"operationConfigs": [
     {"apiSource": "test", "operations": [{"resource": "/alerts/*", "methods": ["GET"]}],
      "quota": {"limit": "10", "interval": "1", "timeUnit": "minute"}}]}},
  {"name": "noquota", "proxies": ["test"]}
]`,
	"org/developerApps.json": `{
  "ada@example.com": [
    {"name": "ada-app", "appId": "app-1", "callbackUrl": "https://ada.example.com/cb", "attributes": [{"name": "team", "value": "blue"}],
     "credentials": [
       {"consumerKey": "good-key", "consumerSecret": "good-secret", "apiProducts": [{"apiproduct": "basic", "status": "approved"}]},
       {"consumerKey": "revoked-key", "consumerSecret": "s", "status": "revoked", "apiProducts": [{"apiproduct": "basic"}]},
       {"consumerKey": "expired-key", "consumerSecret": "s", "expiresAt": 1000, "apiProducts": [{"apiproduct": "basic"}]},
       {"consumerKey": "pending-key", "consumerSecret": "s", "apiProducts": [{"apiproduct": "basic", "status": "pending"}]},
       {"consumerKey": "other-key", "consumerSecret": "s", "apiProducts": [{"apiproduct": "elsewhere"}, {"apiproduct": "prod-only"}]},
       {"consumerKey": "ops-key", "consumerSecret": "s", "apiProducts": [{"apiproduct": "ops"}]}
     ]},
    {"name": "ada-revoked", "status": "revoked", "credentials": [{"consumerKey": "revoked-app-key", "consumerSecret": "s", "apiProducts": [{"apiproduct": "basic"}]}]}
  ],
  "noid@example.com": [
    {"name": "noid-app", "credentials": [{"consumerKey": "noid-key", "consumerSecret": "s", "apiProducts": [{"apiproduct": "noquota"}]}]}
  ],
  "bob@example.com": [
    {"name": "bob-app", "credentials": [{"consumerKey": "bob-key", "consumerSecret": "s", "apiProducts": [{"apiproduct": "basic"}]}]}
  ]
}`,
}

// vakProducts loads vakFiles from a temp directory.
func vakProducts(t *testing.T) *store.FileProducts {
	t.Helper()
	dir := t.TempDir()
	kvmWrite(t, dir, vakFiles)
	p, err := store.LoadFileProducts(context.Background(), dir, store.FileOptions{Org: "local"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// vakBrokenProducts is a product store whose backend fails.
type vakBrokenProducts struct{}

func (vakBrokenProducts) LookupKey(context.Context, string) (*store.KeyMatch, error) {
	return nil, fmt.Errorf("products backend: %w", store.ErrUnavailable)
}
func (vakBrokenProducts) LookupApp(context.Context, string, string) (*store.App, *store.Developer, error) {
	return nil, nil, store.ErrUnavailable
}
func (vakBrokenProducts) Product(context.Context, string) (*store.APIProduct, error) {
	return nil, store.ErrUnavailable
}

const vakPolicy = `<VerifyAPIKey name="VA"><APIKey ref="request.queryparam.apikey"/></VerifyAPIKey>`

func TestVerifyAPIKey(t *testing.T) {
	prods := vakProducts(t)
	withProducts := func(p store.Products) func(r *engine.Run) {
		return func(r *engine.Run) { r.SetTestProducts(p) }
	}
	ok := withProducts(prods)
	const (
		invalid  = "oauth.v2.InvalidApiKey"
		resource = "oauth.v2.InvalidApiKeyForGivenResource"
	)
	cases := []pcase{
		{name: "valid key: variables", policy: vakPolicy, path: "/forecast/today?apikey=good-key", suffix: "/forecast/today", setup: ok,
			vars: map[string]string{
				"verifyapikey.VA.client_id":                           "good-key",
				"verifyapikey.VA.client_secret":                       "good-secret",
				"verifyapikey.VA.redirection_uris":                    "https://ada.example.com/cb",
				"verifyapikey.VA.status":                              "approved",
				"verifyapikey.VA.developer.app.name":                  "ada-app",
				"verifyapikey.VA.developer.app.id":                    "app-1",
				"verifyapikey.VA.app.name":                            "ada-app",
				"verifyapikey.VA.app.id":                              "app-1",
				"verifyapikey.VA.app.team":                            "blue",
				"verifyapikey.VA.developer.id":                        "dev-ada",
				"verifyapikey.VA.developer.email":                     "ada@example.com",
				"verifyapikey.VA.developer.firstName":                 "Ada",
				"verifyapikey.VA.developer.lastName":                  "Lovelace",
				"verifyapikey.VA.developer.userName":                  "ada",
				"verifyapikey.VA.developer.status":                    "active",
				"verifyapikey.VA.developer.tier":                      "gold",
				"verifyapikey.VA.apiproduct.name":                     "basic",
				"verifyapikey.VA.apiproduct.access":                   "public",
				"verifyapikey.VA.apiproduct.developer.quota.limit":    "100",
				"verifyapikey.VA.apiproduct.developer.quota.interval": "1",
				"verifyapikey.VA.apiproduct.developer.quota.timeunit": "hour",
				"apiproduct.developer.quota.limit":                    "100",
				"apiproduct.name":                                     "basic",
				"client_id":                                           "good-key",
				"developer.id":                                        "dev-ada",
				"developer.app.name":                                  "ada-app",
				"verifyapikey.VA.failed":                              unset,
			}},
		{name: "key in a header", policy: `<VerifyAPIKey name="VH"><APIKey ref="request.header.x-apikey"/></VerifyAPIKey>`,
			path: "/current", suffix: "/current", headers: []string{"X-APIKey", "good-key"}, setup: ok,
			vars: map[string]string{"verifyapikey.VH.app.name": "ada-app"}},
		{name: "developer without id: email, product without quota", policy: vakPolicy, path: "/x?apikey=noid-key", suffix: "/x", setup: ok,
			vars: map[string]string{"verifyapikey.VA.developer.id": "noid@example.com", "verifyapikey.VA.app.id": "noid-app",
				"verifyapikey.VA.apiproduct.name": "noquota", "verifyapikey.VA.apiproduct.developer.quota.limit": unset}},
		{name: "operation group: allowed operation and its quota", policy: vakPolicy, path: "/alerts/storm?apikey=ops-key", suffix: "/alerts/storm", setup: ok,
			vars: map[string]string{"verifyapikey.VA.apiproduct.name": "ops", "verifyapikey.VA.apiproduct.developer.quota.limit": "10",
				"verifyapikey.VA.apiproduct.developer.quota.timeunit": "minute", "verifyapikey.VA.apiproduct.operation.resource": "/alerts/*"}},
		{name: "operation group: other method", policy: vakPolicy, method: "POST", path: "/alerts/storm?apikey=ops-key", suffix: "/alerts/storm", setup: ok,
			fault: resource, faultMsg: "Invalid ApiKey for given resource"},
		{name: "missing key variable", policy: vakPolicy, path: "/current", suffix: "/current", setup: ok,
			fault: "steps.oauth.v2.FailedToResolveAPIKey", faultMsg: "Failed to resolve API Key variable request.queryparam.apikey",
			vars: map[string]string{"verifyapikey.VA.failed": "true", "verifyapikey.VA.client_id": unset}},
		{name: "unknown key", policy: vakPolicy, path: "/current?apikey=nope", suffix: "/current", setup: ok, fault: invalid, faultMsg: "Invalid ApiKey"},
		{name: "empty key", policy: vakPolicy, path: "/current?apikey=", suffix: "/current", setup: ok, fault: invalid},
		{name: "SQL and regex metacharacters", policy: vakPolicy, path: "/current?apikey=%27%20OR%201%3D1--.*%5B(%5C", suffix: "/current", setup: ok, fault: invalid},
		{name: "1 MB key", policy: vakPolicy, path: "/current", suffix: "/current", setup: func(r *engine.Run) {
			r.SetTestProducts(prods)
			_ = r.Set("request.queryparam.apikey", strings.Repeat("k", 1<<20))
		}, fault: invalid},
		{name: "prefix of a real key", policy: vakPolicy, path: "/current?apikey=good", suffix: "/current", setup: ok, fault: invalid},
		{name: "revoked credential", policy: vakPolicy, path: "/current?apikey=revoked-key", suffix: "/current", setup: ok,
			fault: "oauth.v2.ApiKeyNotApproved", faultMsg: "ApiKey not approved"},
		{name: "expired credential", policy: vakPolicy, path: "/current?apikey=expired-key", suffix: "/current", setup: ok,
			fault: "keymanagement.service.consumer_key_expired"},
		{name: "revoked app", policy: vakPolicy, path: "/current?apikey=revoked-app-key", suffix: "/current", setup: ok,
			fault: "keymanagement.service.invalid_client-app_not_approved"},
		{name: "inactive developer", policy: vakPolicy, path: "/current?apikey=bob-key", suffix: "/current", setup: ok,
			fault: "keymanagement.service.DeveloperStatusNotActive", faultMsg: "Developer Status is not Active"},
		{name: "path not in the product", policy: vakPolicy, path: "/admin?apikey=good-key", suffix: "/admin", setup: ok, fault: resource},
		{name: "product grant pending", policy: vakPolicy, path: "/current?apikey=pending-key", suffix: "/current", setup: ok, fault: resource},
		{name: "products for another proxy or environment", policy: vakPolicy, path: "/current?apikey=other-key", suffix: "/current", setup: ok, fault: resource},
		{name: "no products directory fails closed", policy: vakPolicy, path: "/current?apikey=good-key", suffix: "/current",
			fault: "steps.oauth.v2.ExecutionFailed", vars: map[string]string{"verifyapikey.VA.failed": "true"}},
		{name: "store failure fails closed", policy: vakPolicy, path: "/current?apikey=good-key", suffix: "/current",
			setup: withProducts(vakBrokenProducts{}), fault: "steps.oauth.v2.ExecutionFailed"},

		{name: "no APIKey", policy: `<VerifyAPIKey name="V"/>`, loadErr: "has no <APIKey"},
		{name: "APIKey without ref", policy: `<VerifyAPIKey name="V"><APIKey>literal</APIKey></VerifyAPIKey>`, loadErr: "needs ref="},
		{name: "unknown element", policy: `<VerifyAPIKey name="V"><APIKey ref="a"/><Key/></VerifyAPIKey>`, loadErr: "unknown element <Key>"},
		{name: "bad cache expiry", policy: `<VerifyAPIKey name="V"><APIKey ref="a"/><CacheExpiryInSeconds>soon</CacheExpiryInSeconds></VerifyAPIKey>`, loadErr: "CacheExpiryInSeconds"},
		{name: "X cache expiry accepted", policy: `<VerifyAPIKey name="V"><DisplayName>V</DisplayName><APIKey ref="a"/><CacheExpiryInSeconds>180</CacheExpiryInSeconds></VerifyAPIKey>`,
			setup: ok, fault: "steps.oauth.v2.FailedToResolveAPIKey"},
	}
	runCases(t, cases)
}

// TestVerifyAPIKeyFaultRules runs VerifyAPIKey in a bundle whose
// deployment names a products directory: FaultRules see fault.name
// exactly as on Apigee, and the default error is Apigee's fault JSON.
func TestVerifyAPIKeyFaultRules(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"deployment.yaml": "products: config\n"}
	for k, v := range vakFiles {
		files["config/"+k] = v
	}
	files["apiproxy/proxies/default.xml"] = `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Request><Step><Name>VA</Name></Step></Request>
    <Response><Step><Name>AM-OK</Name></Step></Response></PreFlow>
  <FaultRules>
    <FaultRule name="bad-key">
      <Step><Name>AM-BadKey</Name></Step>
      <Condition>fault.name = "InvalidApiKey" OR fault.name = "InvalidApiKeyForGivenResource"</Condition>
    </FaultRule>
  </FaultRules>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`
	files["apiproxy/test.xml"] = `<APIProxy name="test"/>`
	files["apiproxy/policies/VA.xml"] = vakPolicy
	files["apiproxy/policies/AM-BadKey.xml"] = `<AssignMessage name="AM-BadKey"><Set><StatusCode>403</StatusCode>
  <Payload contentType="application/json">{"error":"{fault.name}"}</Payload></Set></AssignMessage>`
	files["apiproxy/policies/AM-OK.xml"] = `<AssignMessage name="AM-OK"><Set><StatusCode>200</StatusCode>
  <Payload contentType="text/plain">{verifyapikey.VA.developer.email} {apiproduct.name}</Payload></Set></AssignMessage>`
	kvmWrite(t, dir, files)
	st := kvmFreshStores(t)
	p, errs := engine.Load(dir, engine.Options{Name: "t", Logger: slog.New(slog.DiscardHandler), State: st})
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	run := func(path string) string {
		o := p.Run(context.Background(), &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: path, ID: "r", BodyKnownEmpty: true}, noTargetHost{})
		return fmt.Sprintf("%d %s", o.Status, o.Body)
	}
	for _, c := range []struct{ path, want string }{
		{"/v1/current?apikey=good-key", "200 ada@example.com basic"},
		{"/v1/current?apikey=wrong", `403 {"error":"InvalidApiKey"}`},
		{"/v1/admin?apikey=good-key", `403 {"error":"InvalidApiKeyForGivenResource"}`},
		{"/v1/current", `401 {"fault":{"faultstring":"Failed to resolve API Key variable request.queryparam.apikey","detail":{"errorcode":"steps.oauth.v2.FailedToResolveAPIKey"}}}`},
		{"/v1/current?apikey=revoked-key", `401 {"fault":{"faultstring":"ApiKey not approved","detail":{"errorcode":"oauth.v2.ApiKeyNotApproved"}}}`},
	} {
		if got := run(c.path); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.path, got, c.want)
		}
	}
}

// TestVerifyAPIKeyCorpus compiles every VerifyAPIKey policy of the public
// corpus.
func TestVerifyAPIKeyCorpus(t *testing.T) {
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
		if err != nil || !strings.Contains(string(src), "<VerifyAPIKey") {
			return nil
		}
		n++
		rel, _ := filepath.Rel(corpus, p)
		if _, errs := engine.TestPolicy(string(src), nil, nil); len(errs) > 0 {
			t.Errorf("%s:\n%v", rel, errs)
		}
		return nil
	})
	if n == 0 {
		t.Error("no VerifyAPIKey policy in the corpus")
	}
}

// FuzzVerifyAPIKeyKey: whatever the client sends as a key, the policy
// answers without panicking, and anything but a known key is
// InvalidApiKey.
func FuzzVerifyAPIKeyKey(f *testing.F) {
	for _, s := range []string{"good-key", "", "' OR 1=1 --", ".*", "good-key\x00", "GOOD-KEY", strings.Repeat("k", 4096)} {
		f.Add(s)
	}
	dir := f.TempDir()
	for name, data := range vakFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	prods, err := store.LoadFileProducts(context.Background(), dir, store.FileOptions{Org: "local"})
	if err != nil {
		f.Fatal(err)
	}
	pol, errs := engine.TestPolicy(vakPolicy, nil, nil)
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	known := map[string]bool{}
	for _, k := range []string{"good-key", "revoked-key", "expired-key", "pending-key", "other-key", "ops-key", "revoked-app-key", "noid-key", "bob-key"} {
		known[k] = true
	}
	f.Fuzz(func(t *testing.T, key string) {
		r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/current", nil, nil)
		r.SetTestProxyPath("/v1", "/current")
		r.SetTestProducts(prods)
		if err := r.Set("request.queryparam.apikey", key); err != nil {
			t.Skip()
		}
		got := kvmFaultCode(pol.Execute(r))
		if !known[key] && got != "oauth.v2.InvalidApiKey" {
			t.Fatalf("key %q: %q, want oauth.v2.InvalidApiKey", key, got)
		}
	})
}

// BenchmarkVerifyAPIKey is one successful verification (lookup, checks,
// product match, variables).
func BenchmarkVerifyAPIKey(b *testing.B) {
	dir := b.TempDir()
	for name, data := range vakFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	prods, err := store.LoadFileProducts(context.Background(), dir, store.FileOptions{Org: "local"})
	if err != nil {
		b.Fatal(err)
	}
	pol, errs := engine.TestPolicy(vakPolicy, nil, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/forecast/today?apikey=good-key", nil, nil)
		r.SetTestProxyPath("/v1", "/forecast/today")
		r.SetTestProducts(prods)
		if err := pol.Execute(r); err != nil {
			b.Fatal(err)
		}
	}
}
