package policies

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// oauthFiles is a products directory for proxy "test" in environment
// "test" (the TestRun defaults).
var oauthFiles = map[string]string{
	"org/developers.json": `[
  {"email": "ada@example.com", "developerId": "dev-ada", "firstName": "Ada", "lastName": "Lovelace", "userName": "ada"},
  {"email": "bob@example.com", "firstName": "Bob", "lastName": "Gone", "userName": "bob", "status": "inactive"}
]`,
	"org/apiProducts.json": `[
  {"name": "weather", "environments": ["test"], "proxies": ["test"], "apiResources": ["/forecast", "/forecast/**"], "scopes": ["read", "write"],
   "quota": "100", "quotaInterval": "1", "quotaTimeUnit": "hour", "attributes": [{"name": "tier", "value": "gold"}]},
  {"name": "elsewhere", "proxies": ["other-proxy"], "scopes": ["admin"]},
  {"name": "ops", "operationGroup": {"operationConfigs": [{"apiSource": "test", "operations": [{"resource": "/alerts/*", "methods": ["GET"]}]}]}}
]`,
	"org/developerApps.json": `{
  "ada@example.com": [
    {"name": "ada-app", "appId": "app-1", "callbackUrl": "https://ada.example.com/cb", "attributes": [{"name": "team", "value": "blue"}],
     "credentials": [
       {"consumerKey": "ada-id", "consumerSecret": "ada-secret", "apiProducts": [{"apiproduct": "weather"}, {"apiproduct": "elsewhere", "status": "revoked"}]},
       {"consumerKey": "revoked-id", "consumerSecret": "s", "status": "revoked", "apiProducts": [{"apiproduct": "weather"}]},
       {"consumerKey": "other-id", "consumerSecret": "s", "apiProducts": [{"apiproduct": "elsewhere"}]},
       {"consumerKey": "ops-id", "consumerSecret": "s", "apiProducts": [{"apiproduct": "ops"}]}
     ]},
    {"name": "ada-nocb", "credentials": [{"consumerKey": "nocb-id", "consumerSecret": "s", "apiProducts": [{"apiproduct": "weather"}]}]},
    {"name": "ada-revoked", "status": "revoked", "credentials": [{"consumerKey": "revoked-app-id", "consumerSecret": "s", "apiProducts": [{"apiproduct": "weather"}]}]}
  ],
  "bob@example.com": [
    {"name": "bob-app", "credentials": [{"consumerKey": "bob-id", "consumerSecret": "s", "apiProducts": [{"apiproduct": "weather"}]}]}
  ]
}`,
}

// oauthProducts loads oauthFiles from a temp directory.
func oauthProducts(t testing.TB) *store.FileProducts {
	t.Helper()
	dir := t.TempDir()
	for name, data := range oauthFiles {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := store.LoadFileProducts(context.Background(), dir, store.FileOptions{Org: "local"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// oauthBasicHeader is an Authorization: Basic value.
func oauthBasicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// oauthPutToken stores an access token for client id and returns its
// value.
func oauthPutToken(t *testing.T, id, scope string) string {
	t.Helper()
	v, err := oauthNewToken()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = store.MemoryStores().Tokens.Put(context.Background(), store.Token{Kind: store.AccessToken, Value: v, ClientID: id,
		AppName: "ada-app", Scope: scope, GrantType: "client_credentials", Attributes: map[string]string{"tenant": "t1"},
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// oauthPutExpired stores an access token of ada-id that expired a
// minute ago and is still in its grace period.
func oauthPutExpired(t *testing.T) string {
	t.Helper()
	v, err := oauthNewToken()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = store.MemoryStores().Tokens.Put(context.Background(), store.Token{Kind: store.AccessToken, Value: v, ClientID: "ada-id",
		Attributes: map[string]string{oauthExpiresAttr: strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10)},
		IssuedAt:   now.Add(-time.Hour), ExpiresAt: now.Add(oauthExpiredGrace - time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const (
	oauthGenPolicy = `<OAuthV2 name="G"><Operation>GenerateAccessToken</Operation><ExpiresIn>1800000</ExpiresIn>
  <SupportedGrantTypes><GrantType>client_credentials</GrantType><GrantType>password</GrantType></SupportedGrantTypes>
  <GenerateResponse enabled="false"/></OAuthV2>`
	oauthFormCT = "application/x-www-form-urlencoded"
)

func TestOAuthV2Generate(t *testing.T) {
	prods := oauthProducts(t)
	ok := func(r *engine.Run) { r.SetTestProducts(prods) }
	ada := []string{"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada-secret")}
	cc := "grant_type=client_credentials"
	hasToken := func(name string) func(t *testing.T, r *engine.Run) {
		return func(t *testing.T, r *engine.Run) {
			v, _ := r.Get("oauthv2accesstoken.G." + name)
			if len(v) != 32 || strings.Trim(v, oauthTokenAlphabet) != "" {
				t.Errorf("%s = %q, want 32 alphanumerics", name, v)
			}
		}
	}
	cases := []pcase{
		{name: "client_credentials from Basic", policy: oauthGenPolicy, method: "POST", body: cc, headers: ada, setup: ok, check: hasToken("access_token"),
			vars: map[string]string{
				"oauthv2accesstoken.G.client_id":                "ada-id",
				"oauthv2accesstoken.G.application_name":         "ada-app",
				"oauthv2accesstoken.G.developer.email":          "ada@example.com",
				"oauthv2accesstoken.G.expires_in":               "1800",
				"oauthv2accesstoken.G.token_type":               "BearerToken",
				"oauthv2accesstoken.G.api_product_list":         "[weather]",
				"oauthv2accesstoken.G.scope":                    "read write",
				"oauthv2accesstoken.G.status":                   "approved",
				"oauthv2accesstoken.G.refresh_count":            "0",
				"oauthv2accesstoken.G.refresh_token":            unset,
				"oauthv2accesstoken.G.refresh_token_expires_in": "0",
			}},
		{name: "password grant gets a refresh token", policy: oauthGenPolicy, method: "POST", body: "grant_type=password&username=u&password=p",
			headers: ada, setup: ok, check: hasToken("refresh_token"), vars: map[string]string{"oauthv2accesstoken.G.refresh_token_status": "approved"}},
		{name: "password grant without password", policy: oauthGenPolicy, method: "POST", body: "grant_type=password&username=u",
			headers: ada, setup: ok, fault: "steps.oauth.v2.invalid_request", faultMsg: "Required param : password"},
		{name: "credentials in form parameters", policy: oauthGenPolicy, method: "POST", body: cc + "&client_id=ada-id&client_secret=ada-secret",
			headers: []string{"Content-Type", oauthFormCT}, setup: ok, vars: map[string]string{"oauthv2accesstoken.G.client_id": "ada-id"}},
		{name: "ClientId ref and ExpiresIn ref", policy: `<OAuthV2 name="G"><Operation>GenerateAccessToken</Operation>
  <ExpiresIn ref="request.header.ttl">1000</ExpiresIn><ClientId>request.header.cid</ClientId><ClientSecret>request.header.cs</ClientSecret>
  <GrantType>request.queryparam.gt</GrantType><SupportedGrantTypes><GrantType>client_credentials</GrantType></SupportedGrantTypes></OAuthV2>`,
			method: "POST", path: "/token?gt=client_credentials", headers: []string{"cid", "ada-id", "cs", "ada-secret", "ttl", "60000"}, setup: ok,
			vars: map[string]string{"oauthv2accesstoken.G.expires_in": "60"}},
		{name: "requested scope", policy: oauthGenPolicy, method: "POST", body: cc + "&scope=read", headers: ada, setup: ok,
			vars: map[string]string{"oauthv2accesstoken.G.scope": "read"}},
		{name: "scope of a revoked product grant", policy: oauthGenPolicy, method: "POST", body: cc + "&scope=admin", headers: ada, setup: ok,
			fault: "steps.oauth.v2.invalid_scope"},
		{name: "attributes", policy: `<OAuthV2 name="G"><Operation>GenerateAccessToken</Operation>
  <Attributes><Attribute name="tenant" ref="request.header.tenant" display="true">none</Attribute><Attribute name="hidden" display="false">h</Attribute></Attributes></OAuthV2>`,
			method: "POST", body: cc, headers: append([]string{"tenant", "t9"}, ada...), setup: ok,
			vars: map[string]string{"oauthv2accesstoken.G.tenant": "t9", "oauthv2accesstoken.G.hidden": unset}},
		{name: "wrong secret", policy: oauthGenPolicy, method: "POST", body: cc, setup: ok,
			headers: []string{"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada-secreT")},
			fault:   "steps.oauth.v2.invalid_client", faultMsg: "ClientId is Invalid", vars: map[string]string{"oauthv2accesstoken.G.access_token": unset}},
		{name: "secret prefix", policy: oauthGenPolicy, method: "POST", body: cc, setup: ok,
			headers: []string{"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada")}, fault: "steps.oauth.v2.invalid_client"},
		{name: "unknown client", policy: oauthGenPolicy, method: "POST", body: cc, setup: ok,
			headers: []string{"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("nobody", "s")}, fault: "steps.oauth.v2.invalid_client"},
		{name: "no client", policy: oauthGenPolicy, method: "POST", body: cc, setup: ok, headers: []string{"Content-Type", oauthFormCT},
			fault: "steps.oauth.v2.invalid_client", faultMsg: "Client identifier is required"},
		{name: "revoked credential", policy: oauthGenPolicy, method: "POST", body: cc, setup: ok,
			headers: []string{"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("revoked-id", "s")}, fault: "steps.oauth.v2.invalid_client"},
		{name: "revoked app", policy: oauthGenPolicy, method: "POST", body: cc, setup: ok,
			headers: []string{"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("revoked-app-id", "s")}, fault: "steps.oauth.v2.invalid_client"},
		{name: "inactive developer", policy: oauthGenPolicy, method: "POST", body: cc, setup: ok,
			headers: []string{"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("bob-id", "s")}, fault: "steps.oauth.v2.invalid_client"},
		{name: "no grant type", policy: oauthGenPolicy, method: "POST", body: "x=1", headers: ada, setup: ok,
			fault: "steps.oauth.v2.invalid_request", faultMsg: "The request is missing a required parameter : grant_type"},
		{name: "grant type not in SupportedGrantTypes", policy: `<OAuthV2 name="G"><Operation>GenerateAccessToken</Operation>
  <SupportedGrantTypes><GrantType>client_credentials</GrantType></SupportedGrantTypes></OAuthV2>`,
			method: "POST", body: "grant_type=password&username=u&password=p", headers: ada, setup: ok,
			fault: "steps.oauth.v2.unsupported_grant_type", faultMsg: "Unsupported grant type : password"},
		{name: "no products directory fails closed", policy: oauthGenPolicy, method: "POST", body: cc, headers: ada,
			fault: "steps.oauth.v2.ExecutionFailed"},
		{name: "store failure fails closed", policy: oauthGenPolicy, method: "POST", body: cc, headers: ada,
			setup: func(r *engine.Run) { r.SetTestProducts(vakBrokenProducts{}) }, fault: "steps.oauth.v2.ExecutionFailed"},
	}
	runCases(t, cases)
}

func TestOAuthV2Load(t *testing.T) {
	cases := []pcase{
		{name: "no Operation", policy: `<OAuthV2 name="O"/>`, loadErr: "has no <Operation>"},
		{name: "JWT access tokens not run", policy: `<OAuthV2 name="O"><Operation>GenerateJWTAccessToken</Operation></OAuthV2>`,
			loadErr: "<Operation>GenerateJWTAccessToken is not supported"},
		{name: "implicit grant not run", policy: `<OAuthV2 name="O"><Operation>GenerateAccessTokenImplicitGrant</Operation></OAuthV2>`,
			loadErr: "<Operation>GenerateAccessTokenImplicitGrant is not supported"},
		{name: "refresh: bad RefreshTokenExpiresIn", policy: `<OAuthV2 name="O"><Operation>RefreshAccessToken</Operation><RefreshTokenExpiresIn>-1</RefreshTokenExpiresIn></OAuthV2>`,
			loadErr: "not a number of milliseconds"},
		{name: "unsupported grant type", policy: `<OAuthV2 name="O"><Operation>GenerateAccessToken</Operation>
  <SupportedGrantTypes><GrantType>implicit</GrantType></SupportedGrantTypes></OAuthV2>`, loadErr: `grant type "implicit"`},
		{name: "bad ExpiresIn", policy: `<OAuthV2 name="O"><Operation>GenerateAccessToken</Operation><ExpiresIn>soon</ExpiresIn></OAuthV2>`,
			loadErr: "not a number of milliseconds"},
		{name: "external authorization", policy: `<OAuthV2 name="O"><Operation>VerifyAccessToken</Operation><ExternalAuthorization>true</ExternalAuthorization></OAuthV2>`,
			loadErr: "ExternalAuthorization"},
		{name: "unknown element", policy: `<OAuthV2 name="O"><Operation>VerifyAccessToken</Operation><Tokn/></OAuthV2>`, loadErr: "unknown element <Tokn>"},
		{name: "AccessTokenPrefix without AccessToken", policy: `<OAuthV2 name="O"><Operation>VerifyAccessToken</Operation><AccessTokenPrefix>Bearer</AccessTokenPrefix></OAuthV2>`,
			loadErr: "<AccessTokenPrefix> needs <AccessToken>"},
		{name: "invalidate without tokens", policy: `<OAuthV2 name="O"><Operation>InvalidateToken</Operation></OAuthV2>`, loadErr: "needs <Tokens>"},
		{name: "invalidate bad type", policy: `<OAuthV2 name="O"><Operation>InvalidateToken</Operation><Tokens><Token type="code">a</Token></Tokens></OAuthV2>`,
			loadErr: "type must be"},
		{name: "refresh cascade", policy: `<OAuthV2 name="O"><Operation>InvalidateToken</Operation><Tokens><Token type="refreshtoken" cascade="true">a</Token></Tokens></OAuthV2>`,
			loadErr: "cascade"},
	}
	runCases(t, cases)
}

const oauthVerifyPolicy = `<OAuthV2 name="V"><Operation>VerifyAccessToken</Operation></OAuthV2>`

func TestOAuthV2Verify(t *testing.T) {
	prods := oauthProducts(t)
	ok := func(r *engine.Run) { r.SetTestProducts(prods) }
	good := oauthPutToken(t, "ada-id", "read write")
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	const invalid = "keymanagement.service.invalid_access_token"
	cases := []pcase{
		{name: "issued token: internal attributes hidden", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", setup: ok,
			headers: []string{"Authorization", "Bearer " + oauthIssued(t, prods)},
			vars:    map[string]string{"accesstoken.flowproc.expires_at": unset},
			check: func(t *testing.T, r *engine.Run) {
				if v, _ := r.Get("expires_in"); v != "1799" && v != "1800" {
					t.Errorf("expires_in = %q, want the real 30 minutes, not the grace period", v)
				}
			}},
		{name: "valid token: variables", policy: oauthVerifyPolicy, path: "/forecast/today", suffix: "/forecast/today", headers: bearer(good), setup: ok,
			vars: map[string]string{
				"access_token":                        good,
				"client_id":                           "ada-id",
				"developer.email":                     "ada@example.com",
				"developer.id":                        "dev-ada",
				"developer.app.name":                  "ada-app",
				"developer.app.id":                    "app-1",
				"apiproduct.name":                     "weather",
				"apiproduct.tier":                     "gold",
				"app.team":                            "blue",
				"accesstoken.tenant":                  "t1",
				"scope":                               "read write",
				"status":                              "approved",
				"grant_type":                          "client_credentials",
				"apiproduct.developer.quota.limit":    "100",
				"apiproduct.developer.quota.interval": "1",
				"apiproduct.developer.quota.timeunit": "hour",
				"oauthV2.V.failed":                    unset,
			},
			check: func(t *testing.T, r *engine.Run) {
				if v, _ := r.Get("expires_in"); v != "3599" && v != "3600" {
					t.Errorf("expires_in = %q", v)
				}
			}},
		{name: "operation group: the matched operation", policy: oauthVerifyPolicy, path: "/alerts/storm", suffix: "/alerts/storm",
			headers: bearer(oauthPutToken(t, "ops-id", "")), setup: ok,
			vars: map[string]string{"apiproduct.name": "ops", "apiproduct.operation.resource": "/alerts/*"}},
		{name: "operation group: other method", policy: oauthVerifyPolicy, method: "DELETE", path: "/alerts/storm", suffix: "/alerts/storm",
			headers: bearer(oauthPutToken(t, "ops-id", "")), setup: ok, fault: "oauth.v2.InvalidApiCallAsNoApiProductMatchFound"},
		{name: "lower-case bearer", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", headers: []string{"Authorization", "bearer " + good}, setup: ok},
		{name: "token from a variable", policy: `<OAuthV2 name="V"><Operation>VerifyAccessToken</Operation><AccessToken>request.header.token</AccessToken></OAuthV2>`,
			path: "/forecast", suffix: "/forecast", headers: []string{"token", good}, setup: ok, vars: map[string]string{"client_id": "ada-id"}},
		{name: "AccessTokenPrefix", policy: `<OAuthV2 name="V"><Operation>VerifyAccessToken</Operation><AccessToken>request.header.x-auth</AccessToken><AccessTokenPrefix>Bearer</AccessTokenPrefix></OAuthV2>`,
			path: "/forecast", suffix: "/forecast", headers: []string{"x-auth", "Bearer " + good}, setup: ok, vars: map[string]string{"client_id": "ada-id"}},
		{name: "AccessTokenPrefix missing in the value", policy: `<OAuthV2 name="V"><Operation>VerifyAccessToken</Operation><AccessToken>request.header.x-auth</AccessToken><AccessTokenPrefix>Bearer</AccessTokenPrefix></OAuthV2>`,
			path: "/forecast", suffix: "/forecast", headers: []string{"x-auth", good}, setup: ok, fault: "oauth.v2.InvalidAccessToken"},
		{name: "token variable absent", policy: `<OAuthV2 name="V"><Operation>VerifyAccessToken</Operation><AccessToken>request.header.token</AccessToken></OAuthV2>`,
			path: "/forecast", suffix: "/forecast", setup: ok, fault: "steps.oauth.v2.FailedToResolveAccessToken"},
		{name: "one of the scopes", policy: `<OAuthV2 name="V"><Operation>VerifyAccessToken</Operation><Scope>admin write</Scope></OAuthV2>`,
			path: "/forecast", suffix: "/forecast", headers: bearer(good), setup: ok},
		{name: "insufficient scope", policy: `<OAuthV2 name="V"><Operation>VerifyAccessToken</Operation><Scope>admin</Scope></OAuthV2>`,
			path: "/forecast", suffix: "/forecast", headers: bearer(good), setup: ok, fault: "steps.oauth.v2.InsufficientScope", faultMsg: "Required scope(s) : admin",
			vars: map[string]string{"client_id": unset}},
		{name: "no Authorization header", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", setup: ok,
			fault: "oauth.v2.InvalidAccessToken", faultMsg: "Invalid access token"},
		{name: "Basic instead of Bearer", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", setup: ok,
			headers: []string{"Authorization", oauthBasicHeader("ada-id", "ada-secret")}, fault: "oauth.v2.InvalidAccessToken"},
		{name: "unknown token", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", headers: bearer("foobar"), setup: ok,
			fault: invalid, faultMsg: "Invalid Access Token"},
		{name: "expired token", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", headers: bearer(oauthPutExpired(t)), setup: ok,
			fault: "keymanagement.service.access_token_expired", faultMsg: "Access Token expired", vars: map[string]string{"client_id": unset}},
		{name: "empty token", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", headers: bearer(""), setup: ok, fault: "oauth.v2.InvalidAccessToken"},
		{name: "token with a character changed", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast",
			headers: bearer(good[:31] + string(rune('A'+(good[31]+1)%26))), setup: ok, fault: invalid},
		{name: "1 MB token", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", headers: bearer(strings.Repeat("a", 1<<20)), setup: ok, fault: invalid},
		{name: "path not in the product", policy: oauthVerifyPolicy, path: "/admin", suffix: "/admin", headers: bearer(good), setup: ok,
			fault: "oauth.v2.InvalidApiCallAsNoApiProductMatchFound", faultMsg: "Invalid API call as no apiproduct match found"},
		{name: "client's products for another proxy", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast",
			headers: bearer(oauthPutToken(t, "other-id", "")), setup: ok, fault: "oauth.v2.InvalidApiCallAsNoApiProductMatchFound"},
		{name: "credential revoked after issue", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast",
			headers: bearer(oauthPutToken(t, "revoked-id", "")), setup: ok, fault: "keymanagement.service.access_token_not_approved"},
		{name: "app revoked after issue", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast",
			headers: bearer(oauthPutToken(t, "revoked-app-id", "")), setup: ok, fault: "keymanagement.service.invalid_client-app_not_approved"},
		{name: "developer inactive after issue", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast",
			headers: bearer(oauthPutToken(t, "bob-id", "")), setup: ok, fault: "keymanagement.service.DeveloperStatusNotActive"},
		{name: "client deleted after issue", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast",
			headers: bearer(oauthPutToken(t, "deleted-id", "")), setup: ok, fault: invalid},
		{name: "no products directory fails closed", policy: oauthVerifyPolicy, path: "/forecast", suffix: "/forecast", headers: bearer(good),
			fault: "steps.oauth.v2.ExecutionFailed"},
	}
	runCases(t, cases)
}

// oauthExec compiles src and runs it on a fresh request with the
// products of oauthFiles.
func oauthExec(t *testing.T, prods store.Products, src, method, path, suffix, body string, headers ...string) (*engine.Run, error) {
	t.Helper()
	return oauthExecIn(t, nil, prods, src, method, path, suffix, body, headers...)
}

// oauthExecIn is oauthExec on the state stores st (nil: the process-wide
// memory stores).
func oauthExecIn(t *testing.T, st *store.Stores, prods store.Products, src, method, path, suffix, body string, headers ...string) (*engine.Run, error) {
	t.Helper()
	pol, errs := engine.TestPolicy(src, nil, nil)
	if len(errs) > 0 || pol == nil {
		t.Fatalf("load: %v", errs)
	}
	r := engine.TestRun(context.Background(), engine.ProxyRequest, method, path, []byte(body), nil, headers...)
	r.SetTestProxyPath("/base", suffix)
	r.SetTestProducts(prods)
	if st != nil {
		r.SetTestState(st)
	}
	return r, pol.Execute(r)
}

// TestOAuthV2GenerateResponse checks the JSON the policy answers with
// GenerateResponse, and that the token it holds verifies.
func TestOAuthV2GenerateResponse(t *testing.T) {
	prods := oauthProducts(t)
	for _, rfc := range []bool{false, true} {
		src := `<OAuthV2 name="G"><Operation>GenerateAccessToken</Operation><ExpiresIn>180000</ExpiresIn>
  <SupportedGrantTypes><GrantType>client_credentials</GrantType></SupportedGrantTypes><GenerateResponse enabled="true"/>`
		if rfc {
			src += `<RFCCompliantRequestResponse>true</RFCCompliantRequestResponse>`
		}
		src += `</OAuthV2>`
		_, err := oauthExec(t, prods, src, "POST", "/token", "/token", "grant_type=client_credentials",
			"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada-secret"))
		var a *engine.Answered
		if !errors.As(err, &a) {
			t.Fatalf("rfc=%v: %v, want an answer", rfc, err)
		}
		ct, _ := a.Response.Header("Content-Type")
		if a.Response.Status != 200 || ct != "application/json" {
			t.Fatalf("status %d, content type %q", a.Response.Status, ct)
		}
		content, _ := a.Response.Content()
		var body map[string]any
		if err := json.Unmarshal(content, &body); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"token_type": "BearerToken", "expires_in": "180", "client_id": "ada-id", "application_name": "ada-app",
			"developer.email": "ada@example.com", "status": "approved", "refresh_count": "0", "api_product_list": "[weather]",
			"scope": "read write", "refresh_token_expires_in": "0"}
		if rfc {
			want["token_type"], want["expires_in"], want["refresh_token_expires_in"] = "Bearer", float64(180), float64(0)
		}
		for k, v := range want {
			if body[k] != v {
				t.Errorf("rfc=%v: %s = %#v, want %#v", rfc, k, body[k], v)
			}
		}
		for _, k := range []string{"access_token", "issued_at", "organization_name", "api_product_list_json"} {
			if _, ok := body[k]; !ok {
				t.Errorf("rfc=%v: no %s in %s", rfc, k, content)
			}
		}
		tok, _ := body["access_token"].(string)
		r, err := oauthExec(t, prods, oauthVerifyPolicy, "GET", "/forecast", "/forecast", "", "Authorization", "Bearer "+tok)
		if err != nil {
			t.Fatalf("verify the issued token: %v", err)
		}
		if v, _ := r.Get("scope"); v != "read write" {
			t.Errorf("verified scope %q", v)
		}
	}
}

// TestOAuthV2GenerateErrorResponse checks Apigee's OAuth error body.
func TestOAuthV2GenerateErrorResponse(t *testing.T) {
	prods := oauthProducts(t)
	for _, c := range []struct {
		rfc  string
		want map[string]string
	}{
		{"", map[string]string{"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"}},
		{"<RFCCompliantRequestResponse>true</RFCCompliantRequestResponse>", map[string]string{"error": "invalid_client", "error_description": "ClientId is Invalid"}},
	} {
		src := `<OAuthV2 name="G"><Operation>GenerateAccessToken</Operation><GenerateResponse/>` + c.rfc + `</OAuthV2>`
		_, err := oauthExec(t, prods, src, "POST", "/token", "/token", "grant_type=client_credentials",
			"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("unknown", "secret"))
		var f *engine.Fault
		if !errors.As(err, &f) || f.Name != "invalid_client" || f.Response == nil || f.Response.Status != 401 {
			t.Fatalf("%v, want invalid_client with a 401 response", err)
		}
		content, _ := f.Response.Content()
		var body map[string]string
		if err := json.Unmarshal(content, &body); err != nil {
			t.Fatal(err)
		}
		if len(body) != len(c.want) {
			t.Errorf("body %v, want %v", body, c.want)
		}
		for k, v := range c.want {
			if body[k] != v {
				t.Errorf("%s = %q, want %q", k, body[k], v)
			}
		}
	}
}

// TestOAuthV2Invalidate revokes a password-grant token with cascade and
// checks that neither it nor its refresh token is left.
func TestOAuthV2Invalidate(t *testing.T) {
	prods := oauthProducts(t)
	r, err := oauthExec(t, prods, oauthGenPolicy, "POST", "/token", "/token", "grant_type=password&username=u&password=p",
		"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada-secret"))
	if err != nil {
		t.Fatal(err)
	}
	access, _ := r.Get("oauthv2accesstoken.G.access_token")
	refresh, _ := r.Get("oauthv2accesstoken.G.refresh_token")
	toks := store.MemoryStores().Tokens
	ctx := context.Background()
	if _, found, _ := toks.Get(ctx, store.RefreshToken, refresh); !found {
		t.Fatal("refresh token not stored")
	}
	inv := `<OAuthV2 name="I"><Operation>InvalidateToken</Operation><Tokens><Token type="accesstoken" cascade="true">request.header.tok</Token></Tokens></OAuthV2>`
	if _, err := oauthExec(t, prods, inv, "POST", "/revoke", "/revoke", "", "tok", access); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := toks.Get(ctx, store.AccessToken, access); found {
		t.Error("access token still valid")
	}
	if _, found, _ := toks.Get(ctx, store.RefreshToken, refresh); found {
		t.Error("refresh token still valid after cascade")
	}
	if _, err := oauthExec(t, prods, oauthVerifyPolicy, "GET", "/forecast", "/forecast", "", "Authorization", "Bearer "+access); err == nil {
		t.Error("revoked token verified")
	}
	// Revoking again is not a fault; an unresolved variable is.
	if _, err := oauthExec(t, prods, inv, "POST", "/revoke", "/revoke", "", "tok", access); err != nil {
		t.Errorf("second revocation: %v", err)
	}
	_, err = oauthExec(t, prods, inv, "POST", "/revoke", "/revoke", "")
	var f *engine.Fault
	if !errors.As(err, &f) || f.Code != "steps.oauth.v2.FailedToResolveToken" {
		t.Errorf("missing token variable: %v", err)
	}
}

// TestOAuthV2Refresh issues a password-grant token, refreshes it and
// checks the new tokens, the revocation of the old refresh token and the
// refusals.
func TestOAuthV2Refresh(t *testing.T) {
	prods := oauthProducts(t)
	r, err := oauthExec(t, prods, oauthGenPolicy, "POST", "/token", "/token", "grant_type=password&username=u&password=p&scope=read",
		"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada-secret"))
	if err != nil {
		t.Fatal(err)
	}
	refresh, _ := r.Get("oauthv2accesstoken.G.refresh_token")
	const ref = `<OAuthV2 name="R"><Operation>RefreshAccessToken</Operation><ExpiresIn>60000</ExpiresIn><GenerateResponse enabled="false"/></OAuthV2>`
	form := []string{"Content-Type", oauthFormCT}
	r, err = oauthExec(t, prods, ref, "POST", "/token", "/token", "grant_type=refresh_token&refresh_token="+refresh, form...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"client_id": "ada-id", "scope": "read", "expires_in": "60", "refresh_count": "1", "api_product_list": "[weather]"}
	for k, v := range want {
		if got, _ := r.Get("oauthv2accesstoken.R." + k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	access, _ := r.Get("oauthv2accesstoken.R.access_token")
	refresh2, _ := r.Get("oauthv2accesstoken.R.refresh_token")
	if refresh2 == "" || refresh2 == refresh {
		t.Fatalf("new refresh token %q", refresh2)
	}
	if _, err := oauthExec(t, prods, oauthVerifyPolicy, "GET", "/forecast", "/forecast", "", "Authorization", "Bearer "+access); err != nil {
		t.Errorf("refreshed access token: %v", err)
	}
	r, err = oauthExec(t, prods, ref, "POST", "/token", "/token", "grant_type=refresh_token&refresh_token="+refresh2, form...)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get("oauthv2accesstoken.R.refresh_count"); got != "2" {
		t.Errorf("second refresh_count = %q", got)
	}
	refresh3, _ := r.Get("oauthv2accesstoken.R.refresh_token")
	fault := func(name, body string, headers ...string) {
		t.Helper()
		_, err := oauthExec(t, prods, ref, "POST", "/token", "/token", body, append(form, headers...)...)
		var f *engine.Fault
		if !errors.As(err, &f) || f.Code != "steps.oauth.v2."+name {
			t.Errorf("%s: %v, want %s", body, err, name)
		}
	}
	fault("invalid_request", "grant_type=refresh_token&refresh_token="+refresh) // used: revoked
	fault("invalid_request", "grant_type=refresh_token&refresh_token=nope")
	fault("invalid_request", "grant_type=refresh_token")
	fault("invalid_request", "refresh_token="+refresh2)
	fault("invalid_request", "grant_type=refresh_token&refresh_token="+refresh2) // used by the second refresh
	fault("unsupported_grant_type", "grant_type=client_credentials&refresh_token="+refresh3)
	fault("invalid_client", "grant_type=refresh_token&refresh_token="+refresh3, "Authorization", oauthBasicHeader("other-id", "s"))
}

// oauthIssued issues a client_credentials token of ada-id with
// oauthGenPolicy (30 minutes).
func oauthIssued(t *testing.T, prods store.Products) string {
	t.Helper()
	r, err := oauthExec(t, prods, oauthGenPolicy, "POST", "/token", "/token", "grant_type=client_credentials",
		"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada-secret"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := r.Get("oauthv2accesstoken.G.access_token")
	return v
}
