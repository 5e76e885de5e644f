package policies

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// compileRefresh reads the elements of RefreshAccessToken: <GrantType>
// (default request.formparam.grant_type, which must be refresh_token),
// <RefreshToken> (default request.formparam.refresh_token), <ExpiresIn>,
// <RefreshTokenExpiresIn> and <ReuseRefreshToken>.
func (o *oauthV2) compileRefresh(c *engine.Compiler, root *bundle.Node, fail func(*bundle.Node, string, ...any)) bool {
	ok := true
	if n := root.Child("GrantType"); n != nil && oauthRefOf(n) != "" {
		o.grantTypeRef = oauthRefOf(n)
	}
	o.refreshTokenRef = "request.formparam.refresh_token"
	if n := root.Child("RefreshToken"); n != nil && oauthRefOf(n) != "" {
		o.refreshTokenRef = oauthRefOf(n)
	}
	if n := root.Child("ReuseRefreshToken"); n != nil {
		o.reuseRefresh = c.Bool(n, n.Text, false)
	}
	var good bool
	if o.expiresIn, good = oauthCompileDuration(root.Child("ExpiresIn"), oauthDefaultExpiresIn, fail); !good {
		ok = false
	}
	if o.refreshExpires, good = oauthCompileDuration(root.Child("RefreshTokenExpiresIn"), 0, fail); !good {
		ok = false
	}
	return ok
}

// refreshAccessToken runs <Operation>RefreshAccessToken: a valid refresh
// token of an app that is still approved gets a new access token with the
// same products, scope and attributes, and (unless <ReuseRefreshToken>
// is true) a new refresh token, the old one being revoked. The response
// and variables are GenerateAccessToken's, refresh_count counting the
// refreshes.
//
//	grant type variable absent       steps.oauth.v2.invalid_request  400 "The request is missing a required parameter : grant_type"
//	grant type not refresh_token     steps.oauth.v2.unsupported_grant_type 400
//	refresh token absent             steps.oauth.v2.invalid_request  400 "The request is missing a required parameter : refresh_token"
//	unknown, expired, revoked token  steps.oauth.v2.invalid_request  400 "Invalid Refresh Token"
//	client id given and not the      steps.oauth.v2.invalid_client   401 "ClientId is Invalid"
//	token's; app no longer approved
//
// The "Invalid Refresh Token" wording follows Apigee's OAuth HTTP error
// reference as remembered [mem]. The access token issued with the old
// refresh token is not revoked: the refresh token's store entry does not
// name it, so it lives until it expires.
func (o *oauthV2) refreshAccessToken(r *engine.Run) error {
	grant, ok := r.Get(o.grantTypeRef)
	grant = strings.TrimSpace(grant)
	if !ok || grant == "" {
		return o.genFault("invalid_request", 400, "The request is missing a required parameter : grant_type", nil)
	}
	if grant != "refresh_token" {
		return o.genFault("unsupported_grant_type", 400, "Unsupported grant type : "+grant, nil)
	}
	rv, ok := r.Get(o.refreshTokenRef)
	rv = strings.TrimSpace(rv)
	if !ok || rv == "" {
		return o.genFault("invalid_request", 400, "The request is missing a required parameter : refresh_token", nil)
	}
	invalid := o.genFault("invalid_request", 400, "Invalid Refresh Token", nil)
	if len(rv) > oauthMaxTokenBytes {
		return invalid
	}
	toks := r.State().Tokens
	old, found, err := toks.Get(r.Ctx(), store.RefreshToken, rv)
	if err != nil {
		return o.storeFault(err)
	}
	if !found || !time.Now().Before(old.ExpiresAt) {
		return invalid
	}
	if id, _ := o.clientCredentials(r); id != "" && id != old.ClientID {
		return o.genFault("invalid_client", 401, "ClientId is Invalid", errors.New("refresh token of another client"))
	}
	prods, err := r.Products()
	if err != nil {
		return o.storeFault(err)
	}
	m, err := prods.LookupKey(r.Ctx(), old.ClientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return o.genFault("invalid_client", 401, "ClientId is Invalid", err)
	case err != nil:
		return o.storeFault(err)
	case m == nil || m.Credential == nil || m.App == nil || m.Developer == nil:
		return o.genFault("invalid_client", 401, "ClientId is Invalid", nil)
	}
	if err := m.Check(time.Now()); err != nil {
		return o.genFault("invalid_client", 401, "ClientId is Invalid", err)
	}
	count, _ := strconv.Atoi(old.Attributes[oauthRefreshCountAttr])
	attrs, shown := map[string]string{}, map[string]string{}
	for k, v := range old.Attributes {
		if !oauthInternal(k) {
			attrs[k], shown[k] = v, v
		}
	}
	in := oauthIssue{m: m, clientID: old.ClientID, products: old.APIProducts, scope: old.Scope, grant: old.GrantType,
		attrs: attrs, shown: shown, refresh: true, refreshCount: count + 1}
	if o.reuseRefresh {
		in.reuseRefresh, in.refreshExpiresAt = rv, old.ExpiresAt
	} else if err := toks.Revoke(r.Ctx(), store.RefreshToken, rv); err != nil {
		return o.storeFault(err)
	}
	return o.issue(r, in)
}
