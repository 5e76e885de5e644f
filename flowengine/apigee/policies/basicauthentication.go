package policies

import (
	"encoding/base64"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// BasicAuthentication (Apigee docs: BasicAuthentication) encodes a user name and password
// into an HTTP Basic credential, or decodes one:
//
//	<BasicAuthentication name="BA"><Operation>Encode|Decode</Operation>
//	  <User ref="user.var"/><Password ref="pass.var"/>
//	  <AssignTo createNew="false">request.header.Authorization</AssignTo>  <!-- Encode -->
//	  <Source>request.header.Authorization</Source>                       <!-- Decode -->
//	  <IgnoreUnresolvedVariables>false</IgnoreUnresolvedVariables></BasicAuthentication>
//
// It authenticates nothing itself (Apigee's policy page says so): Decode
// only writes the two variables for later policies to check.
//
// What flowproc relies on (Apigee's BasicAuthentication policy page, its
// deployment and runtime error pages):
//   - <Operation>, <User ref> and <Password ref> are required; Encode
//     needs <AssignTo>, Decode needs <Source> (deployment errors
//     UserNameRequired, PasswordRequired, AssignToRequired,
//     SourceRequired): all are load errors here.
//   - Encode writes "Basic " + base64(user ":" password) to the AssignTo
//     variable. With createNew="false" (the default) the variable is only
//     assigned when it is unset (null); createNew="true" always assigns.
//   - An unresolved User/Password (Encode) or Source (Decode) is the
//     UnresolvedVariable fault (500, "Unresolved variable : <name>")
//     unless IgnoreUnresolvedVariables is true (the default); then
//     Encode uses the element's text (or "") for the missing value and
//     Decode does nothing.
//   - A Source that is not "Basic <base64 of user:password>" is the
//     InvalidBasicAuthenticationSource fault (500, "Source variable :
//     <name> for basic authentication decode policy is not valid").
//     flowproc takes the scheme case-insensitively, padded or unpadded
//     base64, and splits at the first colon (a password may contain ':').
//   - A failure sets BasicAuthentication.<policy>.failed (the page's
//     fault variables), not basicauthentication.<policy>.failed.
func init() {
	engine.Register(engine.Kind{Type: "BasicAuthentication", Prefix: "basicauthentication", FailedPrefix: "BasicAuthentication", New: newBasicAuthentication, Recyclable: true})
}

type basicAuthentication struct {
	encode             bool
	user, pass         string // variable names (ref)
	userDef, passDef   string // element text, used when ref is unresolved and ignored
	assignTo, source   string
	createNew, ignoreU bool
}

func newBasicAuthentication(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Operation", "User", "Password", "AssignTo", "Source", "IgnoreUnresolvedVariables")...)
	ba := &basicAuthentication{ignoreU: true}
	op := root.Child("Operation")
	switch {
	case op == nil:
		c.Errorf(root, diag.APMissingElement, "BasicAuthentication %s has no <Operation> (Encode or Decode)", p.Name)
		return nil
	case strings.EqualFold(strings.TrimSpace(op.Text), "Encode"):
		ba.encode = true
	case strings.EqualFold(strings.TrimSpace(op.Text), "Decode"):
	default:
		c.Errorf(op, diag.APBadPolicy, "<Operation> %q: want Encode or Decode", op.Text)
		return nil
	}
	opName := "Decode"
	if ba.encode {
		opName = "Encode"
	}
	ref := func(name string) (string, string, bool) {
		n := root.Child(name)
		var r string
		if n != nil {
			r, _ = n.Attr("ref")
		}
		if strings.TrimSpace(r) == "" {
			// Apigee: "<Username|Password> element must be present for <op> operation".
			at := root
			if n != nil {
				at = n
			}
			c.Errorf(at, diag.APMissingElement, "<%s ref=\"…\"> must be present for the %s operation", name, opName)
			return "", "", false
		}
		return strings.TrimSpace(r), n.Text, true
	}
	var ok1, ok2 bool
	ba.user, ba.userDef, ok1 = ref("User")
	ba.pass, ba.passDef, ok2 = ref("Password")
	if n := root.Child("IgnoreUnresolvedVariables"); n != nil {
		ba.ignoreU = c.Bool(n, n.Text, true)
	}
	if ba.encode {
		n := root.Child("AssignTo")
		if n == nil || strings.TrimSpace(n.Text) == "" {
			c.Errorf(root, diag.APMissingElement, "<AssignTo> must be present for the Encode operation")
			return nil
		}
		ba.assignTo = strings.TrimSpace(n.Text)
		cn, _ := n.Attr("createNew")
		ba.createNew = c.Bool(n, cn, false)
		if root.Child("Source") != nil {
			c.Errorf(root.Child("Source"), diag.APBadPolicy, "<Source> is for the Decode operation; this policy encodes")
		}
	} else {
		n := root.Child("Source")
		if n == nil || strings.TrimSpace(n.Text) == "" {
			c.Errorf(root, diag.APMissingElement, "<Source> must be present for the Decode operation")
			return nil
		}
		ba.source = strings.Trim(strings.TrimSpace(n.Text), "{}")
		if root.Child("AssignTo") != nil {
			c.Errorf(root.Child("AssignTo"), diag.APBadPolicy, "<AssignTo> is for the Encode operation; this policy decodes")
		}
	}
	if !ok1 || !ok2 {
		return nil
	}
	return ba
}

func (ba *basicAuthentication) unresolved(name string) error {
	return engine.NewFault("basicauthentication", "UnresolvedVariable", 500, "Unresolved variable : %s", name)
}

// secVar returns a variable's string form; ok is false when it is absent
// or null.
func secVar(r *engine.Run, name string) (string, bool) {
	v, ok := r.Lookup(name)
	if !ok || v == nil {
		return "", false
	}
	return flowvar.String(v)
}

// Execute implements engine.Policy.
func (ba *basicAuthentication) Execute(r *engine.Run) error {
	if ba.encode {
		return ba.doEncode(r)
	}
	return ba.doDecode(r)
}

func (ba *basicAuthentication) doEncode(r *engine.Run) error {
	user, ok := secVar(r, ba.user)
	if !ok {
		if !ba.ignoreU {
			return ba.unresolved(ba.user)
		}
		user = ba.userDef
	}
	pass, ok := secVar(r, ba.pass)
	if !ok {
		if !ba.ignoreU {
			return ba.unresolved(ba.pass)
		}
		pass = ba.passDef
	}
	if !ba.createNew {
		if _, set := secVar(r, ba.assignTo); set {
			return nil
		}
	}
	return r.Set(ba.assignTo, "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
}

func (ba *basicAuthentication) doDecode(r *engine.Run) error {
	src, ok := secVar(r, ba.source)
	if !ok {
		if ba.ignoreU {
			return nil
		}
		return ba.unresolved(ba.source)
	}
	user, pass, ok := parseBasic(src)
	if !ok {
		return engine.NewFault("basicauthentication", "InvalidBasicAuthenticationSource", 500,
			"Source variable : %s for basic authentication decode policy is not valid", ba.source)
	}
	if err := r.Set(ba.user, user); err != nil {
		return err
	}
	return r.Set(ba.pass, pass)
}

// parseBasic splits "Basic <base64(user:password)>".
func parseBasic(s string) (user, pass string, ok bool) {
	s = strings.TrimSpace(s)
	scheme, cred, found := strings.Cut(s, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	cred = strings.TrimSpace(cred)
	if cred == "" {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(cred)
		if err != nil {
			return "", "", false
		}
	}
	user, pass, found = strings.Cut(string(b), ":")
	if !found {
		return "", "", false
	}
	return user, pass, true
}
