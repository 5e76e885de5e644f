package policies

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// verifyAccessToken runs <Operation>VerifyAccessToken.
//
// The token is the Authorization: Bearer header's (default) or the value
// of <AccessToken> (a variable name, or ref=), less <AccessTokenPrefix>
// and a space when that is set. Checks and faults, in
// order (status 401 unless said; faultstrings as Apigee sends them):
//
//	no Authorization header, not Bearer   oauth.v2.InvalidAccessToken       "Invalid access token"
//	<AccessToken> variable absent         steps.oauth.v2.FailedToResolveAccessToken (500)
//	unknown or revoked token              keymanagement.service.invalid_access_token "Invalid Access Token"
//	expired token                         keymanagement.service.access_token_expired "Access Token expired"
//	client's credential revoked/expired   keymanagement.service.access_token_not_approved "Access Token not approved"
//	app revoked                           keymanagement.service.invalid_client-app_not_approved
//	developer inactive                    keymanagement.service.DeveloperStatusNotActive "Developer Status is not Active"
//	no approved product of the client     oauth.v2.InvalidApiCallAsNoApiProductMatchFound "Invalid API call as no apiproduct match found"
//	allows apiproxy.name, environment, proxy.pathsuffix and verb
//	token has none of <Scope>'s scopes    steps.oauth.v2.InsufficientScope (403) "Required scope(s) : <Scope>"
//	store unavailable                     steps.oauth.v2.ExecutionFailed (500)
//
// An expired token is access_token_expired for an hour after its expiry
// (oauthExpiredGrace: the store keeps it that long), then
// invalid_access_token, as on Apigee once it purges the token. <Scope> is satisfied when the token has
// at least one of the listed scopes (Apigee's documented rule).
//
// On success it sets the un-prefixed variables Apigee documents:
// organization_name, developer.id, developer.email, developer.app.name,
// developer.app.id, client_id, grant_type, token_type, access_token,
// accesstoken.<attribute>, issued_at, expires_in (seconds left), status,
// scope, apiproduct.name, apiproduct.<attribute>, app.<attribute>,
// apiproduct.operation.resource (operation-group products) and,
// for Quota policies, apiproduct.developer.quota.limit / .interval /
// .timeunit.
func (o *oauthV2) verifyAccessToken(r *engine.Run) error {
	var token string
	if o.accessTokenRef != "" {
		v, ok := r.Get(o.accessTokenRef)
		if !ok {
			return oauthFault("steps.oauth.v2.FailedToResolveAccessToken", 500, "Failed to resolve access token variable "+o.accessTokenRef, nil)
		}
		token = strings.TrimSpace(v)
		if o.tokenPrefix != "" {
			// <AccessTokenPrefix>Bearer</AccessTokenPrefix>: the value is
			// "Bearer <token>".
			p := o.tokenPrefix + " "
			if len(token) < len(p) || !strings.EqualFold(token[:len(p)], p) {
				return oauthFault("oauth.v2.InvalidAccessToken", 401, "Invalid access token", nil)
			}
			token = strings.TrimSpace(token[len(p):])
		}
	} else {
		h, _ := r.Get("request.header.authorization")
		const p = "bearer "
		if len(h) < len(p) || !strings.EqualFold(h[:len(p)], p) {
			return oauthFault("oauth.v2.InvalidAccessToken", 401, "Invalid access token", nil)
		}
		token = strings.TrimSpace(h[len(p):])
	}
	invalid := oauthFault("keymanagement.service.invalid_access_token", 401, "Invalid Access Token", nil)
	if token == "" || len(token) > oauthMaxTokenBytes {
		return invalid
	}
	tok, found, err := r.State().Tokens.Get(r.Ctx(), store.AccessToken, token)
	if err != nil {
		return o.storeFault(err)
	}
	now := time.Now()
	if !found {
		return invalid
	}
	if !now.Before(oauthExpiry(tok)) {
		return oauthFault("keymanagement.service.access_token_expired", 401, "Access Token expired", nil)
	}
	prods, err := r.Products()
	if err != nil {
		return o.storeFault(err)
	}
	m, err := prods.LookupKey(r.Ctx(), tok.ClientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return invalid // the app was deleted: its tokens are gone with it
	case err != nil:
		return o.storeFault(err)
	case m == nil || m.Credential == nil || m.App == nil || m.Developer == nil:
		return invalid
	}
	if err := m.Check(now); err != nil {
		switch {
		case errors.Is(err, store.ErrKeyNotApproved), errors.Is(err, store.ErrKeyExpired):
			return oauthFault("keymanagement.service.access_token_not_approved", 401, "Access Token not approved", err)
		case errors.Is(err, store.ErrAppNotApproved):
			return oauthFault("keymanagement.service.invalid_client-app_not_approved", 401, "Developer app is not approved", err)
		case errors.Is(err, store.ErrDeveloperInactive):
			return oauthFault("keymanagement.service.DeveloperStatusNotActive", 401, "Developer Status is not Active", err)
		}
		return o.storeFault(err)
	}
	env, _ := r.Get("environment.name")
	suffix, _ := r.Get("proxy.pathsuffix")
	verb, _ := r.Get("request.verb")
	prod, quota, err := m.Authorize(r.ProxyName(), env, suffix, verb)
	if err != nil {
		if errors.Is(err, store.ErrResourceNotAllowed) {
			return oauthFault("oauth.v2.InvalidApiCallAsNoApiProductMatchFound", 401, "Invalid API call as no apiproduct match found", err)
		}
		return o.storeFault(err)
	}
	if len(o.scopes) > 0 {
		have := strings.Fields(tok.Scope)
		if !slices.ContainsFunc(o.scopes, func(s string) bool { return slices.Contains(have, s) }) {
			return oauthFault("steps.oauth.v2.InsufficientScope", 403, "Required scope(s) : "+strings.Join(o.scopes, " "), nil)
		}
	}
	o.setVerifyVars(r, token, tok, m, prod, quota, now)
	return nil
}

func (o *oauthV2) setVerifyVars(r *engine.Run, token string, tok store.Token, m *store.KeyMatch, prod *store.APIProduct, q *store.Quota, now time.Time) {
	set := func(name, val string) { _ = r.Set(name, val) }
	dev, app := m.Developer, m.App
	devID := dev.ID
	if devID == "" {
		devID = dev.Email
	}
	appID := app.ID
	if appID == "" {
		appID = app.Name
	}
	// Custom attributes first, so that a built-in name wins.
	for n, v := range app.Attributes {
		set("app."+n, v)
	}
	for n, v := range prod.Attributes {
		set("apiproduct."+n, v)
	}
	for n, v := range tok.Attributes {
		if oauthInternal(n) {
			continue
		}
		set("accesstoken."+n, v)
	}
	org, _ := r.Get("organization.name")
	set("organization_name", org)
	set("developer.id", devID)
	set("developer.email", dev.Email)
	set("developer.app.name", app.Name)
	set("developer.app.id", appID)
	set("client_id", tok.ClientID)
	set("grant_type", tok.GrantType)
	set("token_type", "BearerToken")
	set("access_token", token)
	set("issued_at", strconv.FormatInt(tok.IssuedAt.UnixMilli(), 10))
	set("expires_in", strconv.FormatInt(int64(oauthExpiry(tok).Sub(now)/time.Second), 10))
	set("status", "approved")
	set("scope", tok.Scope)
	set("apiproduct.name", prod.Name)
	suffix, _ := r.Get("proxy.pathsuffix")
	verb, _ := r.Get("request.verb")
	if op, ok := prod.Operation(r.ProxyName(), suffix, verb); ok {
		set("apiproduct.operation.resource", op.Resource)
	}
	if q != nil {
		set("apiproduct.developer.quota.limit", strconv.FormatInt(q.Limit, 10))
		set("apiproduct.developer.quota.interval", strconv.FormatInt(q.Interval, 10))
		set("apiproduct.developer.quota.timeunit", q.TimeUnit.String())
	}
}
