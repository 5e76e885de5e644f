package policies

import (
	"errors"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// VerifyJWS (Apigee "VerifyJWS policy") verifies a compact JWS, its
// content attached or detached:
//
//	<VerifyJWS name="VJ"><Algorithm>PS256</Algorithm><Source>inbound.jws</Source>
//	  <DetachedContent>request.content</DetachedContent>   <!-- for header..signature -->
//	  <PublicKey><JWKS ref="jwks"/></PublicKey>
//	  <AdditionalHeaders><Claim name="x">v</Claim></AdditionalHeaders></VerifyJWS>
//
// Checks and faults are VerifyJWT's signature part under steps.jws.*
// (FailedToDecode, NoAlgorithmFoundInHeader, AlgorithmMismatch,
// UnhandledCriticalHeader, the key faults, InvalidToken), then
// AdditionalHeaders (InvalidClaim). A detached token without
// DetachedContent is InvalidToken. Variables: jws.<policy>.valid, error,
// and the DecodeJWS ones on success.
func init() {
	engine.Register(engine.Kind{Type: "VerifyJWS", Prefix: jwsPrefix, New: newVerifyJWS, Recyclable: true})
}

type verifyJWS struct {
	name        string
	sig         joseSig
	src         jwtSource
	detached    string
	headers     []jwtClaim
	ignoreUnres bool
}

func newVerifyJWS(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Algorithm", "Source", "DetachedContent", "PublicKey", "SecretKey", "AdditionalHeaders",
		"KnownHeaders", "IgnoreCriticalHeaders", "IgnoreUnresolvedVariables", "Type")...)
	if !jwtSignedType(c, root) {
		return nil
	}
	algs, keys, ok := jwtSigning(c, p, false)
	if !ok {
		return nil
	}
	src, ok := jwtSourceOf(c, p)
	if !ok {
		return nil
	}
	v := &verifyJWS{name: p.Name, sig: joseSig{algs: algs, keys: keys, known: map[string]bool{}}, src: src}
	if n := root.Child("DetachedContent"); n != nil {
		v.detached = strings.TrimSpace(n.Text)
	}
	if v.headers, _, ok = jwtClaims(c, root.Child("AdditionalHeaders"), true, "alg"); !ok {
		return nil
	}
	if n := root.Child("IgnoreCriticalHeaders"); n != nil {
		v.sig.ignoreCrit = c.Bool(n, n.Text, false)
	}
	if n := root.Child("IgnoreUnresolvedVariables"); n != nil {
		v.ignoreUnres = c.Bool(n, n.Text, false)
	}
	jwtKnownHeaders(root, v.sig.known)
	return v
}

// Execute implements engine.Policy.
func (v *verifyJWS) Execute(r *engine.Run) error {
	pre := jwsPrefix + "." + v.name + "."
	_ = r.Set(pre+"valid", false)
	t, err := v.verify(r)
	if err != nil {
		var f *engine.Fault
		if errors.As(err, &f) {
			_ = r.Set(pre+"error", f.Message)
		}
		return err
	}
	jwsSetVars(r, v.name, t)
	_ = r.Set(pre+"valid", true)
	return nil
}

func (v *verifyJWS) verify(r *engine.Run) (*jwsParts, error) {
	fault := v.sig.keys.fault
	tok, ok := v.src.token(r)
	if !ok {
		return nil, fault("FailedToResolveVariable", "Failed to resolve variable %s", v.src.name)
	}
	var detached []byte
	if v.detached != "" {
		s, ok := r.Get(v.detached)
		if !ok && !v.ignoreUnres {
			return nil, fault("FailedToResolveVariable", "Failed to resolve variable %s", v.detached)
		}
		if ok {
			detached = []byte(s)
		}
	}
	t, err := decodeJWS(tok, detached)
	if err != nil {
		f := fault("FailedToDecode", "Failed to Decode Token")
		if errors.Is(err, errJWE) {
			f = fault("InvalidToken", "Invalid token")
		}
		f.Err = err
		return nil, f
	}
	if t.detached {
		return nil, fault("InvalidToken", "Invalid token: detached content and no <DetachedContent>")
	}
	if err := v.sig.check(r, t.compact, t.header); err != nil {
		return nil, err
	}
	for _, cl := range v.headers {
		s, ok := cl.val.resolve(r)
		if !ok {
			if v.ignoreUnres {
				continue
			}
			return nil, fault("FailedToResolveVariable", "Failed to resolve variable %s", cl.val.ref)
		}
		want, err := jwtClaimValue(cl, s)
		if err != nil || !jwtClaimMatches(t.header[cl.name], want) {
			return nil, fault("InvalidClaim", "Invalid Claim: policy header(%s)", cl.name)
		}
	}
	return t, nil
}
