package policies

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// compileInvalidate reads <Tokens><Token type="accesstoken"
// cascade="true">var</Token></Tokens>. cascade on an access token (the
// default) also revokes the refresh token issued with it. A refresh
// token's store entry does not name its access token, so
// type="refreshtoken" cascade="true" is a load error rather than a
// half-done revocation.
func (o *oauthV2) compileInvalidate(c *engine.Compiler, root *bundle.Node, fail func(*bundle.Node, string, ...any)) bool {
	ts := root.Child("Tokens")
	if ts == nil || len(ts.Children) == 0 {
		fail(root, "InvalidateToken needs <Tokens><Token type=… >variable</Token></Tokens>")
		return false
	}
	ok := true
	for _, t := range ts.Children {
		if t.Name != "Token" {
			fail(t, "unknown element <%s> in <Tokens>", t.Name)
			ok = false
			continue
		}
		typ, _ := t.Attr("type")
		casc, hasCasc := t.Attr("cascade")
		tr := oauthTokenRef{kind: strings.ToLower(strings.TrimSpace(typ)), cascade: c.Bool(t, casc, true), ref: oauthRefOf(t)}
		switch {
		case tr.kind != "accesstoken" && tr.kind != "refreshtoken":
			fail(t, "<Token type=%q>: type must be accesstoken or refreshtoken", typ)
			ok = false
		case tr.ref == "":
			fail(t, "<Token> needs the variable holding the token")
			ok = false
		case tr.kind == "refreshtoken" && hasCasc && tr.cascade:
			fail(t, `<Token type="refreshtoken" cascade="true"> is not supported (flowproc cannot find the access tokens of a refresh token); use cascade="false" or invalidate the access token`)
			ok = false
		}
		if tr.kind == "refreshtoken" {
			tr.cascade = false
		}
		o.tokens = append(o.tokens, tr)
	}
	return ok
}

// invalidate runs <Operation>InvalidateToken: every listed token is
// revoked (an unknown one is already invalid, which is not a fault); a
// token variable that does not resolve is
// steps.oauth.v2.FailedToResolveToken (500).
func (o *oauthV2) invalidate(r *engine.Run) error {
	toks := r.State().Tokens
	for _, t := range o.tokens {
		v, ok := r.Get(t.ref)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return oauthFault("steps.oauth.v2.FailedToResolveToken", 500, "Failed to resolve token variable "+t.ref, nil)
		}
		if len(v) > oauthMaxTokenBytes {
			continue // never issued: nothing to revoke
		}
		kind := store.AccessToken
		if t.kind == "refreshtoken" {
			kind = store.RefreshToken
		}
		if t.cascade {
			tok, found, err := toks.Get(r.Ctx(), kind, v)
			if err != nil {
				return o.storeFault(err)
			}
			if found && tok.RefreshToken != "" {
				if err := toks.Revoke(r.Ctx(), store.RefreshToken, tok.RefreshToken); err != nil {
					return o.storeFault(err)
				}
			}
		}
		if err := toks.Revoke(r.Ctx(), kind, v); err != nil {
			return o.storeFault(err)
		}
	}
	return nil
}
