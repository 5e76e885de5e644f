package policies

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// DecodeJWS (Apigee "DecodeJWS policy") decodes a compact JWS without
// verifying it:
//
//	<DecodeJWS name="DJ"><Source>inbound.jws</Source></DecodeJWS>
//
// It sets jws.<policy>.header-json, header.<h> (and header.algorithm,
// header.type), decoded.header.<h> and, unless the content is detached
// (header..signature), jws.<policy>.payload. Faults (401):
// steps.jws.FailedToDecode for a token that is not three base64url parts
// with a JSON object header, or is longer than MaxJWTBytes;
// steps.jws.FailedToResolveVariable for an unresolved Source [mem].
func init() {
	engine.Register(engine.Kind{Type: "DecodeJWS", Prefix: jwsPrefix, New: newDecodeJWS, Recyclable: true})
}

type decodeJWSPolicy struct {
	name string
	src  jwtSource
}

func newDecodeJWS(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	c.Unknown(p.Root, allowed("Source", "IgnoreUnresolvedVariables")...)
	if n := p.Root.Child("IgnoreUnresolvedVariables"); n != nil {
		c.Bool(n, n.Text, false)
	}
	src, ok := jwtSourceOf(c, p)
	if !ok {
		return nil
	}
	return &decodeJWSPolicy{name: p.Name, src: src}
}

// Execute implements engine.Policy.
func (d *decodeJWSPolicy) Execute(r *engine.Run) error {
	tok, ok := d.src.token(r)
	if !ok {
		return joseFault(jwsPrefix, d.name, "FailedToResolveVariable", "Failed to resolve variable %s", d.src.name)
	}
	t, err := decodeJWS(tok, nil)
	if err != nil {
		f := joseFault(jwsPrefix, d.name, "FailedToDecode", "Failed to Decode Token")
		f.Err = err
		return f
	}
	jwsSetVars(r, d.name, t)
	return nil
}

// jwsParts is a decoded compact JWS.
type jwsParts struct {
	header     map[string]any
	headerJSON string
	payload    []byte
	detached   bool
	// compact is the token with any detached content put back.
	compact string
}

// decodeJWS splits a compact JWS; detached, when non-nil, is the content
// of a header..signature token.
func decodeJWS(tok string, detached []byte) (*jwsParts, error) {
	if len(tok) > MaxJWTBytes {
		return nil, fmt.Errorf("token longer than %d bytes", MaxJWTBytes)
	}
	parts := strings.Split(tok, ".")
	if len(parts) == 5 {
		return nil, errJWE
	}
	if len(parts) != 3 || parts[0] == "" {
		return nil, fmt.Errorf("token is not header.payload.signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	out := &jwsParts{headerJSON: string(raw), compact: tok}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&out.header); err != nil || out.header == nil || d.More() {
		return nil, fmt.Errorf("header is not a JSON object")
	}
	switch {
	case parts[1] == "" && detached != nil:
		out.payload = detached
		out.compact = parts[0] + "." + base64.RawURLEncoding.EncodeToString(detached) + "." + parts[2]
	case parts[1] == "":
		out.detached = true
	default:
		if out.payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
			return nil, fmt.Errorf("payload: %w", err)
		}
	}
	return out, nil
}

// jwsSetVars writes jws.<policy>.header-json, header.*, decoded.header.*
// and payload.
func jwsSetVars(r *engine.Run, policy string, t *jwsParts) {
	pre := jwsPrefix + "." + policy + "."
	set := func(name string, v any) { _ = r.Set(pre+name, v) }
	set("header-json", t.headerJSON)
	for h, v := range t.header {
		set("decoded.header."+h, jwtDecodedString(v))
		set("header."+h, jwtString(v))
	}
	if v, ok := t.header["alg"]; ok {
		set("header.algorithm", jwtString(v))
	}
	if v, ok := t.header["typ"]; ok {
		set("header.type", jwtString(v))
	}
	if !t.detached {
		set("payload", string(t.payload))
	}
}
