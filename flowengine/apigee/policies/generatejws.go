package policies

import (
	"strings"

	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// GenerateJWS (Apigee "GenerateJWS policy") signs arbitrary content:
//
//	<GenerateJWS name="GJ"><Algorithm>PS256</Algorithm>
//	  <PrivateKey><Value ref="private.key"/><Id>kid</Id></PrivateKey>
//	  <Payload ref="request.content"/><DetachContent>true</DetachContent>
//	  <AdditionalHeaders><Claim name="x">v</Claim></AdditionalHeaders>
//	  <CriticalHeaders>x</CriticalHeaders>
//	  <OutputVariable>out</OutputVariable></GenerateJWS>
//
// The header has alg, kid (the key's <Id>), AdditionalHeaders and crit
// (CriticalHeaders); with DetachContent the output is
// header..signature. The token
// goes to OutputVariable, by default jws.<policy>.generated_jws [mem].
// Faults (steps.jws.*, 401): FailedToResolveVariable, the key faults,
// InvalidClaim, GenerationFailed.
func init() {
	engine.Register(engine.Kind{Type: "GenerateJWS", Prefix: jwsPrefix, New: newGenerateJWS, Recyclable: true})
}

type generateJWS struct {
	name        string
	alg         string
	keys        *jwtKeyConf
	payload     jwtValue
	detach      bool
	headers     []jwtClaim
	crit        []string
	out         string
	ignoreUnres bool
}

func newGenerateJWS(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Algorithm", "SecretKey", "PrivateKey", "Payload", "DetachContent", "AdditionalHeaders",
		"CriticalHeaders", "OutputVariable", "IgnoreUnresolvedVariables", "Type")...)
	if !jwtSignedType(c, root) {
		return nil
	}
	algs, keys, ok := jwtSigning(c, p, true)
	if !ok {
		return nil
	}
	g := &generateJWS{name: p.Name, alg: algs[0], keys: keys, payload: jwtVal(root.Child("Payload")),
		out: jwsPrefix + "." + p.Name + ".generated_jws"}
	if !g.payload.set {
		c.Errorf(root, diag.APMissingElement, "<GenerateJWS> needs <Payload>")
		return nil
	}
	if n := root.Child("DetachContent"); n != nil {
		g.detach = c.Bool(n, n.Text, false)
	}
	if g.headers, _, ok = jwtClaims(c, root.Child("AdditionalHeaders"), true, "alg", "crit"); !ok {
		return nil
	}
	if n := root.Child("CriticalHeaders"); n != nil {
		for _, h := range strings.Split(n.Text, ",") {
			if h = strings.TrimSpace(h); h != "" {
				g.crit = append(g.crit, h)
			}
		}
	}
	if n := root.Child("OutputVariable"); n != nil && strings.TrimSpace(n.Text) != "" {
		g.out = strings.TrimSpace(n.Text)
	}
	if n := root.Child("IgnoreUnresolvedVariables"); n != nil {
		g.ignoreUnres = c.Bool(n, n.Text, false)
	}
	return g
}

// Execute implements engine.Policy.
func (g *generateJWS) Execute(r *engine.Run) error {
	fault := g.keys.fault
	payload, ok := g.payload.resolve(r)
	if !ok {
		return fault("FailedToResolveVariable", "Failed to resolve variable %s", g.payload.ref)
	}
	if len(payload) > int(r.MaxBodyBytes()) && r.MaxBodyBytes() > 0 {
		return fault("GenerationFailed", "Payload larger than %d bytes", r.MaxBodyBytes())
	}
	hdr := jws.NewHeaders()
	for _, cl := range g.headers {
		s, ok := cl.val.resolve(r)
		if !ok {
			if g.ignoreUnres {
				continue
			}
			return fault("FailedToResolveVariable", "Failed to resolve variable %s", cl.val.ref)
		}
		v, err := jwtClaimValue(cl, s)
		if err != nil || hdr.Set(cl.name, v) != nil {
			return fault("InvalidClaim", "Invalid header %s", cl.name)
		}
	}
	if len(g.crit) > 0 {
		if err := hdr.Set("crit", g.crit); err != nil {
			return fault("InvalidClaim", "Invalid crit header")
		}
	}
	if kid, ok := g.keys.id.resolve(r); ok && kid != "" {
		if err := hdr.Set("kid", kid); err != nil {
			return fault("InvalidClaim", "Invalid kid")
		}
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
	tok, err := jws.Sign([]byte(payload), jws.WithKey(jwtAlgOf(g.alg), key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		f := fault("GenerationFailed", "Failed to sign the content")
		f.Err = err
		return f
	}
	out := string(tok)
	if g.detach {
		p := strings.Split(out, ".")
		out = p[0] + ".." + p[2]
	}
	return r.Set(g.out, out)
}
