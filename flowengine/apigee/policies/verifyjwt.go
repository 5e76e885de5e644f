package policies

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// VerifyJWT (Apigee docs: the JWT policies; Apigee "VerifyJWT policy") verifies a
// signed JWT and exposes its header and claims:
//
//	<VerifyJWT name="VJ"><Algorithm>RS256</Algorithm><Source>inbound.jwt</Source>
//	  <PublicKey><Value ref="public.key"/></PublicKey>   <!-- or Certificate, JWKS ref|uri|uriRef -->
//	  <Issuer/><Audience/><Subject/><Id/><AdditionalClaims/><TimeAllowance>30s</TimeAllowance>
//	</VerifyJWT>
//
// The algorithm comes from the policy only: a token whose alg header is
// not a configured one (alg "none", an HS token against an RSA key, …)
// fails with AlgorithmMismatch (AlgorithmInTokenNotPresentInConfiguration
// when <Algorithm> lists several) before any key is used. The order of
// checks is: Source (FailedToResolveVariable), decode (FailedToDecode,
// InvalidJsonFormat; InvalidToken for a five-part JWE), alg
// (NoAlgorithmFoundInHeader, AlgorithmMismatch), crit
// (UnhandledCriticalHeader), key (FailedToResolveVariable,
// KeyParsingFailed, InvalidSecretKey, KeyIdMissing, NoMatchingPublicKey,
// InsufficientKeyLength, WrongKeyType, InvalidCurve), signature
// (InvalidToken), times (TokenExpired, TokenNotYetValid; iat in the future
// unless IgnoreIssuedAt; all with TimeAllowance), then Issuer, Subject,
// Audience, Id, AdditionalClaims and AdditionalHeaders (InvalidClaim).
// Every fault is 401 and sets JWT.failed = true. Sources: the GenerateJWT
// and DecodeJWT reference pages (error and variable tables).
//
// Variables: jwt.<policy>.valid ("true"/"false") and, on failure,
// jwt.<policy>.error (the faultstring); on success the jwtSetVars set.
// With <Algorithms> (or <Type>Encrypted</Type>) the policy decrypts an
// encrypted JWT (JWE) instead: see jwe.go for its checks and faults.
func init() {
	engine.Register(engine.Kind{Type: "VerifyJWT", Prefix: jwtPrefix, New: newVerifyJWT, Recyclable: true})
}

type verifyJWT struct {
	name        string
	sig         joseSig
	jwe         *jweConf // encrypted JWT; nil: signed
	src         jwtSource
	iss, sub    jwtValue
	aud, id     jwtValue
	claims      []jwtClaim
	headers     []jwtClaim
	allowance   time.Duration
	ignoreUnres bool
	ignoreIat   bool
}

func newVerifyJWT(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Algorithm", "Algorithms", "Source", "PublicKey", "SecretKey", "PrivateKey", "PasswordKey", "DirectKey",
		"Issuer", "Audience", "Subject", "Id", "AdditionalClaims", "AdditionalHeaders", "TimeAllowance",
		"IgnoreUnresolvedVariables", "IgnoreCriticalHeaders", "IgnoreIssuedAt", "KnownHeaders", "Type", "CustomClaims")...)
	encrypted := jwtWantsJWE(root)
	if !encrypted && !jwtSignedType(c, root) {
		return nil
	}
	if n := root.Child("CustomClaims"); n != nil {
		c.Errorf(n, diag.APBadPolicy, "<CustomClaims> is not supported; use <AdditionalClaims>")
		return nil
	}
	var (
		sig joseSig
		enc *jweConf
		ok  bool
	)
	if encrypted {
		if enc, ok = compileJWE(c, p, false); !ok {
			return nil
		}
	} else {
		algs, keys, ok := jwtSigning(c, p, false)
		if !ok {
			return nil
		}
		sig = joseSig{algs: algs, keys: keys}
	}
	sig.known = map[string]bool{}
	src, ok := jwtSourceOf(c, p)
	if !ok {
		return nil
	}
	v := &verifyJWT{name: p.Name, sig: sig, jwe: enc, src: src,
		iss: jwtVal(root.Child("Issuer")), sub: jwtVal(root.Child("Subject")),
		aud: jwtVal(root.Child("Audience")), id: jwtVal(root.Child("Id"))}
	if n := root.Child("TimeAllowance"); n != nil {
		d, err := jwtDuration(n.Text)
		if err != nil {
			c.Errorf(n, diag.APBadPolicy, "<TimeAllowance>: %v", err)
			return nil
		}
		v.allowance = d
	}
	if v.claims, _, ok = jwtClaims(c, root.Child("AdditionalClaims"), false); !ok {
		return nil
	}
	if v.headers, _, ok = jwtClaims(c, root.Child("AdditionalHeaders"), true, "alg"); !ok {
		return nil
	}
	for _, el := range []struct {
		name string
		dst  *bool
	}{{"IgnoreUnresolvedVariables", &v.ignoreUnres}, {"IgnoreCriticalHeaders", &v.sig.ignoreCrit}, {"IgnoreIssuedAt", &v.ignoreIat}} {
		if n := root.Child(el.name); n != nil {
			*el.dst = c.Bool(n, n.Text, false)
		}
	}
	jwtKnownHeaders(root, v.sig.known)
	return v
}

// jwtKnownHeaders reads <KnownHeaders>a,b</KnownHeaders> into known.
func jwtKnownHeaders(root *bundle.Node, known map[string]bool) {
	if n := root.Child("KnownHeaders"); n != nil {
		for _, h := range strings.Split(n.Text, ",") {
			if h = strings.TrimSpace(h); h != "" {
				known[h] = true
			}
		}
	}
}

// jwtSignedType accepts <Type>Signed</Type> (or none) and reports
// Encrypted (JWE).
func jwtSignedType(c *engine.Compiler, root *bundle.Node) bool {
	n := root.Child("Type")
	if n == nil {
		return true
	}
	switch strings.TrimSpace(n.Text) {
	case "", "Signed":
		return true
	case "Encrypted":
		c.Errorf(n, diag.APBadPolicy, "encrypted JWT (JWE, <Type>Encrypted</Type>) is not supported")
	default:
		c.Errorf(n, diag.APBadPolicy, "<Type>%s</Type>: want Signed", n.Text)
	}
	return false
}

// Execute implements engine.Policy.
func (v *verifyJWT) Execute(r *engine.Run) error {
	pre := jwtPrefix + "." + v.name + "."
	_ = r.Set(pre+"valid", false)
	t, err := v.verify(r)
	if err != nil {
		var f *engine.Fault
		if errors.As(err, &f) {
			_ = r.Set(pre+"error", f.Message)
		}
		_ = r.Set("JWT.failed", true)
		return err
	}
	jwtSetVars(r, v.name, t)
	_ = r.Set(pre+"valid", true)
	return nil
}

func (v *verifyJWT) verify(r *engine.Run) (*jwtParts, error) {
	tok, ok := v.src.token(r)
	if !ok {
		return nil, jwtFault(v.name, "FailedToResolveVariable", "Failed to resolve variable %s", v.src.name)
	}
	if v.jwe != nil {
		t, err := v.jwe.decrypt(r, v.name, tok, v.sig.known, v.sig.ignoreCrit)
		if err != nil {
			return nil, err
		}
		if err := v.checkTimes(t); err != nil {
			return nil, err
		}
		return t, v.checkClaims(r, t)
	}
	t, err := decodeJWT(tok)
	if err != nil {
		f := jwtFault(v.name, "FailedToDecode", "Failed to Decode Token")
		switch {
		case errors.Is(err, errJWE):
			f = jwtFault(v.name, "InvalidToken", "Invalid token")
		case errors.Is(err, errJSON):
			f = jwtFault(v.name, "InvalidJsonFormat", "Invalid JSON in the header or payload")
		}
		f.Err = err
		return nil, f
	}
	if err := v.sig.check(r, tok, t.header); err != nil {
		return nil, err
	}
	if err := v.checkTimes(t); err != nil {
		return nil, err
	}
	return t, v.checkClaims(r, t)
}

func (v *verifyJWT) checkTimes(t *jwtParts) error {
	now := jwtNow()
	date := func(c string) (time.Time, bool, error) {
		raw, has := t.payload[c]
		if !has {
			return time.Time{}, false, nil
		}
		s, ok := jwtNumericDate(raw)
		if !ok {
			return time.Time{}, false, jwtFault(v.name, "InvalidClaim", "Invalid Claim: %s is not a NumericDate", c)
		}
		return time.Unix(s, 0), true, nil
	}
	exp, has, err := date("exp")
	if err != nil {
		return err
	}
	if has && !now.Before(exp.Add(v.allowance)) {
		return jwtFault(v.name, "TokenExpired", "The Token has expired")
	}
	nbf, has, err := date("nbf")
	if err != nil {
		return err
	}
	if has && now.Add(v.allowance).Before(nbf) {
		return jwtFault(v.name, "TokenNotYetValid", "The Token is not yet valid")
	}
	iat, has, err := date("iat")
	if err != nil {
		return err
	}
	if has && !v.ignoreIat && now.Add(v.allowance).Before(iat) {
		return jwtFault(v.name, "TokenNotYetValid", "The Token is not yet valid (issued in the future)")
	}
	return nil
}

// want resolves an expected value; skip is true when the check does not
// apply (not configured, or unresolved with IgnoreUnresolvedVariables).
func (v *verifyJWT) want(r *engine.Run, val jwtValue) (string, bool, error) {
	if !val.set {
		return "", true, nil
	}
	s, ok := val.resolve(r)
	if !ok {
		if v.ignoreUnres {
			return "", true, nil
		}
		return "", true, jwtFault(v.name, "FailedToResolveVariable", "Failed to resolve variable %s", val.ref)
	}
	return s, false, nil
}

func (v *verifyJWT) checkClaims(r *engine.Run, t *jwtParts) error {
	for _, c := range []struct {
		val   jwtValue
		claim string
		fault string
		label string
	}{{v.iss, "iss", "InvalidClaim", "iss"}, {v.sub, "sub", "InvalidClaim", "sub"}, {v.id, "jti", "InvalidClaim", "jti"}} {
		want, skip, err := v.want(r, c.val)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		if got, _ := t.payload[c.claim].(string); got != want {
			return jwtClaimFault(v.name, c.label)
		}
	}
	want, skip, err := v.want(r, v.aud)
	if err != nil {
		return err
	}
	if !skip && !jwtAudienceHas(t.payload["aud"], want) {
		return jwtClaimFault(v.name, "aud")
	}
	for _, group := range []struct {
		list []jwtClaim
		in   map[string]any
	}{{v.claims, t.payload}, {v.headers, t.header}} {
		for _, cl := range group.list {
			s, skip, err := v.want(r, cl.val)
			if err != nil {
				return err
			}
			if skip {
				continue
			}
			wantV, err := jwtClaimValue(cl, s)
			if err != nil {
				return jwtClaimFault(v.name, cl.name)
			}
			if !jwtClaimMatches(group.in[cl.name], wantV) {
				return jwtClaimFault(v.name, cl.name)
			}
		}
	}
	return nil
}

// jwtClaimFault is InvalidClaim for a missing or mismatching claim or
// header. Apigee's table also lists JwtIssuerMismatch,
// JwtAudienceMismatch and JwtSubjectMismatch, but Apigee X was observed
// answering steps.jwt.InvalidClaim to a wrong audience, and the table
// describes InvalidClaim as "a missing claim or claim mismatch".
func jwtClaimFault(policy, claim string) *engine.Fault {
	return engine.NewFault(jwtPrefix, "InvalidClaim", jwtStatus, "Invalid Claim: policy(%s), claim(%s)", policy, claim)
}

// jwtAudienceHas: aud is a string or an array of strings; the policy's
// Audience may list several values separated by commas, any of which
// matches [mem] (GenerateJWT's reference page documents its <Audience> as
// a comma-separated list; the VerifyJWT page could not be read).
func jwtAudienceHas(aud any, want string) bool {
	var got []string
	switch a := aud.(type) {
	case string:
		got = []string{a}
	case []any:
		for _, e := range a {
			if s, ok := e.(string); ok {
				got = append(got, s)
			}
		}
	}
	for _, w := range strings.Split(want, ",") {
		w = strings.TrimSpace(w)
		for _, g := range got {
			if w != "" && g == w {
				return true
			}
		}
	}
	return false
}

// jwtClaimMatches compares a token value with the expected one: equal
// JSON; an expected array must have every element in the token's.
func jwtClaimMatches(got, want any) bool {
	if wa, ok := want.([]any); ok {
		ga, ok := got.([]any)
		if !ok {
			return false
		}
		for _, w := range wa {
			found := false
			for _, g := range ga {
				found = found || jwtJSONEqual(g, w)
			}
			if !found {
				return false
			}
		}
		return true
	}
	return jwtJSONEqual(got, want)
}

func jwtJSONEqual(a, b any) bool {
	if na, ok := a.(json.Number); ok {
		if nb, ok := b.(json.Number); ok {
			fa, _ := na.Float64()
			fb, _ := nb.Float64()
			return fa == fb
		}
	}
	return fmt.Sprint(jwtJSON(a)) == jwtJSON(b)
}
