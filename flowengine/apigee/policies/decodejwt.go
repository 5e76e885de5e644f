package policies

import (
	"errors"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// DecodeJWT (Apigee docs: the JWT policies; Apigee "DecodeJWT policy") decodes a JWT
// without verifying its signature, whatever its algorithm:
//
//	<DecodeJWT name="DJ"><Source>var.jwt</Source></DecodeJWT>
//
// The default Source is request.header.authorization with a "Bearer "
// scheme stripped. It sets the jwtSetVars variables (jwt.<policy>.claim.*,
// decoded.header.*, payload-json, …). A token that is not
// header.payload.signature of base64url JSON objects, or is longer than
// MaxJWTBytes, faults with steps.jwt.FailedToDecode ("Failed to Decode
// Token: policy(<name>)", status 401 — Apigee's "Decode JWT runtime error
// troubleshooting" page); an unresolved Source with
// steps.jwt.FailedToResolveVariable (both on the error table of Apigee
// X's DecodeJWT reference page). Of an encrypted JWT (five parts) only the
// protected header is decoded — the "JWS and JWT policies overview" page
// says DecodeJWT reads only an encrypted JWT's unencrypted header: the
// header variables (header.enc, header.alg, …) are set, the claim
// variables are not.
func init() {
	engine.Register(engine.Kind{Type: "DecodeJWT", Prefix: jwtPrefix, New: newDecodeJWT, Recyclable: true})
}

type decodeJWTPolicy struct {
	name string
	src  jwtSource
}

func newDecodeJWT(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	c.Unknown(p.Root, allowed("Source", "IgnoreUnresolvedVariables")...)
	if n := p.Root.Child("IgnoreUnresolvedVariables"); n != nil {
		c.Bool(n, n.Text, false)
	}
	src, ok := jwtSourceOf(c, p)
	if !ok {
		return nil
	}
	return &decodeJWTPolicy{name: p.Name, src: src}
}

// Execute implements engine.Policy.
func (d *decodeJWTPolicy) Execute(r *engine.Run) error {
	err := d.decode(r)
	if err != nil {
		_ = r.Set("JWT.failed", true)
	}
	return err
}

func (d *decodeJWTPolicy) decode(r *engine.Run) error {
	tok, ok := d.src.token(r)
	if !ok {
		return jwtFault(d.name, "FailedToResolveVariable", "Failed to resolve variable %s", d.src.name)
	}
	t, err := decodeJWT(tok)
	if errors.Is(err, errJWE) {
		// An encrypted JWT: only its protected header is readable.
		hdr, hdrJSON, herr := jweHeader(tok)
		if herr == nil {
			jwtSetHeaderVars(r, d.name, hdr, hdrJSON)
			return nil
		}
		err = herr
	}
	if err != nil {
		f := jwtFault(d.name, "FailedToDecode", "Failed to Decode Token")
		f.Err = err
		return f
	}
	jwtSetVars(r, d.name, t)
	return nil
}
