package policies

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// generateAccessToken runs <Operation>GenerateAccessToken.
//
// The authorization_code grant redeems a code of
// GenerateAuthorizationCode (oauthv2_authcode.go: redeemCode, whose
// faults come after the client checks); the token gets the code's scope.
//
// Order of checks and their faults (code, status, the "Error" text of the
// response Apigee writes with GenerateResponse; Apigee's OAuth HTTP error
// reference and OAuthV2 runtime error reference):
//
//	grant type variable absent          steps.oauth.v2.invalid_request         400 "The request is missing a required parameter : grant_type"
//	grant type not supported            steps.oauth.v2.unsupported_grant_type  400 "Unsupported grant type : <g>"
//	no client id                        steps.oauth.v2.invalid_client          401 "Client identifier is required"
//	unknown client, wrong secret,       steps.oauth.v2.invalid_client          401 "ClientId is Invalid"
//	revoked/expired credential, revoked app, inactive developer
//	password grant without user/pass   steps.oauth.v2.invalid_request         400 "Required param : username" / "password"
//	requested scope not granted         steps.oauth.v2.invalid_scope           400 "Invalid scope"
//	store unavailable                   steps.oauth.v2.ExecutionFailed         500
//
// The secret is compared in constant time. The token's scope is the
// requested one (request.formparam.scope or <Scope>), every requested
// scope having to be among the scopes of the credential and of its
// approved products; without a request, all of those. client_credentials
// gets no refresh token (as on Apigee); password does.
//
// With <GenerateResponse enabled="true"> the policy answers the request
// (engine.Run.Answer) with Apigee's token JSON, and its error responses
// are {"ErrorCode": …, "Error": …} ({"error": …, "error_description": …}
// with <RFCCompliantRequestResponse>true). Either way it sets
// oauthv2accesstoken.<policy>.* (access_token, token_type, expires_in,
// refresh_token, refresh_token_expires_in, refresh_token_issued_at,
// refresh_token_status, issued_at, client_id, application_name,
// developer.email, api_product_list, organization_name, scope, status,
// refresh_count and each displayed attribute).
func (o *oauthV2) generateAccessToken(r *engine.Run) error {
	grant, ok := r.Get(o.grantTypeRef)
	grant = strings.TrimSpace(grant)
	if !ok || grant == "" {
		return o.genFault("invalid_request", 400, "The request is missing a required parameter : grant_type", nil)
	}
	if !slices.Contains(o.supported, grant) {
		return o.genFault("unsupported_grant_type", 400, "Unsupported grant type : "+grant, nil)
	}
	id, secret := o.clientCredentials(r)
	if id == "" || len(id) > oauthMaxTokenBytes {
		return o.genFault("invalid_client", 401, "Client identifier is required", nil)
	}
	prods, err := r.Products()
	if err != nil {
		return o.storeFault(err)
	}
	m, err := prods.LookupKey(r.Ctx(), id)
	invalid := func(err error) error { return o.genFault("invalid_client", 401, "ClientId is Invalid", err) }
	switch {
	case errors.Is(err, store.ErrNotFound):
		return invalid(err)
	case err != nil:
		return o.storeFault(err)
	case m == nil || m.Credential == nil || m.App == nil || m.Developer == nil:
		return invalid(nil)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(m.Credential.ConsumerSecret)) != 1 {
		return invalid(errors.New("client secret does not match"))
	}
	if err := m.Check(time.Now()); err != nil {
		return invalid(err)
	}
	if grant == "password" {
		if u, ok := r.Get(o.userRef); !ok || u == "" {
			return o.genFault("invalid_request", 400, "Required param : username", nil)
		}
		if pw, ok := r.Get(o.passRef); !ok || pw == "" {
			return o.genFault("invalid_request", 400, "Required param : password", nil)
		}
	}
	var products []string
	var scope string
	if grant == "authorization_code" {
		if products, scope, err = o.redeemCode(r, id); err != nil {
			return err
		}
	} else {
		var allowedScopes []string
		products, allowedScopes = oauthGrants(m)
		requested, _ := r.Get(o.scopeRef)
		if scope, err = oauthScope(requested, allowedScopes); err != nil {
			return o.genFault("invalid_scope", 400, "Invalid scope", err)
		}
	}

	attrs, shown := o.tokenAttributes(r)
	return o.issue(r, oauthIssue{m: m, clientID: id, products: products, scope: scope, grant: grant,
		attrs: attrs, shown: shown, refresh: grant != "client_credentials"})
}

// oauthIssue is what a new access token is issued for.
type oauthIssue struct {
	m                *store.KeyMatch
	clientID         string
	products         []string
	scope, grant     string
	attrs, shown     map[string]string
	refresh          bool   // issue a refresh token with it
	reuseRefresh     string // keep this refresh token instead of a new one
	refreshExpiresAt time.Time
	refreshCount     int
}

// oauthRefreshCountAttr is the token attribute counting refreshes.
// Attributes starting with "flowproc." are internal: never shown, never
// settable by SetOAuthV2Info.
const oauthRefreshCountAttr = "flowproc.refresh_count"

// oauthExpiresAttr is the token attribute holding an access token's real
// expiry (Unix milliseconds). The store keeps the token oauthExpiredGrace
// longer, so that VerifyAccessToken can answer access_token_expired, as
// Apigee does for a token it still holds, instead of
// invalid_access_token.
const oauthExpiresAttr = "flowproc.expires_at"

// oauthExpiredGrace is how long an expired access token stays in the
// store.
const oauthExpiredGrace = time.Hour

// oauthInternal reports whether a token attribute is flowproc's own.
func oauthInternal(name string) bool { return strings.HasPrefix(name, "flowproc.") }

// oauthExpiry is when an access token expires: its real expiry when
// recorded, else the store's.
func oauthExpiry(t store.Token) time.Time {
	if ms, err := strconv.ParseInt(t.Attributes[oauthExpiresAttr], 10, 64); err == nil {
		return time.UnixMilli(ms)
	}
	return t.ExpiresAt
}

// issue stores a new access token (and refresh token) and answers or sets
// oauthv2accesstoken.<policy>.*.
func (o *oauthV2) issue(r *engine.Run, in oauthIssue) error {
	now := time.Now()
	m, id, products, scope, grant, shown := in.m, in.clientID, in.products, in.scope, in.grant, in.shown
	attrs := map[string]string{}
	for k, v := range in.attrs {
		attrs[k] = v
	}
	if in.refreshCount > 0 {
		attrs[oauthRefreshCountAttr] = strconv.Itoa(in.refreshCount)
	}
	access, err := oauthNewToken()
	if err != nil {
		return o.storeFault(err)
	}
	expiresIn := o.expiresIn.value(r)
	if expiresIn <= 0 {
		expiresIn = oauthDefaultExpiresIn
	}
	tok := store.Token{
		Kind: store.AccessToken, Value: access, ClientID: id, AppName: m.App.Name, DeveloperEmail: m.Developer.Email,
		APIProducts: products, Scope: scope, GrantType: grant, Attributes: attrs, IssuedAt: now, ExpiresAt: now.Add(expiresIn + oauthExpiredGrace),
	}
	attrs[oauthExpiresAttr] = strconv.FormatInt(now.Add(expiresIn).UnixMilli(), 10)
	var refresh string
	var refreshTTL time.Duration
	switch {
	case in.reuseRefresh != "":
		refresh = in.reuseRefresh
		tok.RefreshToken = refresh
		refreshTTL = in.refreshExpiresAt.Sub(now)
	case in.refresh:
		if refresh, err = oauthNewToken(); err != nil {
			return o.storeFault(err)
		}
		refreshTTL = o.refreshExpires.value(r)
		keep := refreshTTL
		if keep <= 0 {
			keep = oauthRefreshNoExpiry
		}
		tok.RefreshToken = refresh
		rt := tok
		rt.Kind, rt.Value, rt.RefreshToken, rt.ExpiresAt = store.RefreshToken, refresh, "", now.Add(keep)
		rt.Attributes = map[string]string{}
		for k, v := range attrs {
			if k != oauthExpiresAttr {
				rt.Attributes[k] = v
			}
		}
		if err := r.State().Tokens.Put(r.Ctx(), rt); err != nil {
			return o.storeFault(err)
		}
	}
	if err := r.State().Tokens.Put(r.Ctx(), tok); err != nil {
		return o.storeFault(err)
	}

	org, _ := r.Get("organization.name")
	issued := strconv.FormatInt(now.UnixMilli(), 10)
	secs := int64(expiresIn / time.Second)
	body := map[string]any{
		"refresh_token_expires_in": strconv.FormatInt(int64(refreshTTL/time.Second), 10),
		"api_product_list":         "[" + strings.Join(products, ", ") + "]",
		"api_product_list_json":    products,
		"organization_name":        org,
		"developer.email":          m.Developer.Email,
		"token_type":               "BearerToken",
		"issued_at":                issued,
		"client_id":                id,
		"access_token":             access,
		"application_name":         m.App.Name,
		"scope":                    scope,
		"expires_in":               strconv.FormatInt(secs, 10),
		"refresh_count":            strconv.Itoa(in.refreshCount),
		"status":                   "approved",
	}
	if refresh != "" {
		body["refresh_token"] = refresh
		body["refresh_token_issued_at"] = issued
		body["refresh_token_status"] = "approved"
	}
	for n, v := range shown {
		if _, builtin := body[n]; !builtin {
			body[n] = v
		}
	}
	p := "oauthv2accesstoken." + o.name + "."
	for n, v := range body {
		switch v := v.(type) {
		case string:
			_ = r.Set(p+n, v)
		}
	}
	if !o.generate {
		return nil
	}
	if o.rfc {
		// RFC 6749 §5.1: token_type "Bearer", expires_in a number.
		body["token_type"] = "Bearer"
		body["expires_in"] = secs
		body["refresh_token_expires_in"] = int64(refreshTTL / time.Second)
	}
	resp := engine.NewResponse()
	resp.SetStatus(200)
	resp.SetHeader("Content-Type", "application/json")
	resp.SetHeader("Cache-Control", "no-store")
	resp.SetContent(oauthJSON(body))
	return r.Answer(resp)
}

// clientCredentials returns the client id and secret: <ClientId> /
// <ClientSecret> when configured, else the Authorization: Basic header,
// else the form parameters client_id and client_secret.
func (o *oauthV2) clientCredentials(r *engine.Run) (id, secret string) {
	h, _ := r.Get("request.header.authorization")
	bid, bsecret, basic := oauthBasic(h)
	switch {
	case o.clientIDRef != "":
		id, _ = r.Get(o.clientIDRef)
	case basic:
		id = bid
	default:
		id, _ = r.Get("request.formparam.client_id")
	}
	switch {
	case o.clientSecretRef != "":
		secret, _ = r.Get(o.clientSecretRef)
	case basic:
		secret = bsecret
	default:
		secret, _ = r.Get("request.formparam.client_secret")
	}
	return id, secret
}

// oauthGrants returns the credential's approved product names and the
// scopes it may be granted (its own and its approved products').
func oauthGrants(m *store.KeyMatch) (products, scopes []string) {
	products = []string{}
	scopes = append(scopes, m.Credential.Scopes...)
	for i, p := range m.Products {
		if i < len(m.Credential.Products) && !strings.EqualFold(m.Credential.Products[i].Status, "approved") {
			continue
		}
		products = append(products, p.Name)
		scopes = append(scopes, p.Scopes...)
	}
	return products, scopes
}

// oauthScope returns the scope of a new token: the requested scopes when
// all are allowed, every allowed scope when none is requested.
func oauthScope(requested string, allowed []string) (string, error) {
	req := strings.Fields(requested)
	if len(req) == 0 {
		var out []string
		for _, s := range allowed {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return strings.Join(out, " "), nil
	}
	for _, s := range req {
		if !slices.Contains(allowed, s) {
			return "", fmt.Errorf("scope %q is not granted to the client", s)
		}
	}
	return strings.Join(req, " "), nil
}

// tokenAttributes evaluates <Attributes>: all of them are stored with the
// token, the displayed ones also go into the response.
func (o *oauthV2) tokenAttributes(r *engine.Run) (all, shown map[string]string) {
	if len(o.attributes) == 0 {
		return nil, nil
	}
	all, shown = map[string]string{}, map[string]string{}
	for _, a := range o.attributes {
		v := a.value
		if a.ref != "" {
			if rv, ok := r.Get(a.ref); ok {
				v = rv
			}
		}
		all[a.name] = v
		if a.display {
			shown[a.name] = v
		}
	}
	return all, shown
}

// genFault is a fault of a token-issuing operation: with GenerateResponse
// (or GenerateErrorResponse) it carries Apigee's OAuth error body.
func (o *oauthV2) genFault(name string, status int, msg string, err error) error {
	f := oauthFault("steps.oauth.v2."+name, status, msg, err)
	if o.generate || o.generateErrors {
		body := map[string]string{"ErrorCode": name, "Error": msg}
		if o.rfc {
			body = map[string]string{"error": name, "error_description": msg}
		}
		resp := engine.NewResponse()
		resp.SetStatus(status)
		resp.SetHeader("Content-Type", "application/json")
		resp.SetContent(oauthJSON(body))
		f.Response = resp
	}
	return f
}

// storeFault is the 500 fault of a store that cannot answer (no
// products: directory, a backend error): the policy fails closed.
func (o *oauthV2) storeFault(err error) error {
	return oauthFault("steps.oauth.v2.ExecutionFailed", 500, "Execution of OAuthV2 "+o.name+" failed: token or product store unavailable", err)
}
