package policies

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// OAuthV2 (Apigee docs: OAuthV2) issues and checks opaque OAuth 2.0 tokens kept
// in the run's token store (engine.Run.State().Tokens) against the
// deployment's developer / app / API product store (engine.Run.Products).
// <Operation> selects what it does; flowproc runs:
//
//   - GenerateAccessToken: grant types client_credentials, password and
//     authorization_code (oauthv2_generate.go);
//   - GenerateAuthorizationCode (oauthv2_authcode.go);
//   - RefreshAccessToken (oauthv2_refresh.go);
//   - VerifyAccessToken (oauthv2_verify.go);
//   - InvalidateToken (oauthv2_invalidate.go).
//
// Any other operation (GenerateAccessTokenImplicitGrant, ValidateToken, the JWT operations) is
// the load error AP401 naming it, as is <ExternalAuthorization>true: a
// bundle that needs them does not deploy rather than run half-checked.
//
// Faults are Apigee's: fault.name is the last dot-separated part of the
// code (what FaultRules test), and oauthV2.<policy>.failed is set by the
// engine (Prefix "oauthV2", as for VerifyAPIKey).
func init() {
	engine.Register(engine.Kind{Type: "OAuthV2", Prefix: "oauthV2", New: newOAuthV2, Recyclable: true})
}

// oauthDefaultExpiresIn is the access token lifetime without <ExpiresIn>:
// one hour (Apigee applies an organization default; one hour is the
// documented value for Edge cloud).
const oauthDefaultExpiresIn = time.Hour

// oauthRefreshNoExpiry is how long a refresh token without
// <RefreshTokenExpiresIn> (Apigee: never expires, reported as "0") is kept
// in the token store, which needs a bound.
const oauthRefreshNoExpiry = 365 * 24 * time.Hour

// oauthMaxTokenBytes bounds a token read from the request: a longer value
// cannot be one flowproc issued and is rejected without a lookup.
const oauthMaxTokenBytes = 2048

// oauthV2 is a compiled OAuthV2 policy.
type oauthV2 struct {
	name string
	op   string

	// GenerateAccessToken.
	grantTypeRef     string
	supported        []string
	userRef, passRef string
	clientIDRef      string
	clientSecretRef  string
	scopeRef         string // requested scope (Generate)
	expiresIn        oauthDuration
	refreshExpires   oauthDuration
	generate         bool // <GenerateResponse enabled="true">
	generateErrors   bool // <GenerateErrorResponse enabled="true">
	rfc              bool // <RFCCompliantRequestResponse>true
	attributes       []oauthAttr

	// VerifyAccessToken.
	accessTokenRef string   // "" = Authorization: Bearer
	tokenPrefix    string   // <AccessTokenPrefix>: stripped from accessTokenRef's value
	scopes         []string // required, any of them

	// GenerateAuthorizationCode and the authorization_code grant.
	redirectRef     string
	responseTypeRef string
	stateRef        string
	codeRef         string

	// RefreshAccessToken.
	refreshTokenRef string
	reuseRefresh    bool

	// InvalidateToken.
	tokens []oauthTokenRef
}

// oauthDuration is a duration in milliseconds, literal or read from a
// variable (ref=) with the literal as fallback.
type oauthDuration struct {
	ref string
	def time.Duration
	set bool
}

// oauthAttr is one <Attribute name= ref= display=> of a token.
type oauthAttr struct {
	name, ref, value string
	display          bool
}

// oauthTokenRef is one <Token type= cascade=> of InvalidateToken.
type oauthTokenRef struct {
	kind    string // accesstoken or refreshtoken
	cascade bool
	ref     string
}

// oauthChildren are the elements an OAuthV2 policy may have.
var oauthChildren = allowed("Operation", "ExpiresIn", "RefreshTokenExpiresIn", "SupportedGrantTypes", "GrantType",
	"UserName", "PassWord", "ClientId", "ClientSecret", "Scope", "GenerateResponse", "GenerateErrorResponse",
	"RFCCompliantRequestResponse", "Attributes", "AccessToken", "AccessTokenPrefix", "Tokens", "ExternalAuthorization", "StoreToken",
	"ReuseRefreshToken", "RefreshToken", "RedirectUri", "ResponseType", "State", "Code", "AppEndUser", "CacheExpiryInSeconds")

func newOAuthV2(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, oauthChildren...)
	o := &oauthV2{name: p.Name, grantTypeRef: "request.formparam.grant_type", scopeRef: "request.formparam.scope"}
	opn := root.Child("Operation")
	if opn == nil || strings.TrimSpace(opn.Text) == "" {
		c.Errorf(root, diag.APMissingElement, "OAuthV2 %s has no <Operation>", p.Name)
		return nil
	}
	o.op = strings.TrimSpace(opn.Text)
	ok := true
	fail := func(n *bundle.Node, format string, args ...any) {
		c.Errorf(n, diag.APBadPolicy, "OAuthV2 %s: "+format, append([]any{p.Name}, args...)...)
		ok = false
	}
	if n := root.Child("ExternalAuthorization"); n != nil && c.Bool(n, n.Text, false) {
		fail(n, "<ExternalAuthorization>true (third-party tokens) is not supported")
	}
	if n := root.Child("StoreToken"); n != nil && c.Bool(n, n.Text, false) {
		fail(n, "<StoreToken>true (external tokens) is not supported")
	}
	if n := root.Child("GenerateResponse"); n != nil {
		v, has := n.Attr("enabled")
		o.generate = !has || c.Bool(n, v, true)
	}
	if n := root.Child("GenerateErrorResponse"); n != nil {
		v, has := n.Attr("enabled")
		o.generateErrors = !has || c.Bool(n, v, true)
	}
	if n := root.Child("RFCCompliantRequestResponse"); n != nil {
		o.rfc = c.Bool(n, n.Text, false)
	}
	switch o.op {
	case "GenerateAccessToken":
		ok = o.compileGenerate(c, root, fail) && ok
	case "VerifyAccessToken":
		if n := root.Child("AccessToken"); n != nil {
			o.accessTokenRef = oauthRefOf(n)
		}
		if n := root.Child("AccessTokenPrefix"); n != nil {
			o.tokenPrefix = strings.TrimSpace(n.Text)
			if o.accessTokenRef == "" {
				fail(n, "<AccessTokenPrefix> needs <AccessToken> (the Authorization header's Bearer is always stripped)")
			}
		}
		if n := root.Child("Scope"); n != nil {
			o.scopes = strings.Fields(n.Text)
		}
	case "GenerateAuthorizationCode":
		ok = o.compileAuthCode(root, fail) && ok
	case "RefreshAccessToken":
		ok = o.compileRefresh(c, root, fail) && ok
	case "InvalidateToken":
		ok = o.compileInvalidate(c, root, fail) && ok
	default:
		fail(opn, "<Operation>%s is not supported (flowproc runs GenerateAccessToken, GenerateAuthorizationCode, RefreshAccessToken, VerifyAccessToken and InvalidateToken)", o.op)
	}
	if !ok {
		return nil
	}
	return o
}

// oauthRefOf is the variable an element names: its ref= attribute, else
// its text.
func oauthRefOf(n *bundle.Node) string {
	if r, has := n.Attr("ref"); has {
		return strings.TrimSpace(r)
	}
	return strings.TrimSpace(n.Text)
}

func (o *oauthV2) compileGenerate(c *engine.Compiler, root *bundle.Node, fail func(*bundle.Node, string, ...any)) bool {
	ok := true
	if n := root.Child("GrantType"); n != nil && oauthRefOf(n) != "" {
		o.grantTypeRef = oauthRefOf(n)
	}
	if n := root.Child("SupportedGrantTypes"); n != nil {
		for _, g := range n.Children {
			if g.Name != "GrantType" {
				fail(g, "unknown element <%s> in <SupportedGrantTypes>", g.Name)
				ok = false
				continue
			}
			gt := strings.TrimSpace(g.Text)
			switch gt {
			case "client_credentials", "password", "authorization_code":
				o.supported = append(o.supported, gt)
			default:
				fail(g, "grant type %q is not supported (flowproc issues client_credentials, password and authorization_code tokens)", gt)
				ok = false
			}
		}
	}
	if len(o.supported) == 0 && ok {
		o.supported = []string{"client_credentials", "password", "authorization_code"}
	}
	o.userRef, o.passRef = "request.formparam.username", "request.formparam.password"
	if n := root.Child("UserName"); n != nil && oauthRefOf(n) != "" {
		o.userRef = oauthRefOf(n)
	}
	if n := root.Child("PassWord"); n != nil && oauthRefOf(n) != "" {
		o.passRef = oauthRefOf(n)
	}
	if n := root.Child("ClientId"); n != nil {
		o.clientIDRef = oauthRefOf(n)
	}
	if n := root.Child("ClientSecret"); n != nil {
		o.clientSecretRef = oauthRefOf(n)
	}
	if n := root.Child("Scope"); n != nil && oauthRefOf(n) != "" {
		o.scopeRef = oauthRefOf(n)
	}
	o.codeRef, o.redirectRef = "request.formparam.code", "request.formparam.redirect_uri"
	if n := root.Child("Code"); n != nil && oauthRefOf(n) != "" {
		o.codeRef = oauthRefOf(n)
	}
	if n := root.Child("RedirectUri"); n != nil && oauthRefOf(n) != "" {
		o.redirectRef = oauthRefOf(n)
	}
	var good bool
	if o.expiresIn, good = oauthCompileDuration(root.Child("ExpiresIn"), oauthDefaultExpiresIn, fail); !good {
		ok = false
	}
	if o.refreshExpires, good = oauthCompileDuration(root.Child("RefreshTokenExpiresIn"), 0, fail); !good {
		ok = false
	}
	if n := root.Child("Attributes"); n != nil {
		for _, a := range n.Children {
			if a.Name != "Attribute" {
				fail(a, "unknown element <%s> in <Attributes>", a.Name)
				ok = false
				continue
			}
			name, _ := a.Attr("name")
			ref, _ := a.Attr("ref")
			disp, _ := a.Attr("display")
			if strings.TrimSpace(name) == "" {
				fail(a, "<Attribute> needs name=")
				ok = false
				continue
			}
			o.attributes = append(o.attributes, oauthAttr{name: name, ref: strings.TrimSpace(ref), value: a.Text, display: c.Bool(a, disp, true)})
		}
	}
	return ok
}

// oauthCompileDuration reads <ExpiresIn ref="var">ms</ExpiresIn>.
func oauthCompileDuration(n *bundle.Node, def time.Duration, fail func(*bundle.Node, string, ...any)) (oauthDuration, bool) {
	d := oauthDuration{def: def}
	if n == nil {
		return d, true
	}
	d.ref, _ = n.Attr("ref")
	d.ref = strings.TrimSpace(d.ref)
	if t := strings.TrimSpace(n.Text); t != "" {
		ms, err := strconv.ParseInt(t, 10, 64)
		if err != nil || ms < 0 {
			fail(n, "<%s> %q is not a number of milliseconds", n.Name, t)
			return d, false
		}
		d.def, d.set = time.Duration(ms)*time.Millisecond, true
	} else if d.ref == "" {
		fail(n, "<%s> is empty", n.Name)
		return d, false
	}
	return d, true
}

// value is the duration for this request: the ref's value when it is a
// number of milliseconds, else the literal.
func (d oauthDuration) value(r *engine.Run) time.Duration {
	if d.ref != "" {
		if s, ok := r.Get(d.ref); ok {
			if ms, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && ms >= 0 {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	return d.def
}

// Execute implements engine.Policy.
func (o *oauthV2) Execute(r *engine.Run) error {
	switch o.op {
	case "GenerateAccessToken":
		return o.generateAccessToken(r)
	case "VerifyAccessToken":
		return o.verifyAccessToken(r)
	case "GenerateAuthorizationCode":
		return o.generateAuthorizationCode(r)
	case "RefreshAccessToken":
		return o.refreshAccessToken(r)
	case "InvalidateToken":
		return o.invalidate(r)
	}
	return oauthFault("steps.oauth.v2.InvalidOperation", 500, "Invalid operation "+o.op, nil)
}

// oauthFault is an OAuthV2 fault: code as Apigee spells it, fault.name
// its last part.
func oauthFault(code string, status int, msg string, err error) *engine.Fault {
	return &engine.Fault{Name: code[strings.LastIndexByte(code, '.')+1:], Code: code, Status: status, Message: msg, Err: err}
}

// oauthTokenAlphabet is the alphabet of generated tokens (Apigee's are
// alphanumeric).
const oauthTokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// oauthNewToken returns a random 32-character alphanumeric token (190
// bits from crypto/rand, rejection-sampled so every character is
// uniform).
func oauthNewToken() (string, error) {
	out := make([]byte, 0, 32)
	buf := make([]byte, 64)
	for len(out) < 32 {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b >= 248 { // 248 = 4*62: keep the distribution uniform
				continue
			}
			out = append(out, oauthTokenAlphabet[int(b)%62])
			if len(out) == 32 {
				break
			}
		}
	}
	return string(out), nil
}

// oauthBasic splits an Authorization: Basic header into id and secret.
func oauthBasic(h string) (id, secret string, ok bool) {
	const p = "basic "
	if len(h) < len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(p):]))
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(string(raw), ":")
	return id, secret, ok
}

// oauthJSON marshals v for a response body; the values are strings,
// string slices and numbers, which always marshal.
func oauthJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []byte("{}")
	}
	return b
}
