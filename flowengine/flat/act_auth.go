package flat

import (
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <auth><user name pass/>…</auth> is HTTP Basic authentication between
// the client and flowproc (FLAT docs: auth). Without credentials
// matching a user, the answer is 401 with a Basic challenge and the flow
// stops. A repeated user name counts only once (the first); an auth without
// users or a user without a non-empty pass is a load error.

func init() {
	registerAction("auth", &actionSpec{compile: compileAuth})
}

type authAction struct {
	users []authUser
}

type authUser struct{ name, pass string }

// authRealm is the realm of the challenge; FLAT documents none.
const authRealm = "FLAT"

func compileAuth(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &authAction{}
	seen := map[string]bool{}
	for _, u := range e.Children {
		if u.Name != "user" {
			c.errf(f, u.Line, u.Col, diag.BadContent, "<auth> takes <user> elements, not <%s>", u.Name)
			continue
		}
		for _, at := range u.Attrs {
			if at.Name != "name" && at.Name != "pass" {
				c.errf(f, at.Line, at.Col, diag.UnknownAttribute, "<user> has no attribute %q", at.Name)
			}
		}
		p, ok := u.Attr("pass")
		if !ok || p.Value == "" {
			c.errf(f, u.Line, u.Col, diag.MissingAttribute, "<user> needs a non-empty pass=")
			continue
		}
		n, _ := u.Attr("name")
		if seen[n.Value] {
			continue
		}
		seen[n.Value] = true
		a.users = append(a.users, authUser{name: n.Value, pass: p.Value})
	}
	if len(a.users) == 0 {
		c.errf(f, e.Line, e.Col, diag.BadContent, "<auth> needs at least one <user name pass/>")
		return nil
	}
	return a
}

func (a *authAction) Run(r *run, _ *step) (ctrl, error) {
	if name, pass, ok := basicCredentials(r.header("authorization")); ok {
		for _, u := range a.users {
			if u.name == name {
				if subtle.ConstantTimeCompare([]byte(u.pass), []byte(pass)) == 1 {
					return ctrlNext, nil
				}
				break // only the first user of a name counts
			}
		}
	}
	r.x.Resp.Status = 401
	r.setResponseHeader("WWW-Authenticate", `Basic realm="`+authRealm+`"`)
	r.setMain(nil, "")
	return ctrlTerminate, nil
}

// basicCredentials decodes an Authorization: Basic header.
func basicCredentials(h string) (name, pass string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}
