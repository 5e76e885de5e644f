package policies

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// GenerateJWT (Apigee docs: the JWT policies; Apigee "GenerateJWT policy") signs a JWT:
//
//	<GenerateJWT name="GJ"><Algorithm>RS256</Algorithm>
//	  <PrivateKey><Value ref="private.key"/><Password ref="private.pw"/><Id>kid1</Id></PrivateKey>
//	  <Subject ref="..."/><Issuer>urn://x</Issuer><Audience ref="..."/>
//	  <ExpiresIn>300s</ExpiresIn><NotBefore/><Id/>
//	  <AdditionalClaims><Claim name="scope" type="string" array="true" ref="..."/></AdditionalClaims>
//	  <AdditionalHeaders><Claim name="x">v</Claim></AdditionalHeaders>
//	  <OutputVariable>jwt_out</OutputVariable></GenerateJWT>
//
// The header is {"alg","typ":"JWT","kid"?}+AdditionalHeaders; the payload
// has iat (now), exp (ExpiresIn), nbf (NotBefore: empty = now, else a
// time span from now or epoch seconds), jti (Id: empty = a random UUID),
// iss, sub, aud (comma-separated = array) and AdditionalClaims (and
// the JSON object a ref on AdditionalClaims names). The token goes to
// OutputVariable, by default jwt.<policy>.generated_jwt. Faults (401;
// each sets JWT.failed): FailedToResolveVariable (a ref that does not resolve,
// unless IgnoreUnresolvedVariables), InvalidPrivateKey,
// InvalidSecretKey, InsufficientKeyLength, WrongKeyType, InvalidCurve,
// InvalidClaim, GenerationFailed. With <Algorithms> (or
// <Type>Encrypted</Type>) the token is an encrypted JWT (JWE): see jwe.go.
func init() {
	engine.Register(engine.Kind{Type: "GenerateJWT", Prefix: jwtPrefix, New: newGenerateJWT, Recyclable: true})
}

type generateJWT struct {
	name        string
	alg         string
	keys        *jwtKeyConf
	jwe         *jweConf // encrypted JWT; nil: signed
	iss, sub    jwtValue
	aud, id     jwtValue
	expires     jwtValue
	notBefore   jwtValue
	claims      []jwtClaim
	claimsRef   string
	headers     []jwtClaim
	out         string
	ignoreUnres bool
}

func newGenerateJWT(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Algorithm", "Algorithms", "SecretKey", "PrivateKey", "PublicKey", "PasswordKey", "DirectKey",
		"Issuer", "Audience", "Subject", "Id", "ExpiresIn", "NotBefore", "AdditionalClaims", "AdditionalHeaders",
		"OutputVariable", "IgnoreUnresolvedVariables", "CriticalHeaders", "Type", "CustomClaims", "Compress")...)
	encrypted := jwtWantsJWE(root)
	if !encrypted && !jwtSignedType(c, root) {
		return nil
	}
	for _, name := range []string{"CustomClaims", "Compress", "CriticalHeaders"} {
		if n := root.Child(name); n != nil && (name != "Compress" || !encrypted) {
			c.Errorf(n, diag.APBadPolicy, "<%s> is not supported", name)
			return nil
		}
	}
	var (
		algs   = []string{""}
		keys   *jwtKeyConf
		enc    *jweConf
		ok     bool
		banned = []string{"alg", "typ", "crit"}
	)
	if encrypted {
		// The JWE header fields the encryption writes.
		banned = append(banned, "enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c")
		if enc, ok = compileJWE(c, p, true); !ok {
			return nil
		}
		keys = enc.keys
	} else {
		if algs, keys, ok = jwtSigning(c, p, true); !ok {
			return nil
		}
	}
	g := &generateJWT{name: p.Name, alg: algs[0], keys: keys, jwe: enc,
		iss: jwtVal(root.Child("Issuer")), sub: jwtVal(root.Child("Subject")),
		aud: jwtVal(root.Child("Audience")), id: jwtVal(root.Child("Id")),
		expires: jwtVal(root.Child("ExpiresIn")), notBefore: jwtVal(root.Child("NotBefore")),
		out: jwtPrefix + "." + p.Name + ".generated_jwt"}
	if n := root.Child("ExpiresIn"); n != nil && n.Text != "" {
		if _, err := jwtDuration(n.Text); err != nil {
			c.Errorf(n, diag.APBadPolicy, "<ExpiresIn>: %v", err)
			return nil
		}
	}
	if n := root.Child("NotBefore"); n != nil && n.Text != "" {
		if _, err := jwtNotBefore(n.Text, jwtNow()); err != nil {
			c.Errorf(n, diag.APBadPolicy, "<NotBefore>: %v (InvalidTimeFormat)", err)
			return nil
		}
	}
	if g.claims, g.claimsRef, ok = jwtClaims(c, root.Child("AdditionalClaims"), false); !ok {
		return nil
	}
	if g.headers, _, ok = jwtClaims(c, root.Child("AdditionalHeaders"), true, banned...); !ok {
		return nil
	}
	if n := root.Child("OutputVariable"); n != nil && strings.TrimSpace(n.Text) != "" {
		g.out = strings.TrimSpace(n.Text)
	}
	if n := root.Child("IgnoreUnresolvedVariables"); n != nil {
		g.ignoreUnres = c.Bool(n, n.Text, false)
	}
	return g
}

// value resolves an optional element; skip when absent or unresolved and
// ignored.
func (g *generateJWT) value(r *engine.Run, v jwtValue) (string, bool, error) {
	if !v.set {
		return "", true, nil
	}
	s, ok := v.resolve(r)
	if !ok {
		if v.ref == "" || g.ignoreUnres {
			return "", true, nil
		}
		return "", true, jwtFault(g.name, "FailedToResolveVariable", "Failed to resolve variable %s", v.ref)
	}
	return s, false, nil
}

// Execute implements engine.Policy; a fault sets JWT.failed = true.
func (g *generateJWT) Execute(r *engine.Run) error {
	err := g.generate(r)
	if err != nil {
		_ = r.Set("JWT.failed", true)
	}
	return err
}

func (g *generateJWT) generate(r *engine.Run) error {
	now := jwtNow()
	payload := map[string]any{}
	if g.claimsRef != "" {
		if s, ok := r.Get(g.claimsRef); ok {
			d := json.NewDecoder(strings.NewReader(s))
			d.UseNumber()
			var m map[string]any
			if err := d.Decode(&m); err != nil {
				return jwtFault(g.name, "InvalidClaim", "Invalid Claim: %s is not a JSON object", g.claimsRef)
			}
			for k, v := range m {
				payload[k] = v
			}
		} else if !g.ignoreUnres {
			return jwtFault(g.name, "FailedToResolveVariable", "Failed to resolve variable %s", g.claimsRef)
		}
	}
	for _, cl := range g.claims {
		s, skip, err := g.value(r, cl.val)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		v, err := jwtClaimValue(cl, s)
		if err != nil {
			return jwtFault(g.name, "InvalidClaim", "Invalid Claim: %v", err)
		}
		payload[cl.name] = v
	}
	for _, c := range []struct {
		v     jwtValue
		claim string
	}{{g.iss, "iss"}, {g.sub, "sub"}} {
		s, skip, err := g.value(r, c.v)
		if err != nil {
			return err
		}
		if !skip {
			payload[c.claim] = s
		}
	}
	if s, skip, err := g.value(r, g.aud); err != nil {
		return err
	} else if !skip {
		if strings.Contains(s, ",") {
			var list []any
			for _, a := range strings.Split(s, ",") {
				list = append(list, strings.TrimSpace(a))
			}
			payload["aud"] = list
		} else {
			payload["aud"] = s
		}
	}
	if g.id.set {
		s, skip, err := g.value(r, g.id)
		if err != nil {
			return err
		}
		if skip || s == "" {
			s = jwtUUID()
		}
		payload["jti"] = s
	}
	payload["iat"] = now.Unix()
	if s, skip, err := g.value(r, g.expires); err != nil {
		return err
	} else if !skip {
		d, err := jwtDuration(s)
		if err != nil {
			return jwtFault(g.name, "InvalidClaim", "Invalid ExpiresIn %q", s)
		}
		payload["exp"] = now.Add(d).Unix()
	}
	if g.notBefore.set {
		s, skip, err := g.value(r, g.notBefore)
		if err != nil {
			return err
		}
		nbf := now.Unix()
		if !skip && s != "" {
			if nbf, err = jwtNotBefore(s, now); err != nil {
				return jwtFault(g.name, "InvalidClaim", "Invalid NotBefore %q", s)
			}
		}
		payload["nbf"] = nbf
	}
	hdr := map[string]any{}
	for _, cl := range g.headers {
		s, skip, err := g.value(r, cl.val)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		v, err := jwtClaimValue(cl, s)
		if err != nil {
			return jwtFault(g.name, "InvalidClaim", "Invalid header %s: %v", cl.name, err)
		}
		hdr[cl.name] = v
	}
	hdr["typ"] = "JWT"
	if kid, skip, err := g.value(r, g.keys.id); err != nil {
		return err
	} else if !skip && kid != "" {
		hdr["kid"] = kid
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return jwtFault(g.name, "InvalidClaim", "Invalid claims")
	}
	if g.jwe != nil {
		tok, err := g.jwe.encrypt(r, body, hdr)
		if err != nil {
			return err
		}
		return r.Set(g.out, tok)
	}
	var key any
	if jwtAlgs[g.alg] == famHMAC {
		b, err := g.keys.secretBytes(r, g.alg)
		if err != nil {
			return err
		}
		key = b
	} else {
		s, err := g.keys.privateKey(r)
		if err != nil {
			return err
		}
		if err := g.keys.keyFits(g.alg, s); err != nil {
			return err
		}
		key = s
	}
	jh := jws.NewHeaders()
	for name, v := range hdr {
		if err := jh.Set(name, v); err != nil {
			return jwtFault(g.name, "InvalidClaim", "Invalid header %s", name)
		}
	}
	tok, err := jws.Sign(body, jws.WithKey(jwtAlgOf(g.alg), key, jws.WithProtectedHeaders(jh)))
	if err != nil {
		f := jwtFault(g.name, "GenerationFailed", "Failed to sign the token")
		f.Err = err
		return f
	}
	return r.Set(g.out, string(tok))
}

// jwtNotBefore reads a NotBefore value: epoch seconds, a time span from
// now, or an RFC 3339 time.
func jwtNotBefore(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 1e9 {
		return n, nil
	}
	if d, err := jwtDuration(s); err == nil {
		return now.Add(d).Unix(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	return 0, fmt.Errorf("%q is not epoch seconds, a time span or an RFC 3339 time", s)
}

// jwtUUID is a random (version 4) UUID for jti.
func jwtUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
