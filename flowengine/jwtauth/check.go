package jwtauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apidef"
)

// FLAT's answer to a failed security check (FLAT docs: JWT security, error codes).
const (
	FailureStatus  = 403
	FailureCode    = 3206
	FailureMessage = "Security violation"
)

// Success is a passed check: one Token per scheme of the alternative that
// passed (one, unless a requirement names several schemes). It is empty
// when nothing was required.
type Success struct {
	Tokens []Token
}

// Token is a verified JWT and what FLAT does with it.
type Token struct {
	// Scheme is the security scheme's name.
	Scheme string
	// Claims is the JWT payload as compact JSON (an object).
	Claims []byte
	// OutVar is the variable name for the claims, without "$" ("jwt"
	// unless out-var says otherwise).
	OutVar string
	// OutHeader is the request header that carries Claims (as JSON text)
	// on upstream requests; "" when out-header is not set.
	OutHeader string
	// PostCheckFlow is the flow to run after the check; nil when not set.
	PostCheckFlow *apidef.Ref
}

// Failure is a failed check: FLAT's error document fields.
type Failure struct {
	Status  int
	Code    int
	Message string
	// Info has one line per failed alternative, e.g.
	// "JWT Security (JWTCookie): No Cookie header sent".
	Info []string
}

// Error returns the message and the info lines.
func (f *Failure) Error() string { return f.Message + ": " + strings.Join(f.Info, "; ") }

// Check checks the request headers against req. Exactly one result is
// non-nil. Work per request is parsing and verifying the token; a key set
// fetch (jwks) is bounded by its timeout and by ctx.
func (ck *Checker) Check(ctx context.Context, req Requirements, headers []flowengine.Header) (*Success, *Failure) {
	if req.Empty() {
		return &Success{}, nil
	}
	var info []string
	for _, alt := range req.alts {
		tokens := make([]Token, 0, len(alt))
		for _, n := range alt {
			tok, msg := ck.checkScheme(ctx, n, headers)
			if msg != "" {
				info = append(info, "JWT Security ("+n.s.name+"): "+msg)
				tokens = nil
				break
			}
			tokens = append(tokens, tok)
		}
		if tokens != nil {
			return &Success{Tokens: tokens}, nil
		}
	}
	return nil, &Failure{Status: FailureStatus, Code: FailureCode, Message: FailureMessage, Info: info}
}

// checkScheme checks one scheme; msg is the info text of a failure.
func (ck *Checker) checkScheme(ctx context.Context, n need, headers []flowengine.Header) (Token, string) {
	s := n.s
	raw, msg := s.loc.token(headers)
	if msg != "" {
		return Token{}, msg
	}
	if len(raw) > ck.maxToken {
		return Token{}, "Invalid JWT: Token too large."
	}
	claims := jwt.MapClaims{}
	t, err := s.parser.ParseWithClaims(raw, &claims, s.keyfunc(ctx))
	if err != nil {
		return Token{}, s.describe(t, err)
	}
	payload, err := compactPayload(raw)
	if err != nil {
		return Token{}, "Invalid JWT: Malformed token."
	}
	for _, r := range s.claims {
		if m := r.check(claims); m != "" {
			return Token{}, "Invalid JWT: " + m + "."
		}
	}
	if m := missingScopes(claims, s.scopeClaim, n.scopes); m != "" {
		return Token{}, m
	}
	return Token{Scheme: s.name, Claims: payload, OutVar: s.outVar, OutHeader: s.outHeader, PostCheckFlow: s.postCheck}, ""
}

// keyfunc returns the verification key (or keys) for a token.
func (s *scheme) keyfunc(ctx context.Context) jwt.Keyfunc {
	if s.jwks == nil {
		return func(*jwt.Token) (any, error) { return s.key, nil }
	}
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		alg := t.Method.Alg()
		keys, err := s.jwks.get(ctx, false)
		if err != nil {
			return nil, err
		}
		cands := candidates(keys, s.alg, kid, alg)
		if len(cands) == 0 && kid != "" {
			// Maybe the keys rotated: fetch again (not more often than
			// jwksMinRefresh).
			if keys, err = s.jwks.get(ctx, true); err != nil {
				return nil, err
			}
			cands = candidates(keys, s.alg, kid, alg)
		}
		if len(cands) == 0 {
			return nil, errNoKey
		}
		vs := jwt.VerificationKeySet{}
		for _, k := range cands {
			vs.Keys = append(vs.Keys, k)
		}
		return vs, nil
	}
}

var errNoKey = errors.New("no key for the token")

// describe turns a parse error into FLAT-style info text.
func (s *scheme) describe(t *jwt.Token, err error) string {
	switch {
	case errors.Is(err, errJWKS):
		return "Key set unavailable"
	case errors.Is(err, errNoKey):
		return "Invalid JWT: No matching key in the key set."
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "Invalid JWT: Malformed token."
	case t != nil && t.Method != nil && !s.alg.allows(t.Method.Alg()):
		return "Invalid JWT: Algorithm " + t.Method.Alg() + " not allowed."
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "Invalid JWT: Algorithm not allowed."
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "Invalid JWT: Signature verification failed."
	case errors.Is(err, jwt.ErrTokenExpired):
		return "Invalid JWT: Token has expired."
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "Invalid JWT: Token is not yet valid."
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "Invalid JWT: Token issued in the future."
	}
	return "Invalid JWT: Invalid claims."
}

// errDuplicateKey rejects payloads whose objects repeat a key: the claims
// checked (the last value wins in Go) could differ from the claims a flow
// reads.
var errDuplicateKey = errors.New("duplicate key in the JWT payload")

// compactPayload returns the token's payload as compact JSON, in its
// original key order.
func compactPayload(raw string) ([]byte, error) {
	_, rest, _ := strings.Cut(raw, ".")
	seg, _, _ := strings.Cut(rest, ".")
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return nil, err
	}
	if err := noDuplicateKeys(b); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// noDuplicateKeys walks the JSON document b and fails on an object that
// repeats a key.
func noDuplicateKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		keys  map[string]bool
		isObj bool
		key   bool // the next token of an object is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
		if n := len(stack); n > 0 && stack[n-1].isObj {
			top := &stack[n-1]
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				continue
			}
			if top.key {
				k, _ := tok.(string)
				if top.keys[k] {
					return errDuplicateKey
				}
				top.keys[k] = true
				top.key = false
				continue
			}
			top.key = true // this token is the value
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, isObj: true, key: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}
