package policies

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// GetOAuthV2Info (Apigee docs: OAuthV2) reads what the token store knows of
// an access token, a refresh token or a client id into variables:
//
//	<GetOAuthV2Info name="G"><AccessToken ref="request.header.t"/></GetOAuthV2Info>
//
// One of <AccessToken>, <RefreshToken> or <ClientId> (ref= the variable
// holding it); <AuthorizationCode> is the load error AP401, flowproc
// issuing no codes. Variables:
//
//	AccessToken   oauthv2accesstoken.<policy>.access_token, client_id, scope, refresh_token,
//	              expires_in (seconds left), issued_at, status, developer.email,
//	              developer.id, developer.app.name, api_product_list, accesstoken.<attribute>
//	RefreshToken  oauthv2refreshtoken.<policy>.refresh_token, client_id, scope, expires_in,
//	              issued_at, status, developer.email, developer.app.name, api_product_list
//	ClientId      oauthv2client.<policy>.client_id, client_secret, redirection_uris,
//	              developer.email, developer.id, developer.app.name, status, <app attribute>
//
// Faults (Apigee's GetOAuthV2Info error reference, status 500): a variable
// that does not resolve steps.oauth.v2.FailedToResolve{AccessToken,
// RefreshToken,ClientId}; an unknown, expired or revoked token
// steps.oauth.v2.invalid_access_token "Invalid Access Token" (an expired
// one steps.oauth.v2.access_token_expired "Access Token expired") /
// steps.oauth.v2.invalid_refresh_token "Invalid Refresh Token"; an
// unknown client steps.oauth.v2.invalid_client-invalid_client_id
// "ClientId is Invalid".
func init() {
	engine.Register(engine.Kind{Type: "GetOAuthV2Info", Prefix: "oauthV2", New: newGetOAuthV2Info, Recyclable: true})
}

type getOAuthV2Info struct {
	name string
	what string // AccessToken, RefreshToken or ClientId
	ref  string
}

func newGetOAuthV2Info(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("AccessToken", "RefreshToken", "ClientId", "AuthorizationCode", "IgnoreAccessTokenStatus")...)
	if n := root.Child("AuthorizationCode"); n != nil {
		c.Errorf(n, diag.APBadPolicy, "GetOAuthV2Info %s: <AuthorizationCode> is not supported (flowproc issues no authorization codes)", p.Name)
		return nil
	}
	var g *getOAuthV2Info
	for _, what := range []string{"AccessToken", "RefreshToken", "ClientId"} {
		n := root.Child(what)
		if n == nil {
			continue
		}
		if g != nil {
			c.Errorf(n, diag.APBadPolicy, "GetOAuthV2Info %s: only one of <AccessToken>, <RefreshToken> and <ClientId>", p.Name)
			return nil
		}
		ref := oauthRefOf(n)
		if ref == "" {
			c.Errorf(n, diag.APMissingElement, "GetOAuthV2Info %s: <%s> needs ref= (the variable holding the value)", p.Name, what)
			return nil
		}
		g = &getOAuthV2Info{name: p.Name, what: what, ref: ref}
	}
	if g == nil {
		c.Errorf(root, diag.APMissingElement, "GetOAuthV2Info %s needs <AccessToken>, <RefreshToken> or <ClientId>", p.Name)
		return nil
	}
	if n := root.Child("IgnoreAccessTokenStatus"); n != nil && c.Bool(n, n.Text, false) {
		c.Errorf(n, diag.APBadPolicy, "GetOAuthV2Info %s: <IgnoreAccessTokenStatus>true is not supported (revoked tokens are gone from the store)", p.Name)
		return nil
	}
	return g
}

// Execute implements engine.Policy.
func (g *getOAuthV2Info) Execute(r *engine.Run) error {
	v, ok := r.Get(g.ref)
	v = strings.TrimSpace(v)
	if !ok {
		return oauthFault("steps.oauth.v2.FailedToResolve"+g.what, 500, "Failed to resolve "+g.what+" variable "+g.ref, nil)
	}
	switch g.what {
	case "ClientId":
		return g.client(r, v)
	case "RefreshToken":
		return g.token(r, store.RefreshToken, v, "oauthv2refreshtoken.", oauthFault("steps.oauth.v2.invalid_refresh_token", 500, "Invalid Refresh Token", nil))
	}
	return g.token(r, store.AccessToken, v, "oauthv2accesstoken.", oauthFault("steps.oauth.v2.invalid_access_token", 500, "Invalid Access Token", nil))
}

func (g *getOAuthV2Info) token(r *engine.Run, kind store.TokenKind, v, prefix string, invalid *engine.Fault) error {
	if v == "" || len(v) > oauthMaxTokenBytes {
		return invalid
	}
	tok, found, err := r.State().Tokens.Get(r.Ctx(), kind, v)
	if err != nil {
		return oauthFault("steps.oauth.v2.ExecutionFailed", 500, "Execution of GetOAuthV2Info "+g.name+" failed: token store unavailable", err)
	}
	now := time.Now()
	if !found {
		return invalid
	}
	expiry := tok.ExpiresAt
	if kind == store.AccessToken {
		expiry = oauthExpiry(tok)
	}
	if !now.Before(expiry) {
		if kind == store.AccessToken {
			return oauthFault("steps.oauth.v2.access_token_expired", 500, "Access Token expired", nil)
		}
		return invalid
	}
	p := prefix + g.name + "."
	set := func(n, val string) { _ = r.Set(p+n, val) }
	if kind == store.AccessToken {
		for n, val := range tok.Attributes {
			if !oauthInternal(n) {
				set("accesstoken."+n, val)
			}
		}
		set("access_token", v)
		set("refresh_token", tok.RefreshToken)
	} else {
		set("refresh_token", v)
	}
	set("client_id", tok.ClientID)
	set("scope", tok.Scope)
	set("expires_in", strconv.FormatInt(int64(expiry.Sub(now)/time.Second), 10))
	set("issued_at", strconv.FormatInt(tok.IssuedAt.UnixMilli(), 10))
	set("status", "approved")
	set("developer.email", tok.DeveloperEmail)
	set("developer.app.name", tok.AppName)
	set("api_product_list", "["+strings.Join(tok.APIProducts, ", ")+"]")
	if prods, err := r.Products(); err == nil {
		if m, err := prods.LookupKey(r.Ctx(), tok.ClientID); err == nil && m != nil && m.Developer != nil {
			set("developer.id", oauthDeveloperID(m.Developer))
		}
	}
	return nil
}

func (g *getOAuthV2Info) client(r *engine.Run, id string) error {
	invalid := oauthFault("steps.oauth.v2.invalid_client-invalid_client_id", 500, "ClientId is Invalid", nil)
	if id == "" || len(id) > oauthMaxTokenBytes {
		return invalid
	}
	prods, err := r.Products()
	if err != nil {
		return oauthFault("steps.oauth.v2.ExecutionFailed", 500, "Execution of GetOAuthV2Info "+g.name+" failed: product store unavailable", err)
	}
	m, err := prods.LookupKey(r.Ctx(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return invalid
	case err != nil:
		return oauthFault("steps.oauth.v2.ExecutionFailed", 500, "Execution of GetOAuthV2Info "+g.name+" failed: product store unavailable", err)
	case m == nil || m.Credential == nil || m.App == nil || m.Developer == nil:
		return invalid
	}
	p := "oauthv2client." + g.name + "."
	set := func(n, val string) { _ = r.Set(p+n, val) }
	for n, val := range m.App.Attributes {
		set(n, val)
	}
	set("client_id", m.Credential.ConsumerKey)
	set("client_secret", m.Credential.ConsumerSecret)
	set("redirection_uris", m.App.CallbackURL)
	set("developer.email", m.Developer.Email)
	set("developer.id", oauthDeveloperID(m.Developer))
	set("developer.app.name", m.App.Name)
	set("status", strings.ToLower(m.Credential.Status))
	return nil
}

// oauthDeveloperID is a developer's id, the email when it has none (as
// VerifyAPIKey reports it).
func oauthDeveloperID(d *store.Developer) string {
	if d.ID != "" {
		return d.ID
	}
	return d.Email
}
