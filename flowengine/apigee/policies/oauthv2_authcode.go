package policies

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// oauthDefaultCodeExpiresIn is an authorization code's lifetime without
// <ExpiresIn>.
const oauthDefaultCodeExpiresIn = 10 * time.Minute

// compileAuthCode reads GenerateAuthorizationCode: <ClientId>,
// <RedirectUri>, <ResponseType>, <Scope> and <State> name variables
// (defaults request.queryparam.client_id, redirect_uri, response_type,
// scope, state); <ExpiresIn> is the code's lifetime.
func (o *oauthV2) compileAuthCode(root *bundle.Node, fail func(*bundle.Node, string, ...any)) bool {
	ref := func(el, def string) string {
		if n := root.Child(el); n != nil && oauthRefOf(n) != "" {
			return oauthRefOf(n)
		}
		return def
	}
	o.clientIDRef = ref("ClientId", "request.queryparam.client_id")
	o.redirectRef = ref("RedirectUri", "request.queryparam.redirect_uri")
	o.responseTypeRef = ref("ResponseType", "request.queryparam.response_type")
	o.scopeRef = ref("Scope", "request.queryparam.scope")
	o.stateRef = ref("State", "request.queryparam.state")
	var ok bool
	o.expiresIn, ok = oauthCompileDuration(root.Child("ExpiresIn"), oauthDefaultCodeExpiresIn, fail)
	return ok
}

// generateAuthorizationCode runs <Operation>GenerateAuthorizationCode.
// Faults (Apigee's OAuth HTTP error reference; code steps.oauth.v2.<ErrorCode>):
//
//	client id absent                    invalid_request 400 "The request is missing a required parameter : client_id"
//	unknown client (or not approved)    invalid_request 401 "Invalid client id : <id>. ClientId is Invalid"
//	response_type absent                invalid_request 400 "The request is missing a required parameter : response_type"
//	response_type not code              invalid_request 400 "Response type must be code"
//	no redirect_uri and no callback     invalid_request 400 "Redirection URI is required"
//	redirect_uri not the app's callback invalid_request 400 "Invalid redirection uri <uri>"
//	scope not granted                   invalid_scope   400 "Invalid scope"
//
// The code (single use) is stored with the client, scope and redirect
// URI. With GenerateResponse the policy answers 302 to the redirect URI
// with code= and state=; either way it sets oauthv2authcode.<policy>.code,
// client_id, redirect_uri, scope and state.
func (o *oauthV2) generateAuthorizationCode(r *engine.Run) error {
	id, _ := r.Get(o.clientIDRef)
	id = strings.TrimSpace(id)
	if id == "" {
		return o.genFault("invalid_request", 400, "The request is missing a required parameter : client_id", nil)
	}
	invalid := func(err error) error {
		return o.genFault("invalid_request", 401, "Invalid client id : "+id+". ClientId is Invalid", err)
	}
	if len(id) > oauthMaxTokenBytes {
		return invalid(nil)
	}
	rt, ok := r.Get(o.responseTypeRef)
	switch {
	case !ok || strings.TrimSpace(rt) == "":
		return o.genFault("invalid_request", 400, "The request is missing a required parameter : response_type", nil)
	case strings.TrimSpace(rt) != "code":
		return o.genFault("invalid_request", 400, "Response type must be code", nil)
	}
	prods, err := r.Products()
	if err != nil {
		return o.storeFault(err)
	}
	m, err := prods.LookupKey(r.Ctx(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return invalid(err)
	case err != nil:
		return o.storeFault(err)
	case m == nil || m.Credential == nil || m.App == nil || m.Developer == nil:
		return invalid(nil)
	}
	now := time.Now()
	if err := m.Check(now); err != nil {
		return invalid(err)
	}
	redirect, _ := r.Get(o.redirectRef)
	redirect = strings.TrimSpace(redirect)
	switch {
	case redirect == "" && m.App.CallbackURL == "":
		return o.genFault("invalid_request", 400, "Redirection URI is required", nil)
	case redirect == "":
		redirect = m.App.CallbackURL
	case redirect != m.App.CallbackURL:
		return o.genFault("invalid_request", 400, "Invalid redirection uri "+redirect, nil)
	}
	products, allowed := oauthGrants(m)
	requested, _ := r.Get(o.scopeRef)
	scope, err := oauthScope(requested, allowed)
	if err != nil {
		return o.genFault("invalid_scope", 400, "Invalid scope", err)
	}
	code, err := oauthNewToken()
	if err != nil {
		return o.storeFault(err)
	}
	ttl := o.expiresIn.value(r)
	if ttl <= 0 {
		ttl = oauthDefaultCodeExpiresIn
	}
	err = r.State().Tokens.Put(r.Ctx(), store.Token{Kind: store.AuthCode, Value: code, ClientID: id, AppName: m.App.Name,
		DeveloperEmail: m.Developer.Email, APIProducts: products, Scope: scope, GrantType: "authorization_code",
		RedirectURI: redirect, IssuedAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return o.storeFault(err)
	}
	state, _ := r.Get(o.stateRef)
	p := "oauthv2authcode." + o.name + "."
	for n, v := range map[string]string{"code": code, "client_id": id, "redirect_uri": redirect, "scope": scope, "state": state} {
		_ = r.Set(p+n, v)
	}
	if !o.generate {
		return nil
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return o.genFault("invalid_request", 400, "Invalid redirection uri "+redirect, err)
	}
	q := u.Query()
	q.Set("code", code)
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	resp := engine.NewResponse()
	resp.SetStatus(302)
	resp.SetHeader("Location", u.String())
	return r.Answer(resp)
}

// redeemCode checks the authorization_code grant of GenerateAccessToken:
// the code (<Code>, default request.formparam.code) must be one issued to
// this client and unused, and redirect_uri (<RedirectUri>, default
// request.formparam.redirect_uri) the one it was issued for. The code is
// spent on success. It returns the code's products and scope.
//
//	code absent or unknown, expired, used, another client's
//	                         invalid_request 400 "Invalid Authorization Code"
//	redirect_uri absent      invalid_request 400 "Required param : redirect_uri"
//	redirect_uri different   invalid_request 400 "Invalid redirect_uri : <uri>"
func (o *oauthV2) redeemCode(r *engine.Run, clientID string) (products []string, scope string, err error) {
	code, _ := r.Get(o.codeRef)
	code = strings.TrimSpace(code)
	invalid := o.genFault("invalid_request", 400, "Invalid Authorization Code", nil)
	if code == "" || len(code) > oauthMaxTokenBytes {
		return nil, "", invalid
	}
	toks := r.State().Tokens
	c, found, err := toks.Get(r.Ctx(), store.AuthCode, code)
	if err != nil {
		return nil, "", o.storeFault(err)
	}
	if !found || c.ClientID != clientID || !time.Now().Before(c.ExpiresAt) {
		return nil, "", invalid
	}
	redirect, _ := r.Get(o.redirectRef)
	redirect = strings.TrimSpace(redirect)
	switch {
	case redirect == "":
		return nil, "", o.genFault("invalid_request", 400, "Required param : redirect_uri", nil)
	case redirect != c.RedirectURI:
		return nil, "", o.genFault("invalid_request", 400, "Invalid redirect_uri : "+redirect, nil)
	}
	if err := toks.Revoke(r.Ctx(), store.AuthCode, code); err != nil {
		return nil, "", o.storeFault(err)
	}
	return c.APIProducts, c.Scope, nil
}
