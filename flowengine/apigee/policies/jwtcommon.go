package policies

// Shared parts of the JWT policy family (GenerateJWT, VerifyJWT,
// DecodeJWT; Apigee docs: the JWT policies): configuration values, algorithms, keys,
// token splitting, output variables and faults.
//
// Sources: the Apigee X reference pages "GenerateJWT policy" (runtime
// error table: every steps.jwt.* fault is 401; deployment errors
// InvalidNameForAdditionalClaim, InvalidNameForAdditionalHeader,
// InvalidVariableNameForSecret, InvalidSecretInConfig, InvalidTimeFormat;
// OutputVariable default jwt.POLICYNAME.generated_jwt; JWT.failed) and
// "DecodeJWT policy" (flow variable table: claim.expiry/issuedat/notbefore
// in milliseconds, expiry_formatted 2017-09-28T21:30:45.000+0000,
// time_remaining_formatted 00:59:59.926, seconds_remaining negative once
// expired; default Source request.header.authorization with Bearer), the
// "Decode JWT runtime error troubleshooting" page (FailedToDecode: "Failed
// to Decode Token: policy({0})"), and a field report of Apigee X answering
// steps.jwt.InvalidClaim to a wrong audience. Faultstrings other than
// FailedToDecode's are flowproc's own wording, ending like Apigee's in
// ": policy(<name>)". The JWS policies use the same codes under
// steps.jws.* and variables under jws.<policy>.* [inferred].

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

const (
	// jwtPrefix names the JWT policies in fault codes (steps.jwt.*) and
	// variables (jwt.<policy>.*).
	jwtPrefix = "jwt"
	// jwtStatus is the status of every JWT fault: 401 throughout the error
	// tables of Apigee X's GenerateJWT and DecodeJWT reference pages.
	jwtStatus = 401
	// MaxJWTBytes bounds a token the JWT policies read: a longer one is
	// FailedToDecode (DecodeJWT) or InvalidToken, never parsed.
	MaxJWTBytes = 64 << 10
	// maxJWKSBytes bounds a JWKS document (variable or fetched).
	maxJWKSBytes = 512 << 10
	// jwksTTL is how long a fetched JWKS is reused; jwksMaxURIs bounds the
	// URIs one policy caches.
	jwksTTL     = 5 * time.Minute
	jwksMaxURIs = 16
)

// jwtNow is the clock of the JWT policies (tests replace it).
var jwtNow = time.Now

// jwtFault is a steps.jwt.<name> fault whose faultstring ends in the
// policy name, as Apigee's do.
func jwtFault(policy, name, format string, args ...any) *engine.Fault {
	return joseFault(jwtPrefix, policy, name, format, args...)
}

// joseFault is a steps.<prefix>.<name> fault (prefix jwt or jws).
func joseFault(prefix, policy, name, format string, args ...any) *engine.Fault {
	msg := fmt.Sprintf(format, args...)
	return engine.NewFault(prefix, name, jwtStatus, "%s: policy(%s)", msg, policy)
}

// jwtRegistered are the claim names AdditionalClaims may not use
// (InvalidNameForAdditionalClaim).
var jwtRegistered = map[string]bool{"kid": true, "iss": true, "sub": true, "aud": true, "iat": true, "exp": true, "nbf": true, "jti": true}

// jwtValue is an element with an optional ref attribute and a literal
// text: the ref's value wins; when it does not resolve the text is used.
type jwtValue struct {
	set  bool
	ref  string
	text string
}

func jwtVal(n *bundle.Node) jwtValue {
	if n == nil {
		return jwtValue{}
	}
	ref, _ := n.Attr("ref")
	return jwtValue{set: true, ref: strings.TrimSpace(ref), text: n.Text}
}

// resolve returns the value; ok is false when neither ref nor text gives
// one.
func (v jwtValue) resolve(r *engine.Run) (string, bool) {
	if !v.set {
		return "", false
	}
	if v.ref != "" {
		if s, ok := r.Get(v.ref); ok {
			return s, true
		}
	}
	if v.text != "" {
		return v.text, true
	}
	return "", false
}

// jwtAlgFamily groups algorithms by key type.
type jwtAlgFamily int

const (
	famHMAC jwtAlgFamily = iota + 1
	famRSA
	famEC
	famEd
)

// jwtAlgs are the signature algorithms flowproc signs and verifies.
var jwtAlgs = map[string]jwtAlgFamily{
	"HS256": famHMAC, "HS384": famHMAC, "HS512": famHMAC,
	"RS256": famRSA, "RS384": famRSA, "RS512": famRSA,
	"PS256": famRSA, "PS384": famRSA, "PS512": famRSA,
	"ES256": famEC, "ES384": famEC, "ES512": famEC,
	"EdDSA": famEd,
}

// jwtAlgorithms compiles <Algorithm>: one algorithm, or for verification
// a comma-separated list of the same family. <Algorithms> (JWE) is not
// supported and reported.
func jwtAlgorithms(c *engine.Compiler, p *bundle.Policy, list bool) ([]string, jwtAlgFamily, bool) {
	if n := p.Root.Child("Algorithms"); n != nil {
		c.Errorf(n, diag.APBadPolicy, "encrypted JWT (JWE, <Algorithms>) is not supported")
		return nil, 0, false
	}
	n := p.Root.Child("Algorithm")
	if n == nil || strings.TrimSpace(n.Text) == "" {
		c.Errorf(p.Root, diag.APMissingElement, "<%s> needs <Algorithm>", p.Type)
		return nil, 0, false
	}
	var out []string
	var fam jwtAlgFamily
	for _, a := range strings.Split(n.Text, ",") {
		a = strings.TrimSpace(a)
		f, ok := jwtAlgs[a]
		if !ok {
			c.Errorf(n, diag.APBadPolicy, "algorithm %q is not supported (want HS/RS/PS/ES 256|384|512 or EdDSA)", a)
			return nil, 0, false
		}
		if fam != 0 && f != fam {
			c.Errorf(n, diag.APBadPolicy, "algorithms %q mix key types", n.Text)
			return nil, 0, false
		}
		fam = f
		out = append(out, a)
	}
	if len(out) > 1 && !list {
		c.Errorf(n, diag.APBadPolicy, "<Algorithm> takes one algorithm here, not %q", n.Text)
		return nil, 0, false
	}
	return out, fam, true
}

// jwtKeyConf is the key configuration of a JWT policy.
type jwtKeyConf struct {
	prefix string
	policy string
	// SecretKey (HS*).
	secret    jwtValue
	secretEnc string
	// PrivateKey (signing).
	private  jwtValue
	password jwtValue
	// Id of SecretKey or PrivateKey (the kid header GenerateJWT writes).
	id jwtValue
	// PublicKey (verification): a PEM key, a PEM certificate, or a JWKS
	// (from a variable or literal, or fetched from a URI).
	public  jwtValue
	cert    jwtValue
	jwks    jwtValue
	jwksURI *msgtemplate.Template
	jwksRef string
	cache   *jwksCache
	// static is a PEM key or certificate written in the policy, parsed
	// at load time; pems caches keys parsed from variables (bounded).
	static crypto.PublicKey
	// fits, when set, replaces keyFits (the JWE key algorithms).
	fits  func(alg string, key any) error
	pemMu sync.Mutex
	pems  map[string]crypto.PublicKey
	// privs caches parsed private keys by PEM text and password.
	privs map[string]crypto.Signer
}

// jwtSigning compiles a signing or verifying policy's <Algorithm> and its
// keys: one algorithm and <PrivateKey>/<SecretKey> to sign, a list and
// <PublicKey>/<SecretKey> to verify.
func jwtSigning(c *engine.Compiler, p *bundle.Policy, sign bool) ([]string, *jwtKeyConf, bool) {
	algs, fam, ok := jwtAlgorithms(c, p, !sign)
	if !ok {
		return nil, nil, false
	}
	keys, ok := jwtKeys(c, p, fam, sign)
	if !ok {
		return nil, nil, false
	}
	return algs, keys, true
}

// maxCachedPEMs bounds the parsed keys one policy keeps.
const maxCachedPEMs = 8

// jwtKeys compiles the key elements for an algorithm family; sign says
// whether the policy signs (PrivateKey) or verifies (PublicKey).
func jwtKeys(c *engine.Compiler, p *bundle.Policy, fam jwtAlgFamily, sign bool) (*jwtKeyConf, bool) {
	k := &jwtKeyConf{prefix: jwtPrefix, policy: p.Name}
	if strings.HasSuffix(p.Type, "JWS") {
		k.prefix = jwsPrefix
	}
	root := p.Root
	if n := root.Child("PasswordKey"); n != nil {
		c.Errorf(n, diag.APBadPolicy, "<PasswordKey> is for PBES2 encrypted JWTs (JWE, <Algorithms>), not with <Algorithm>")
		return nil, false
	}
	if n := root.Child("DirectKey"); n != nil {
		c.Errorf(n, diag.APBadPolicy, "<DirectKey> is for dir encrypted JWTs (JWE, <Algorithms>), not with <Algorithm>")
		return nil, false
	}
	sk, pk, pub := root.Child("SecretKey"), root.Child("PrivateKey"), root.Child("PublicKey")
	// A verifier with a private key, or a generator with a public key,
	// is an encrypted JWT.
	if n := map[bool]*bundle.Node{true: pub, false: pk}[sign]; n != nil && fam != famHMAC {
		c.Errorf(n, diag.APBadPolicy, "<%s> in <%s> with <Algorithm>: a signed JWT does not take it; an encrypted JWT (JWE) is configured with <Algorithms>", n.Name, root.Name)
		return nil, false
	}
	switch {
	case fam == famHMAC:
		if sk == nil {
			c.Errorf(root, diag.APMissingElement, "HMAC algorithms need <SecretKey>")
			return nil, false
		}
		if pk != nil || pub != nil {
			c.Errorf(root, diag.APBadPolicy, "HMAC algorithms take <SecretKey> only, not <PrivateKey> or <PublicKey>")
			return nil, false
		}
		c.Unknown(sk, "Value", "Id")
		v := sk.Child("Value")
		if v == nil {
			c.Errorf(sk, diag.APMissingElement, "<SecretKey> needs <Value>")
			return nil, false
		}
		if !jwtPrivateRef(c, sk, v) {
			return nil, false
		}
		k.secret = jwtVal(v)
		// Apigee's reference puts encoding on <SecretKey>; flowproc also
		// reads it from <Value>, and refuses the two when they differ.
		enc, _ := sk.Attr("encoding")
		enc = strings.ToLower(strings.TrimSpace(enc))
		if ve, has := v.Attr("encoding"); has {
			ve = strings.ToLower(strings.TrimSpace(ve))
			if enc != "" && ve != enc {
				c.Errorf(v, diag.APBadPolicy, "<SecretKey encoding=%q> and <Value encoding=%q> differ", enc, ve)
				return nil, false
			}
			enc = ve
		}
		switch enc {
		case "", "utf8", "utf-8":
			enc = "utf8"
		case "hex", "base16", "base64", "base64url":
		default:
			c.Errorf(v, diag.APBadPolicy, "<Value encoding=%q>: want utf8, hex, base16, base64 or base64url", enc)
			return nil, false
		}
		k.secretEnc = enc
		k.id = jwtVal(sk.Child("Id"))
	case sign:
		if pk == nil {
			c.Errorf(root, diag.APMissingElement, "algorithm needs <PrivateKey>")
			return nil, false
		}
		if sk != nil || pub != nil {
			c.Errorf(root, diag.APBadPolicy, "signing with a private key takes <PrivateKey> only")
			return nil, false
		}
		c.Unknown(pk, "Value", "Password", "Id")
		v := pk.Child("Value")
		if v == nil {
			c.Errorf(pk, diag.APMissingElement, "<PrivateKey> needs <Value>")
			return nil, false
		}
		if !jwtPrivateRef(c, pk, v) {
			return nil, false
		}
		k.private = jwtVal(v)
		k.password = jwtVal(pk.Child("Password"))
		k.id = jwtVal(pk.Child("Id"))
	default:
		if pub == nil {
			c.Errorf(root, diag.APMissingElement, "algorithm needs <PublicKey>")
			return nil, false
		}
		if sk != nil || pk != nil {
			c.Errorf(root, diag.APBadPolicy, "verifying a signature takes <PublicKey> only")
			return nil, false
		}
		c.Unknown(pub, "Value", "Certificate", "JWKS")
		if !k.readPublicKey(c, pub) {
			return nil, false
		}
	}
	return k, true
}

// jwtPrivateRef enforces Apigee's deployment rules for secret key
// material: <Value> takes a ref (InvalidSecretInConfig for a literal,
// EmptyElementForKeyConfiguration for none) naming a private.* variable
// (InvalidVariableNameForSecret).
func jwtPrivateRef(c *engine.Compiler, parent, v *bundle.Node) bool {
	ref, _ := v.Attr("ref")
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "" && v.Text != "":
		c.Errorf(v, diag.APBadPolicy, "<%s><Value> must not hold the key itself; use ref=\"private.…\" (InvalidSecretInConfig)", parent.Name)
	case ref == "":
		c.Errorf(v, diag.APMissingElement, "<%s><Value> needs a ref (EmptyElementForKeyConfiguration)", parent.Name)
	case !strings.HasPrefix(ref, "private."):
		c.Errorf(v, diag.APBadPolicy, "<%s><Value ref=%q>: the variable must be private.* (InvalidVariableNameForSecret)", parent.Name, ref)
	default:
		return true
	}
	return false
}

// secretBytes decodes the HMAC secret.
func (k *jwtKeyConf) secretBytes(r *engine.Run, alg string) ([]byte, error) {
	s, ok := k.secret.resolve(r)
	if !ok {
		return nil, k.fault("FailedToResolveVariable", "Failed to resolve variable %s", k.secret.ref)
	}
	var key []byte
	var err error
	switch k.secretEnc {
	case "hex", "base16":
		key, err = hex.DecodeString(strings.TrimSpace(s))
	case "base64":
		key, err = base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	case "base64url":
		key, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(s), "="))
	default:
		key = []byte(s)
	}
	if err != nil {
		return nil, k.fault("InvalidSecretKey", "Failed to decode the secret key as %s", k.secretEnc)
	}
	// Apigee requires an HMAC key at least as long as the hash (the
	// GenerateJWT reference page, <SecretKey>/<Value>).
	need := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg]
	if len(key) < need {
		return nil, k.fault("InsufficientKeyLength", "Key is too short for algorithm %s", alg)
	}
	return key, nil
}

// pemBlock reads the first PEM block of s, tolerating indentation.
func pemBlock(s string) *pem.Block {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	b, _ := pem.Decode([]byte(strings.Join(lines, "\n")))
	return b
}

// privateKey parses the PEM private key (PKCS#8, PKCS#1, SEC 1; a legacy
// encrypted PEM with <Password>).
func (k *jwtKeyConf) privateKey(r *engine.Run) (crypto.Signer, error) {
	s, ok := k.private.resolve(r)
	if !ok {
		return nil, k.fault("FailedToResolveVariable", "Failed to resolve variable %s", k.private.ref)
	}
	pw, _ := k.password.resolve(r)
	cacheKey := s + "\x00" + pw
	k.pemMu.Lock()
	key, cached := k.privs[cacheKey]
	k.pemMu.Unlock()
	if cached {
		return key, nil
	}
	key, err := k.parsePrivate(r, s)
	if err != nil {
		return nil, err
	}
	// Parsing (an RSA key's checks above all) costs milliseconds; the
	// same key text is reused, bounded like the public keys.
	k.pemMu.Lock()
	if k.privs == nil || len(k.privs) >= maxCachedPEMs {
		k.privs = map[string]crypto.Signer{}
	}
	k.privs[cacheKey] = key
	k.pemMu.Unlock()
	return key, nil
}

// parsePrivate parses the PEM private key text s.
func (k *jwtKeyConf) parsePrivate(r *engine.Run, s string) (crypto.Signer, error) {
	b := pemBlock(s)
	if b == nil {
		return nil, k.fault("InvalidPrivateKey", "Invalid private key")
	}
	der := b.Bytes
	//lint:ignore SA1019 legacy encrypted PEM is what <Password> decrypts.
	if x509.IsEncryptedPEMBlock(b) { //nolint:staticcheck
		pw, ok := k.password.resolve(r)
		if !ok {
			return nil, k.fault("InvalidPrivateKey", "Private key is encrypted and no password resolved")
		}
		var err error
		der, err = x509.DecryptPEMBlock(b, []byte(pw)) //nolint:staticcheck
		if err != nil {
			return nil, k.fault("InvalidPrivateKey", "Invalid password for private key")
		}
	} else if b.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, k.fault("InvalidPrivateKey", "Encrypted PKCS#8 private keys are not supported")
	}
	if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := key.(crypto.Signer); ok {
			return s, nil
		}
	}
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, nil
	}
	if key, err := x509.ParseECPrivateKey(der); err == nil {
		return key, nil
	}
	return nil, k.fault("InvalidPrivateKey", "Invalid private key")
}

// publicFromPEM parses a PEM public key or certificate.
func publicFromPEM(s string) (crypto.PublicKey, error) {
	b := pemBlock(s)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	switch b.Type {
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		return c.PublicKey, nil
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(b.Bytes)
	}
	return x509.ParsePKIXPublicKey(b.Bytes)
}

// fault is a fault of the policy the keys belong to.
func (k *jwtKeyConf) fault(name, format string, args ...any) *engine.Fault {
	return joseFault(k.prefix, k.policy, name, format, args...)
}

// keyFits checks that a key suits the algorithm (type and curve).
func (k *jwtKeyConf) keyFits(alg string, key any) error {
	if k.fits != nil {
		return k.fits(alg, key)
	}
	switch jwtAlgs[alg] {
	case famRSA:
		switch kk := key.(type) {
		case *rsa.PublicKey:
			if kk.N.BitLen() < 2048 {
				return k.fault("InsufficientKeyLength", "Key is too short for algorithm %s", alg)
			}
			return nil
		case *rsa.PrivateKey:
			if kk.N.BitLen() < 2048 {
				return k.fault("InsufficientKeyLength", "Key is too short for algorithm %s", alg)
			}
			return nil
		}
	case famEC:
		var curve elliptic.Curve
		switch kk := key.(type) {
		case *ecdsa.PublicKey:
			curve = kk.Curve
		case *ecdsa.PrivateKey:
			curve = kk.Curve
		default:
			return k.fault("WrongKeyType", "Wrong key type for algorithm %s", alg)
		}
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if curve != want {
			return k.fault("InvalidCurve", "Key curve does not match algorithm %s", alg)
		}
		return nil
	case famEd:
		switch key.(type) {
		case ed25519.PublicKey, ed25519.PrivateKey:
			return nil
		}
	}
	return k.fault("WrongKeyType", "Wrong key type for algorithm %s", alg)
}

// publicKey finds the verification key for a token with header kid.
func (k *jwtKeyConf) publicKey(r *engine.Run, alg, kid string) (any, error) {
	switch {
	case k.public.set || k.cert.set:
		v := k.public
		if k.cert.set {
			v = k.cert
		}
		if k.static != nil {
			return k.static, k.keyFits(alg, k.static)
		}
		s, ok := v.resolve(r)
		if !ok {
			return nil, k.fault("FailedToResolveVariable", "Failed to resolve variable %s", v.ref)
		}
		key, err := k.cachedPEM(s)
		if err != nil {
			return nil, k.fault("KeyParsingFailed", "Failed to parse the public key")
		}
		return key, k.keyFits(alg, key)
	}
	var set jwk.Set
	var err error
	if k.cache != nil {
		set, err = k.fetchJWKS(r)
	} else {
		s, ok := k.jwks.resolve(r)
		if !ok {
			return nil, k.fault("FailedToResolveVariable", "Failed to resolve variable %s", k.jwks.ref)
		}
		set, err = parseJWKS([]byte(s))
		if err != nil {
			err = k.fault("KeyParsingFailed", "Failed to parse the JWKS")
		}
	}
	if err != nil {
		return nil, err
	}
	if kid == "" {
		return nil, k.fault("KeyIdMissing", "The token has no kid header; a JWKS needs one")
	}
	jk, ok := set.LookupKeyID(kid)
	if !ok {
		return nil, k.fault("NoMatchingPublicKey", "No public key in the JWKS matches kid %s", kid)
	}
	var raw any
	if err := jwk.Export(jk, &raw); err != nil {
		return nil, k.fault("KeyParsingFailed", "Failed to parse the JWKS key %s", kid)
	}
	if a, ok := jk.Algorithm(); ok && a.String() != alg {
		return nil, k.fault("AlgorithmMismatch", "JWKS key %s is for algorithm %s, not %s", kid, a.String(), alg)
	}
	return raw, k.keyFits(alg, raw)
}

// cachedPEM parses a PEM key or certificate from a variable, reusing the
// parse of the same text (at most maxCachedPEMs texts per policy).
func (k *jwtKeyConf) cachedPEM(s string) (crypto.PublicKey, error) {
	k.pemMu.Lock()
	key, ok := k.pems[s]
	k.pemMu.Unlock()
	if ok {
		return key, nil
	}
	key, err := publicFromPEM(s)
	if err != nil {
		return nil, err
	}
	k.pemMu.Lock()
	if k.pems == nil || len(k.pems) >= maxCachedPEMs {
		k.pems = map[string]crypto.PublicKey{}
	}
	k.pems[s] = key
	k.pemMu.Unlock()
	return key, nil
}

func parseJWKS(b []byte) (jwk.Set, error) {
	if len(b) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS larger than %d bytes", maxJWKSBytes)
	}
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	return set, nil
}

// jwksCache keeps fetched key sets per URI for jwksTTL.
type jwksCache struct {
	mu   sync.Mutex
	sets map[string]jwksEntry
}

type jwksEntry struct {
	set     jwk.Set
	fetched time.Time
}

// fetchJWKS gets the JWKS of the configured URI, through the side-call
// client, from the cache while fresh.
func (k *jwtKeyConf) fetchJWKS(r *engine.Run) (jwk.Set, error) {
	var uri string
	if k.jwksURI != nil {
		s, unresolved, err := k.jwksURI.String(r)
		if err != nil || unresolved != "" {
			return nil, k.fault("FailedToResolveVariable", "Failed to resolve the JWKS uri")
		}
		uri = s
	} else {
		s, ok := r.Get(k.jwksRef)
		if !ok {
			return nil, k.fault("FailedToResolveVariable", "Failed to resolve variable %s", k.jwksRef)
		}
		uri = s
	}
	now := jwtNow()
	k.cache.mu.Lock()
	e, ok := k.cache.sets[uri]
	k.cache.mu.Unlock()
	if ok && now.Sub(e.fetched) < jwksTTL {
		return e.set, nil
	}
	if !strings.HasPrefix(uri, "https://") && !strings.HasPrefix(uri, "http://") {
		return nil, k.fault("KeyParsingFailed", "JWKS uri %q is not http(s)", uri)
	}
	res, err := r.Upstream().Do(r.Ctx(), &upstream.Call{ID: "jwks", Method: "GET", URL: uri, MaxBodyBytes: maxJWKSBytes})
	if err != nil || res == nil || res.Err != nil || res.Status != 200 {
		f := k.fault("KeyParsingFailed", "Failed to fetch the JWKS from %s", uri)
		f.Err = err
		return nil, f
	}
	set, err := parseJWKS(res.Body)
	if err != nil {
		f := k.fault("KeyParsingFailed", "Failed to parse the JWKS from %s", uri)
		f.Err = err
		return nil, f
	}
	k.cache.mu.Lock()
	if len(k.cache.sets) >= jwksMaxURIs {
		for u, old := range k.cache.sets { // drop expired, else one
			if now.Sub(old.fetched) >= jwksTTL {
				delete(k.cache.sets, u)
			}
		}
		for u := range k.cache.sets {
			if len(k.cache.sets) < jwksMaxURIs {
				break
			}
			delete(k.cache.sets, u)
		}
	}
	k.cache.sets[uri] = jwksEntry{set: set, fetched: now}
	k.cache.mu.Unlock()
	return set, nil
}

// jwtAlgOf maps a configured algorithm name to jwx's.
func jwtAlgOf(name string) jwa.SignatureAlgorithm {
	a, _ := jwa.LookupSignatureAlgorithm(name)
	return a
}

// jwtSource is the <Source> of Verify/Decode: a variable holding the
// token; by default the Authorization header, "Bearer " stripped.
type jwtSource struct {
	name string
}

func jwtSourceOf(c *engine.Compiler, p *bundle.Policy) (jwtSource, bool) {
	n := p.Root.Child("Source")
	if n == nil {
		return jwtSource{name: "request.header.authorization"}, true
	}
	if strings.TrimSpace(n.Text) == "" {
		c.Errorf(n, diag.APMissingElement, "<Source> is empty (InvalidEmptyElement)")
		return jwtSource{}, false
	}
	return jwtSource{name: strings.TrimSpace(n.Text)}, true
}

// token reads the token, stripping a Bearer scheme.
func (s jwtSource) token(r *engine.Run) (string, bool) {
	v, ok := r.Get(s.name)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimSpace(v[7:])
	}
	return v, true
}

// jwtParts is a decoded compact JWS.
type jwtParts struct {
	header, payload map[string]any
	headerJSON      string
	payloadJSON     string
}

// errTooLong and friends classify decode failures.
var (
	errJWE  = errors.New("token has five parts (encrypted JWT)")
	errJSON = errors.New("not a JSON object")
)

// decodeJWT splits and decodes a compact JWT without verifying it.
func decodeJWT(tok string) (*jwtParts, error) {
	if len(tok) > MaxJWTBytes {
		return nil, fmt.Errorf("token longer than %d bytes", MaxJWTBytes)
	}
	parts := strings.Split(tok, ".")
	if len(parts) == 5 {
		return nil, errJWE
	}
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, errors.New("token is not header.payload.signature")
	}
	var out jwtParts
	for i, dst := range []*map[string]any{&out.header, &out.payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		if err := d.Decode(dst); err != nil || *dst == nil {
			return nil, fmt.Errorf("part %d: %w", i+1, errJSON)
		}
		if d.More() {
			return nil, fmt.Errorf("part %d has trailing data: %w", i+1, errJSON)
		}
		if i == 0 {
			out.headerJSON = string(raw)
		} else {
			out.payloadJSON = string(raw)
		}
	}
	return &out, nil
}

// jwtString renders a claim or header value as a flow variable string:
// strings as is, arrays of scalars comma-joined, others as JSON.
func jwtString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				return jwtJSON(v)
			}
			parts = append(parts, jwtString(e))
		}
		return strings.Join(parts, ",")
	}
	return jwtJSON(v)
}

func jwtJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// jwtDecodedString is the decoded.* form: strings as is, others JSON.
func jwtDecodedString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jwtJSON(v)
}

// jwtNumericDate reads a NumericDate claim (seconds since the epoch).
func jwtNumericDate(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false
	}
	return int64(f), true
}

// jwtSetVars writes the header and claim variables of a decoded token:
//
//	jwt.P.header-json, payload-json, header.{algorithm,typ,type,kid,<h>},
//	decoded.header.<h>, claim.{issuer,subject,audience,id,expiry,
//	issuedat,notbefore,names,<c>}, decoded.claim.<c>, payload-claim-names,
//	expiry_formatted, seconds_remaining, time_remaining_formatted,
//	is_expired.
func jwtSetVars(r *engine.Run, policy string, t *jwtParts) {
	pre := jwtPrefix + "." + policy + "."
	set := func(name string, v any) { _ = r.Set(pre+name, v) }
	set("header-json", t.headerJSON)
	set("payload-json", t.payloadJSON)
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
	names := make([]string, 0, len(t.payload))
	for c, v := range t.payload {
		names = append(names, c)
		set("decoded.claim."+c, jwtDecodedString(v))
		set("claim."+c, jwtString(v))
	}
	sort.Strings(names)
	set("claim.names", strings.Join(names, ","))
	set("payload-claim-names", strings.Join(names, ","))
	// claim.expiry, issuedat and notbefore are milliseconds since the
	// epoch (DecodeJWT reference, Flow variables); decoded.claim.* keep
	// the token's seconds.
	friendly := map[string]string{"iss": "issuer", "sub": "subject", "aud": "audience", "jti": "id"}
	for c, f := range friendly {
		if v, ok := t.payload[c]; ok {
			set("claim."+f, jwtString(v))
		}
	}
	for c, f := range map[string]string{"exp": "expiry", "iat": "issuedat", "nbf": "notbefore"} {
		if v, ok := t.payload[c]; ok {
			if secs, isDate := jwtNumericDate(v); isDate {
				set("claim."+f, strconv.FormatInt(secs*1000, 10))
			} else {
				set("claim."+f, jwtString(v))
			}
		}
	}
	if exp, ok := jwtNumericDate(t.payload["exp"]); ok {
		now := jwtNow()
		at := time.Unix(exp, 0).UTC()
		remaining := at.Sub(now)
		set("expiry_formatted", at.Format("2006-01-02T15:04:05.000-0700"))
		set("seconds_remaining", int64(remaining/time.Second))
		set("is_expired", remaining <= 0)
		if remaining < 0 {
			remaining = 0
		}
		set("time_remaining_formatted", fmt.Sprintf("%02d:%02d:%02d.%03d", int64(remaining/time.Hour),
			int64(remaining/time.Minute)%60, int64(remaining/time.Second)%60, int64(remaining/time.Millisecond)%1000))
	}
}

// jwtDuration parses Apigee time spans: an integer with an optional unit
// ms, s, m, h, d (no unit: seconds).
func jwtDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	mult := time.Second
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.d
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > int64(1<<62)/int64(mult) {
		return 0, fmt.Errorf("time span %q: want a non-negative integer with unit ms, s, m, h or d", s)
	}
	return time.Duration(n) * mult, nil
}

// jwtClaim is one <Claim name type array ref>value</Claim>.
type jwtClaim struct {
	name  string
	typ   string
	array bool
	val   jwtValue
}

// jwtClaims compiles <AdditionalClaims> (headers false: the registered
// claim names are refused, InvalidNameForAdditionalClaim) or
// <AdditionalHeaders> (the names in bannedHeaders are refused,
// InvalidNameForAdditionalHeader). A ref on the element itself names a
// variable holding a JSON object.
func jwtClaims(c *engine.Compiler, n *bundle.Node, headers bool, bannedHeaders ...string) ([]jwtClaim, string, bool) {
	if n == nil {
		return nil, "", true
	}
	ok := true
	c.Unknown(n, "Claim")
	ref, _ := n.Attr("ref")
	var out []jwtClaim
	for _, ch := range n.Children {
		if ch.Name != "Claim" {
			continue
		}
		name, _ := ch.Attr("name")
		name = strings.TrimSpace(name)
		if name == "" {
			c.Errorf(ch, diag.APMissingElement, "<Claim> needs a name")
			ok = false
			continue
		}
		if !headers && jwtRegistered[name] {
			c.Errorf(ch, diag.APBadPolicy, "Invalid name for additional claim : claim(%s)", name)
			ok = false
			continue
		}
		if headers && slices.Contains(bannedHeaders, name) {
			c.Errorf(ch, diag.APBadPolicy, "Invalid name for additional header : header(%s)", name)
			ok = false
			continue
		}
		typ, _ := ch.Attr("type")
		typ = strings.ToLower(strings.TrimSpace(typ))
		switch typ {
		case "":
			typ = "string"
		case "string", "number", "boolean", "map":
		default:
			c.Errorf(ch, diag.APBadPolicy, "<Claim type=%q>: want string, number, boolean or map", typ)
			ok = false
			continue
		}
		arr, _ := ch.Attr("array")
		out = append(out, jwtClaim{name: name, typ: typ, array: c.Bool(ch, arr, false), val: jwtVal(ch)})
	}
	return out, strings.TrimSpace(ref), ok
}

// jwtClaimValue converts a resolved claim value to its JSON value.
func jwtClaimValue(cl jwtClaim, s string) (any, error) {
	one := func(s string) (any, error) {
		s = strings.TrimSpace(s)
		switch cl.typ {
		case "number":
			n := json.Number(s)
			if _, err := n.Float64(); err != nil {
				return nil, fmt.Errorf("claim %s: %q is not a number", cl.name, s)
			}
			return n, nil
		case "boolean":
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("claim %s: %q is not a boolean", cl.name, s)
			}
			return b, nil
		case "map":
			var m map[string]any
			d := json.NewDecoder(strings.NewReader(s))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				return nil, fmt.Errorf("claim %s: not a JSON object: %w", cl.name, err)
			}
			return m, nil
		}
		return s, nil
	}
	if !cl.array {
		if cl.typ == "string" {
			return s, nil
		}
		return one(s)
	}
	var out []any
	for _, e := range strings.Split(s, ",") {
		v, err := one(e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// readPublicKey reads a <PublicKey>'s key source: exactly one of <Value>,
// <Certificate> or <JWKS> (inline, uri= or uriRef=; a remote set gets a
// cache), and a key written in the policy parsed once at load. Verifying
// signatures and encrypting JWTs share it.
func (k *jwtKeyConf) readPublicKey(c *engine.Compiler, pub *bundle.Node) bool {
	n := 0
	if v := pub.Child("Value"); v != nil {
		k.public, n = jwtVal(v), n+1
	}
	if v := pub.Child("Certificate"); v != nil {
		k.cert, n = jwtVal(v), n+1
	}
	if v := pub.Child("JWKS"); v != nil {
		n++
		uri, hasURI := v.Attr("uri")
		uriRef, hasURIRef := v.Attr("uriRef")
		switch {
		case hasURI:
			if k.jwksURI = c.Template(v, strings.TrimSpace(uri)); k.jwksURI == nil {
				return false
			}
		case hasURIRef:
			k.jwksRef = strings.TrimSpace(uriRef)
		default:
			k.jwks = jwtVal(v)
		}
		if hasURI || hasURIRef {
			k.cache = &jwksCache{sets: map[string]jwksEntry{}}
		}
	}
	if n != 1 {
		c.Errorf(pub, diag.APBadPolicy, "<PublicKey> needs exactly one of <Value>, <Certificate>, <JWKS>")
		return false
	}
	for _, v := range []jwtValue{k.public, k.cert} {
		if v.set && v.ref == "" {
			key, err := publicFromPEM(v.text)
			if err != nil {
				c.Errorf(pub, diag.APBadPolicy, "<PublicKey>: the key written in the policy does not parse: %v", err)
				return false
			}
			k.static = key
		}
	}
	return true
}
