package policies

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

func TestSetOAuthV2Info(t *testing.T) {
	tok := oauthPutToken(t, "ada-id", "read")
	const policy = `<SetOAuthV2Info name="S"><AccessToken ref="request.header.tok"/>
  <Attributes><Attribute name="tier" ref="request.header.tier">bronze</Attribute><Attribute name="tenant">t2</Attribute></Attributes></SetOAuthV2Info>`
	cases := []pcase{
		{name: "set attributes", policy: policy, headers: []string{"tok", tok, "tier", "gold"},
			vars: map[string]string{"oauthv2accesstoken.S.accesstoken.tier": "gold", "oauthv2accesstoken.S.accesstoken.tenant": "t2",
				"oauthv2accesstoken.S.client_id": "ada-id"},
			check: func(t *testing.T, r *engine.Run) {
				got, found, err := store.MemoryStores().Tokens.Get(context.Background(), store.AccessToken, tok)
				if err != nil || !found || got.Attributes["tier"] != "gold" || got.Attributes["tenant"] != "t2" || got.Scope != "read" {
					t.Errorf("stored token %+v found %v err %v", got, found, err)
				}
			}},
		{name: "unknown token", policy: policy, headers: []string{"tok", "nope"}, fault: "steps.oauth.v2.invalid_access_token", faultMsg: "Invalid Access Token"},
		{name: "expired token", policy: policy, headers: []string{"tok", oauthPutExpired(t)}, fault: "steps.oauth.v2.access_token_expired"},
		{name: "reserved attribute", policy: `<SetOAuthV2Info name="S"><AccessToken ref="a"/><Attributes><Attribute name="flowproc.expires_at">9</Attribute></Attributes></SetOAuthV2Info>`,
			loadErr: "reserved"},
		{name: "token variable absent", policy: policy, fault: "steps.oauth.v2.FailedToResolveAccessToken"},

		{name: "no AccessToken", policy: `<SetOAuthV2Info name="S"><Attributes><Attribute name="a">1</Attribute></Attributes></SetOAuthV2Info>`, loadErr: "needs <AccessToken"},
		{name: "no Attributes", policy: `<SetOAuthV2Info name="S"><AccessToken ref="a"/></SetOAuthV2Info>`, loadErr: "needs <Attributes>"},
		{name: "attribute without name", policy: `<SetOAuthV2Info name="S"><AccessToken ref="a"/><Attributes><Attribute>1</Attribute></Attributes></SetOAuthV2Info>`,
			loadErr: "<Attribute name="},
	}
	runCases(t, cases)
}
