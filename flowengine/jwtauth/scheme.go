package jwtauth

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

// scheme is one compiled security scheme with x-flat-jwt.
type scheme struct {
	name       string
	loc        location
	alg        algSpec
	key        any   // static verification key; nil with jwks
	jwks       *jwks // key set; nil with a static key
	parser     *jwt.Parser
	claims     []claimRule
	scopeClaim string
	outVar     string
	outHeader  string
	postCheck  *apidef.Ref
}

var (
	varName    = regexp.MustCompile(`^\$[A-Za-z_][A-Za-z0-9_-]*$`)
	headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// jwtKeys are the keys x-flat-jwt understands.
var jwtKeys = map[string]bool{"key": true, "alg": true, "out-var": true, "out-header": true, "claims": true, "scope-claim": true, "post-check-flow": true}

// compileScheme compiles the x-flat-jwt of scheme name. It returns nil
// after adding errors (via fail).
func (c *compiler) compileScheme(name string, ss *openapi3.SecurityScheme, ext any) *scheme {
	fail := func(format string, args ...any) *scheme {
		c.errorf("security scheme %s: x-flat-jwt: "+format, append([]any{name}, args...)...)
		return nil
	}
	cfg, ok := ext.(map[string]any)
	if !ok {
		return fail("must be an object with at least key, not %s", describe(ext))
	}
	for _, k := range sortedKeys(cfg) {
		if !jwtKeys[k] {
			return fail("unknown field %q (known: key, alg, out-var, out-header, claims, scope-claim, post-check-flow)", k)
		}
	}
	s := &scheme{name: name, scopeClaim: "scope", outVar: "jwt"}

	// Where the token is sent.
	cookieName, hasCookie := ss.Extensions["x-flat-cookiename"]
	switch {
	case ss.Type == "http" && strings.EqualFold(ss.Scheme, "bearer") && !hasCookie:
		// OpenAPI 3's bearer scheme: the same Authorization: Bearer token.
	case ss.Type != "apiKey" || ss.In != "header":
		return c.notEnforced(name, "x-flat-jwt needs type: apiKey, in: header (or OpenAPI 3 type: http, scheme: bearer), not type %q, in %q", ss.Type, ss.In)
	case strings.EqualFold(ss.Name, "Authorization") && !hasCookie:
	case strings.EqualFold(ss.Name, "Cookie") && hasCookie:
		cn, isStr := cookieName.(string)
		if !isStr || cn == "" || strings.ContainsAny(cn, "=; \t\"") {
			return fail("x-flat-cookiename must be a cookie name, not %s", describe(cookieName))
		}
		s.loc.cookie = cn
	case strings.EqualFold(ss.Name, "Cookie"):
		return fail("a Cookie scheme needs x-flat-cookiename (the name of the cookie with the token)")
	case hasCookie:
		return fail("x-flat-cookiename needs name: Cookie, not %q", ss.Name)
	default:
		return c.notEnforced(name, "x-flat-jwt reads the token from the Authorization or Cookie header, not from %q", ss.Name)
	}

	// Algorithm, then the key that must fit it.
	algText := ""
	if v, has := cfg["alg"]; has {
		t, err := c.res.text(v)
		if err != nil {
			return fail("alg: %v", err)
		}
		algText = t
	}
	a, err := parseAlg(algText)
	if err != nil {
		return fail("alg: %v", err)
	}
	s.alg = a
	kv, has := cfg["key"]
	if !has {
		return fail("key is required")
	}
	if m, isMap := kv.(map[string]any); isMap && m["jwks"] != nil {
		if s.jwks, err = c.jwksKey(a, m); err != nil {
			return fail("key: %v", err)
		}
	} else {
		text, err := c.res.text(kv)
		if err != nil {
			return fail("key: %v", err)
		}
		if s.key, s.alg, err = staticKey(a, text); err != nil {
			return fail("key: %v", err)
		}
	}

	if v, has := cfg["claims"]; has {
		m, isMap := v.(map[string]any)
		if !isMap {
			return fail("claims must be an object of claim names and values, not %s", describe(v))
		}
		for _, k := range sortedKeys(m) {
			want, err := c.res.scalar(m[k])
			if err != nil {
				return fail("claims.%s: %v", k, err)
			}
			s.claims = append(s.claims, claimRule{name: k, want: want})
		}
	}
	if v, has := cfg["scope-claim"]; has {
		sc, isStr := v.(string)
		if !isStr || sc == "" {
			return fail("scope-claim must be a claim name, not %s", describe(v))
		}
		s.scopeClaim = sc
	}
	if v, has := cfg["out-var"]; has {
		ov, isStr := v.(string)
		if !isStr || !varName.MatchString(ov) {
			return fail("out-var must be a variable name starting with $, such as $jwt, not %v", v)
		}
		s.outVar = ov[1:]
	}
	if v, has := cfg["out-header"]; has {
		oh, isStr := v.(string)
		if !isStr || !headerName.MatchString(oh) {
			return fail("out-header must be an HTTP header name, not %v", v)
		}
		s.outHeader = oh
	}
	if v, has := cfg["post-check-flow"]; has {
		f, isStr := v.(string)
		if !isStr || strings.TrimSpace(f) == "" {
			return fail("post-check-flow must be a flow file name, not %s", describe(v))
		}
		p := f
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.res.dir, p)
		}
		p = filepath.Clean(p)
		if _, err := c.res.readFile(p); err != nil {
			return fail("post-check-flow %q: %v", f, err)
		}
		s.postCheck = &apidef.Ref{Path: p, At: apidef.Pos{File: c.d.File}}
	}

	s.parser = jwt.NewParser(
		jwt.WithValidMethods(s.alg.methods),
		jwt.WithLeeway(c.leeway),
		jwt.WithTimeFunc(c.now),
		jwt.WithIssuedAt(),
		jwt.WithJSONNumber(),
		jwt.WithStrictDecoding(),
	)
	return s
}

// jwksKey reads key: {jwks: URL, max-age: seconds, timeout: seconds}.
func (c *compiler) jwksKey(a algSpec, m map[string]any) (*jwks, error) {
	if a.kind == kindHMAC {
		return nil, fmt.Errorf("a jwks key needs an asymmetric alg (RS, PS, ES, EdDSA or one of their algorithms), not %s", a)
	}
	if c.client == nil {
		return nil, fmt.Errorf("jwks needs an upstream client, and none is configured")
	}
	j := &jwks{maxAge: c.jwksMaxAge, timeout: c.jwksTimeout, client: c.client, now: c.now}
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch k {
		case "jwks":
			u, isStr := v.(string)
			if !isStr {
				return nil, fmt.Errorf("jwks must be a URL, not %s", describe(v))
			}
			if err := checkJWKSURL(u); err != nil {
				return nil, err
			}
			j.url = u
		case "max-age", "timeout":
			f, isNum := v.(float64)
			if !isNum || f <= 0 || f > 7*24*3600 {
				return nil, fmt.Errorf("%s must be a number of seconds between 0 and 604800, not %v", k, v)
			}
			d := time.Duration(f * float64(time.Second))
			if k == "max-age" {
				j.maxAge = d
			} else {
				j.timeout = d
			}
		default:
			return nil, fmt.Errorf("unknown field %q next to jwks (known: jwks, max-age, timeout)", k)
		}
	}
	return j, nil
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
