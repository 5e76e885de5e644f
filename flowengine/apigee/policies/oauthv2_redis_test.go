package policies

import (
	"errors"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// TestOAuthV2Redis runs a token's whole life on the Redis token store:
// issue (password grant, with an attribute), verify, read and change its
// attributes, refresh, and invalidate with cascade, so that both stores
// keep everything the policies need.
func TestOAuthV2Redis(t *testing.T) {
	st := quotaRedis(t, nil)
	prods := oauthProducts(t)
	exec := func(src, method, path, body string, headers ...string) (*engine.Run, error) {
		t.Helper()
		return oauthExecIn(t, st, prods, src, method, path, path, body, headers...)
	}
	gen := `<OAuthV2 name="G"><Operation>GenerateAccessToken</Operation><RefreshTokenExpiresIn>600000</RefreshTokenExpiresIn>
  <Attributes><Attribute name="tenant">t7</Attribute></Attributes></OAuthV2>`
	r, err := exec(gen, "POST", "/token", "grant_type=password&username=u&password=p&scope=write",
		"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada-secret"))
	if err != nil {
		t.Fatal(err)
	}
	access, _ := r.Get("oauthv2accesstoken.G.access_token")
	refresh, _ := r.Get("oauthv2accesstoken.G.refresh_token")
	bearer := []string{"Authorization", "Bearer " + access}

	r, err = exec(oauthVerifyPolicy, "GET", "/forecast", "", bearer...)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	for k, want := range map[string]string{"scope": "write", "accesstoken.tenant": "t7", "apiproduct.name": "weather", "developer.app.name": "ada-app"} {
		if got, _ := r.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	set := `<SetOAuthV2Info name="S"><AccessToken ref="request.header.tok"/><Attributes><Attribute name="tier">gold</Attribute></Attributes></SetOAuthV2Info>`
	if _, err := exec(set, "POST", "/x", "", "tok", access); err != nil {
		t.Fatalf("set info: %v", err)
	}
	get := `<GetOAuthV2Info name="GI"><AccessToken ref="request.header.tok"/></GetOAuthV2Info>`
	r, err = exec(get, "GET", "/x", "", "tok", access)
	if err != nil {
		t.Fatalf("get info: %v", err)
	}
	if got, _ := r.Get("oauthv2accesstoken.GI.accesstoken.tier"); got != "gold" {
		t.Errorf("tier after SetOAuthV2Info = %q", got)
	}
	if got, _ := r.Get("oauthv2accesstoken.GI.refresh_token"); got != refresh {
		t.Errorf("refresh_token = %q, want %q", got, refresh)
	}

	ref := `<OAuthV2 name="R"><Operation>RefreshAccessToken</Operation></OAuthV2>`
	r, err = exec(ref, "POST", "/token", "grant_type=refresh_token&refresh_token="+refresh, "Content-Type", oauthFormCT)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	access2, _ := r.Get("oauthv2accesstoken.R.access_token")
	refresh2, _ := r.Get("oauthv2accesstoken.R.refresh_token")

	inv := `<OAuthV2 name="I"><Operation>InvalidateToken</Operation><Tokens><Token type="accesstoken" cascade="true">request.header.tok</Token></Tokens></OAuthV2>`
	if _, err := exec(inv, "POST", "/revoke", "", "tok", access2); err != nil {
		t.Fatalf("invalidate: %v", err)
	}
	var f *engine.Fault
	if _, err := exec(oauthVerifyPolicy, "GET", "/forecast", "", "Authorization", "Bearer "+access2); !errors.As(err, &f) || f.Name != "invalid_access_token" {
		t.Errorf("verify a revoked token: %v", err)
	}
	if _, err := exec(ref, "POST", "/token", "grant_type=refresh_token&refresh_token="+refresh2, "Content-Type", oauthFormCT); !errors.As(err, &f) || f.Name != "invalid_request" {
		t.Errorf("refresh with a cascaded refresh token: %v", err)
	}
}
