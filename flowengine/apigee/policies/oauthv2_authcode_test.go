package policies

import (
	"errors"
	"net/url"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

const oauthCodePolicy = `<OAuthV2 name="AC"><Operation>GenerateAuthorizationCode</Operation><GenerateResponse enabled="true"/></OAuthV2>`

func TestOAuthV2AuthorizationCode(t *testing.T) {
	prods := oauthProducts(t)
	authorize := func(query string) (*engine.Run, error) {
		return oauthExec(t, prods, oauthCodePolicy, "GET", "/authorize?"+query, "/authorize", "")
	}
	_, err := authorize("client_id=ada-id&response_type=code&redirect_uri=" + url.QueryEscape("https://ada.example.com/cb") + "&scope=read&state=xyz")
	var a *engine.Answered
	if !errors.As(err, &a) || a.Response.Status != 302 {
		t.Fatalf("%v, want a 302 answer", err)
	}
	loc, _ := a.Response.Header("Location")
	u, err := url.Parse(loc)
	if err != nil || u.Host != "ada.example.com" || u.Query().Get("state") != "xyz" || len(u.Query().Get("code")) != 32 {
		t.Fatalf("Location %q", loc)
	}
	code := u.Query().Get("code")

	gen := `<OAuthV2 name="G"><Operation>GenerateAccessToken</Operation>
  <SupportedGrantTypes><GrantType>authorization_code</GrantType></SupportedGrantTypes><GenerateResponse enabled="false"/></OAuthV2>`
	ada := []string{"Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("ada-id", "ada-secret")}
	redeem := func(body string, headers ...string) (*engine.Run, error) {
		return oauthExec(t, prods, gen, "POST", "/token", "/token", body, headers...)
	}
	cb := "&redirect_uri=" + url.QueryEscape("https://ada.example.com/cb")
	wantFault := func(what string, err error, msg string) {
		t.Helper()
		var f *engine.Fault
		if !errors.As(err, &f) || f.Message != msg {
			t.Errorf("%s: %v, want %q", what, err, msg)
		}
	}
	_, err = redeem("grant_type=authorization_code&code="+code+"&redirect_uri=https://evil.example.com/", ada...)
	wantFault("other redirect", err, "Invalid redirect_uri : https://evil.example.com/")
	_, err = redeem("grant_type=authorization_code&code="+code, ada...)
	wantFault("no redirect", err, "Required param : redirect_uri")
	_, err = redeem("grant_type=authorization_code&code="+code+cb, "Content-Type", oauthFormCT, "Authorization", oauthBasicHeader("other-id", "s"))
	wantFault("another client", err, "Invalid Authorization Code")
	r, err := redeem("grant_type=authorization_code&code="+code+cb, ada...)
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	for k, v := range map[string]string{"scope": "read", "client_id": "ada-id", "api_product_list": "[weather]"} {
		if got, _ := r.Get("oauthv2accesstoken.G." + k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if rt, _ := r.Get("oauthv2accesstoken.G.refresh_token"); rt == "" {
		t.Error("no refresh token for the authorization_code grant")
	}
	_, err = redeem("grant_type=authorization_code&code="+code+cb, ada...)
	wantFault("second use", err, "Invalid Authorization Code")

	for _, c := range []struct{ query, msg string }{
		{"response_type=code", "The request is missing a required parameter : client_id"},
		{"client_id=nobody&response_type=code", "Invalid client id : nobody. ClientId is Invalid"},
		{"client_id=ada-id", "The request is missing a required parameter : response_type"},
		{"client_id=ada-id&response_type=token", "Response type must be code"},
		{"client_id=ada-id&response_type=code&redirect_uri=https://evil.example.com/", "Invalid redirection uri https://evil.example.com/"},
		{"client_id=ada-id&response_type=code&scope=admin", "Invalid scope"},
		{"client_id=bob-id&response_type=code", "Invalid client id : bob-id. ClientId is Invalid"},
		{"client_id=nocb-id&response_type=code", "Redirection URI is required"},
	} {
		_, err := authorize(c.query)
		wantFault(c.query, err, c.msg)
	}
	// Without GenerateResponse: variables, the app's callback as default.
	r, err = oauthExec(t, prods, `<OAuthV2 name="AC"><Operation>GenerateAuthorizationCode</Operation></OAuthV2>`, "GET",
		"/authorize?client_id=ada-id&response_type=code", "/authorize", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get("oauthv2authcode.AC.redirect_uri"); got != "https://ada.example.com/cb" {
		t.Errorf("redirect_uri = %q", got)
	}
	if got, _ := r.Get("oauthv2authcode.AC.scope"); got != "read write" {
		t.Errorf("scope = %q", got)
	}
}
