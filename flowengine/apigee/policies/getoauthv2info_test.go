package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func TestGetOAuthV2Info(t *testing.T) {
	prods := oauthProducts(t)
	ok := func(r *engine.Run) { r.SetTestProducts(prods) }
	tok := oauthPutToken(t, "ada-id", "read")
	const (
		byToken  = `<GetOAuthV2Info name="GI"><AccessToken ref="request.header.tok"/></GetOAuthV2Info>`
		byClient = `<GetOAuthV2Info name="GC"><ClientId ref="request.header.cid"/></GetOAuthV2Info>`
	)
	cases := []pcase{
		{name: "access token", policy: byToken, headers: []string{"tok", tok}, setup: ok, vars: map[string]string{
			"oauthv2accesstoken.GI.access_token":       tok,
			"oauthv2accesstoken.GI.client_id":          "ada-id",
			"oauthv2accesstoken.GI.scope":              "read",
			"oauthv2accesstoken.GI.status":             "approved",
			"oauthv2accesstoken.GI.developer.app.name": "ada-app",
			"oauthv2accesstoken.GI.developer.id":       "dev-ada",
			"oauthv2accesstoken.GI.accesstoken.tenant": "t1",
		}},
		{name: "unknown access token", policy: byToken, headers: []string{"tok", "nope"}, setup: ok,
			fault: "steps.oauth.v2.invalid_access_token", faultMsg: "Invalid Access Token", vars: map[string]string{"oauthv2accesstoken.GI.client_id": unset}},
		{name: "expired access token", policy: byToken, headers: []string{"tok", oauthPutExpired(t)}, setup: ok,
			fault: "steps.oauth.v2.access_token_expired", faultMsg: "Access Token expired"},
		{name: "token variable absent", policy: byToken, setup: ok, fault: "steps.oauth.v2.FailedToResolveAccessToken"},
		{name: "unknown refresh token", policy: `<GetOAuthV2Info name="GR"><RefreshToken ref="request.header.tok"/></GetOAuthV2Info>`,
			headers: []string{"tok", tok}, setup: ok, fault: "steps.oauth.v2.invalid_refresh_token"},
		{name: "client id", policy: byClient, headers: []string{"cid", "ada-id"}, setup: ok, vars: map[string]string{
			"oauthv2client.GC.client_id":          "ada-id",
			"oauthv2client.GC.client_secret":      "ada-secret",
			"oauthv2client.GC.developer.email":    "ada@example.com",
			"oauthv2client.GC.developer.app.name": "ada-app",
			"oauthv2client.GC.team":               "blue",
			"oauthv2client.GC.status":             "approved",
		}},
		{name: "unknown client id", policy: byClient, headers: []string{"cid", "nobody"}, setup: ok,
			fault: "steps.oauth.v2.invalid_client-invalid_client_id", faultMsg: "ClientId is Invalid"},
		{name: "client id without products directory", policy: byClient, headers: []string{"cid", "ada-id"}, fault: "steps.oauth.v2.ExecutionFailed"},

		{name: "nothing to look up", policy: `<GetOAuthV2Info name="G"/>`, loadErr: "needs <AccessToken>"},
		{name: "two things", policy: `<GetOAuthV2Info name="G"><AccessToken ref="a"/><ClientId ref="b"/></GetOAuthV2Info>`, loadErr: "only one of"},
		{name: "authorization code", policy: `<GetOAuthV2Info name="G"><AuthorizationCode ref="a"/></GetOAuthV2Info>`, loadErr: "<AuthorizationCode> is not supported"},
		{name: "no ref", policy: `<GetOAuthV2Info name="G"><AccessToken/></GetOAuthV2Info>`, loadErr: "needs ref="},
	}
	runCases(t, cases)
}
