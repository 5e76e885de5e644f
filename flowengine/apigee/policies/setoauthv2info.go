package policies

import (
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// SetOAuthV2Info (Apigee docs: OAuthV2) adds or changes custom attributes of
// an access token in the token store:
//
//	<SetOAuthV2Info name="S"><AccessToken ref="request.formparam.token"/>
//	  <Attributes><Attribute name="tier" ref="t">default</Attribute></Attributes></SetOAuthV2Info>
//
// Each attribute's value is its ref's value, else its text. The token
// keeps its expiry. Afterwards oauthv2accesstoken.<policy>.access_token,
// client_id, scope, expires_in, issued_at, status and
// accesstoken.<attribute> describe the updated token. Faults (Apigee's
// SetOAuthV2Info error reference, status 500): the variable does not
// resolve steps.oauth.v2.FailedToResolveAccessToken; unknown or revoked
// token steps.oauth.v2.invalid_access_token "Invalid Access Token";
// expired token steps.oauth.v2.access_token_expired "Access Token
// expired".
func init() {
	engine.Register(engine.Kind{Type: "SetOAuthV2Info", Prefix: "oauthV2", New: newSetOAuthV2Info, Recyclable: true})
}

type setOAuthV2Info struct {
	name  string
	ref   string
	attrs []oauthAttr
}

func newSetOAuthV2Info(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("AccessToken", "Attributes")...)
	n := root.Child("AccessToken")
	if n == nil || oauthRefOf(n) == "" {
		c.Errorf(root, diag.APMissingElement, "SetOAuthV2Info %s needs <AccessToken ref=…/>", p.Name)
		return nil
	}
	s := &setOAuthV2Info{name: p.Name, ref: oauthRefOf(n)}
	as := root.Child("Attributes")
	if as == nil || len(as.Children) == 0 {
		c.Errorf(root, diag.APMissingElement, "SetOAuthV2Info %s needs <Attributes><Attribute name=…/></Attributes>", p.Name)
		return nil
	}
	for _, a := range as.Children {
		name, _ := a.Attr("name")
		if a.Name != "Attribute" || strings.TrimSpace(name) == "" {
			c.Errorf(a, diag.APBadPolicy, "SetOAuthV2Info %s: <Attributes> holds <Attribute name=…> elements", p.Name)
			return nil
		}
		if oauthInternal(name) {
			c.Errorf(a, diag.APBadPolicy, "SetOAuthV2Info %s: attribute names starting with flowproc. are reserved (%s)", p.Name, name)
			return nil
		}
		ref, _ := a.Attr("ref")
		s.attrs = append(s.attrs, oauthAttr{name: name, ref: strings.TrimSpace(ref), value: a.Text, display: true})
	}
	return s
}

// Execute implements engine.Policy.
func (s *setOAuthV2Info) Execute(r *engine.Run) error {
	v, ok := r.Get(s.ref)
	v = strings.TrimSpace(v)
	if !ok {
		return oauthFault("steps.oauth.v2.FailedToResolveAccessToken", 500, "Failed to resolve access token variable "+s.ref, nil)
	}
	invalid := oauthFault("steps.oauth.v2.invalid_access_token", 500, "Invalid Access Token", nil)
	if v == "" || len(v) > oauthMaxTokenBytes {
		return invalid
	}
	toks := r.State().Tokens
	tok, found, err := toks.Get(r.Ctx(), store.AccessToken, v)
	unavailable := func(err error) error {
		return oauthFault("steps.oauth.v2.ExecutionFailed", 500, "Execution of SetOAuthV2Info "+s.name+" failed: token store unavailable", err)
	}
	if err != nil {
		return unavailable(err)
	}
	now := time.Now()
	if !found {
		return invalid
	}
	if !now.Before(oauthExpiry(tok)) {
		return oauthFault("steps.oauth.v2.access_token_expired", 500, "Access Token expired", nil)
	}
	attrs := map[string]string{}
	for k, val := range tok.Attributes {
		attrs[k] = val
	}
	for _, a := range s.attrs {
		val := a.value
		if a.ref != "" {
			if rv, ok := r.Get(a.ref); ok {
				val = rv
			}
		}
		attrs[a.name] = val
	}
	tok.Value, tok.Attributes = v, attrs
	if err := toks.Put(r.Ctx(), tok); err != nil {
		return unavailable(err)
	}
	p := "oauthv2accesstoken." + s.name + "."
	set := func(n, val string) { _ = r.Set(p+n, val) }
	for n, val := range attrs {
		if !oauthInternal(n) {
			set("accesstoken."+n, val)
		}
	}
	set("access_token", v)
	set("client_id", tok.ClientID)
	set("scope", tok.Scope)
	set("expires_in", strconv.FormatInt(int64(oauthExpiry(tok).Sub(now)/time.Second), 10))
	set("issued_at", strconv.FormatInt(tok.IssuedAt.UnixMilli(), 10))
	set("status", "approved")
	return nil
}
