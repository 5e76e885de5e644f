package policies

// Encrypted JWTs (JWE, RFC 7516 compact serialization) for GenerateJWT
// and VerifyJWT, and the header-only decode of DecodeJWT.
//
//	<GenerateJWT name="GJ"><Type>Encrypted</Type>
//	  <Algorithms><Key>RSA-OAEP-256</Key><Content>A128GCM</Content></Algorithms>
//	  <PublicKey><Value ref="rsa_public_pem"/></PublicKey>  <!-- or Certificate, JWKS + Id -->
//	  … the claim elements of a signed JWT …</GenerateJWT>
//	<VerifyJWT name="VJ"><Type>Encrypted</Type>
//	  <Algorithms><Key>RSA-OAEP-256</Key></Algorithms>        <!-- Content optional -->
//	  <PrivateKey><Value ref="private.rsa_pem"/></PrivateKey></VerifyJWT>
//
// What this relies on. The Apigee X "GenerateJWT policy" reference page
// (docs.cloud.google.com/apigee/docs/api-platform/reference/policies/
// generate-jwt-policy, as last updated 2026-04-10) confirms each item
// marked [gen]; the "JWS and JWT policies overview" page those marked
// [overview]; the Apigee community answer "Does Apigee support JWE and
// encryption" those marked [community]. [mem] is from memory of the VerifyJWT page, which
// could not be read; [inferred] is flowproc's own reading.
//
//   - An encrypted JWT is chosen by <Algorithms> (<Key>, and <Content>,
//     which GenerateJWT requires) instead of <Algorithm>; <Type> is
//     optional, Encrypted needs <Algorithms> and Signed <Algorithm> [gen].
//     Both <Algorithm> and <Algorithms> is Apigee's runtime fault
//     InvalidConfiguration [gen]; flowproc refuses it at load (AP401),
//     as it does <Type>Signed</Type> with <Algorithms>. VerifyJWT needs
//     only <Key>; <Content> is optional there [community].
//   - Key algorithms: RSA-OAEP-256; ECDH-ES and ECDH-ES+A128KW/A192KW/
//     A256KW; A128KW/A192KW/A256KW; A128GCMKW/A192GCMKW/A256GCMKW;
//     PBES2-HS256+A128KW/HS384+A192KW/HS512+A256KW; dir [gen]. RSA1_5 and
//     RSA-OAEP (SHA-1) are not in that list and stay a load error. Content
//     algorithms: A128CBC-HS256, A192CBC-HS384, A256CBC-HS512, A128GCM,
//     A192GCM, A256GCM [gen].
//   - Keys [gen]: RSA and ECDH-ES encrypt to <PublicKey> (exactly one of
//     <Value>, <Certificate>, <JWKS>; <JWKS> needs <Id>, the kid to use);
//     the AES key wraps use <SecretKey> (encoding on <SecretKey>, default
//     UTF-8; <Id>); PBES2 uses <PasswordKey> (<Value ref>, <Id>,
//     <SaltLength> default 8 bytes, <PBKDF2Iterations> default 10000);
//     dir uses <DirectKey> (<Value ref encoding=…>, default base64, hex
//     may hold whitespace; <Id>) whose decoded length must be exactly the
//     content algorithm's key length. Decryption takes <PrivateKey>
//     (<Value ref="private.…"/>, <Password>) [community] and the same
//     <SecretKey>, <PasswordKey>, <DirectKey> [mem].
//   - <Compress> (deflate before encrypting) is valid only for an
//     encrypted JWT [gen]: on a signed GenerateJWT, and on VerifyJWT, it
//     is a load error.
//   - VerifyJWT checks, in order: Source (FailedToResolveVariable); the
//     five-part form (a signed JWT against an encrypted policy is
//     InvalidToken, a malformed one FailedToDecode, bad header JSON
//     InvalidJsonFormat); alg (NoAlgorithmFoundInHeader; AlgorithmMismatch,
//     or AlgorithmInTokenNotPresentInConfiguration when <Key> lists
//     several — the codes and their 401 are on the [gen] error table);
//     enc against <Content> when given (AlgorithmMismatch [inferred]);
//     crit (UnhandledCriticalHeader); the key (FailedToResolveVariable,
//     InvalidPrivateKey, InvalidSecretKey, InvalidPasswordKey,
//     InsufficientKeyLength, WrongKeyType, InvalidCurve); decryption — a
//     wrong key and a tampered token cannot be told apart and both are
//     InvalidToken [inferred]; the payload must be a JSON object
//     (InvalidJsonFormat); then the times and claims exactly as for a
//     signed JWT (TokenExpired, TokenNotYetValid, InvalidClaim).
//   - GenerateJWT faults as for a signed JWT; an encryption that fails is
//     EncryptionFailed ("creation of an encrypted JWT failed") [gen]; a
//     <PublicKey> that does not parse KeyParsingFailed [gen].
//   - Variables are those of a signed JWT: the protected header appears as
//     jwt.<policy>.header.{alg,enc,kid,typ,…} and header-json.
//   - DecodeJWT of an encrypted JWT decodes its protected header only (the
//     claims are not readable without the key) [overview].
//   - PBES2: a token's p2c must lie in [1000, max] where max is
//     <PBKDF2Iterations> of VerifyJWT, default 100000 — a bound against CPU
//     exhaustion by a hostile p2c [inferred]. <SaltLength> of GenerateJWT
//     may be 8 to 64 bytes (RFC 7518 asks at least 8); other values are a
//     load error.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// jweKeyKind is the kind of key a key-management algorithm takes.
type jweKeyKind int

const (
	jweRSA jweKeyKind = iota + 1
	jweEC
	jweSecret
	jwePassword
	jweDirect
)

// jweKeyAlg describes one key-management algorithm: its key kind and, for
// the AES key wraps and PBES2, the key (or salt) length in bytes.
type jweKeyAlg struct {
	kind   jweKeyKind
	keyLen int
}

// jweKeyAlgs are the key-management algorithms Apigee X supports [gen].
var jweKeyAlgs = map[string]jweKeyAlg{
	"RSA-OAEP-256":   {jweRSA, 0},
	"ECDH-ES":        {jweEC, 0},
	"ECDH-ES+A128KW": {jweEC, 0}, "ECDH-ES+A192KW": {jweEC, 0}, "ECDH-ES+A256KW": {jweEC, 0},
	"A128KW": {jweSecret, 16}, "A192KW": {jweSecret, 24}, "A256KW": {jweSecret, 32},
	"A128GCMKW": {jweSecret, 16}, "A192GCMKW": {jweSecret, 24}, "A256GCMKW": {jweSecret, 32},
	"dir":                {jweDirect, 0},
	"PBES2-HS256+A128KW": {jwePassword, 16}, "PBES2-HS384+A192KW": {jwePassword, 24}, "PBES2-HS512+A256KW": {jwePassword, 32},
}

// jweEncs are the content-encryption algorithms and their key lengths.
var jweEncs = map[string]int{
	"A128CBC-HS256": 32, "A192CBC-HS384": 48, "A256CBC-HS512": 64,
	"A128GCM": 16, "A192GCM": 24, "A256GCM": 32,
}

const (
	// jweDefaultIterations is the PBKDF2 count of generated PBES2 tokens.
	jweDefaultIterations = 10000
	// jweMaxIterations bounds the p2c VerifyJWT accepts by default.
	jweMaxIterations = 100000
	// jweMinIterations is RFC 7518's floor, also the library's.
	jweMinIterations = 1000
	// jweDefaultSalt is Apigee's default <SaltLength> in bytes [gen];
	// jweMinSalt is RFC 7518's floor, jweMaxSalt flowproc's bound.
	jweDefaultSalt = 8
	jweMinSalt     = 8
	jweMaxSalt     = 64
	// jweMaxInflate bounds a compressed (zip DEF) payload once inflated.
	jweMaxInflate = 16 * MaxJWTBytes
)

// jweConf is the encrypted-JWT part of a GenerateJWT or VerifyJWT.
type jweConf struct {
	keyAlgs    []string
	encs       []string // Generate: one; Verify: the allowed ones (none: any)
	kind       jweKeyKind
	keys       *jwtKeyConf
	password   jwtValue
	iterations int
	saltLen    int
	compress   bool
}

// jwtWantsJWE reports whether a JWT policy is configured for an encrypted
// JWT: <Algorithms> or <Type>Encrypted</Type>.
func jwtWantsJWE(root *bundle.Node) bool {
	if root.Child("Algorithms") != nil {
		return true
	}
	n := root.Child("Type")
	return n != nil && strings.TrimSpace(n.Text) == "Encrypted"
}

// compileJWE reads <Type>, <Algorithms> and the key elements of an
// encrypted GenerateJWT (gen) or VerifyJWT.
func compileJWE(c *engine.Compiler, p *bundle.Policy, gen bool) (*jweConf, bool) {
	root := p.Root
	if n := root.Child("Type"); n != nil {
		if t := strings.TrimSpace(n.Text); t != "" && t != "Encrypted" {
			c.Errorf(n, diag.APBadPolicy, "<Type>%s</Type> with <Algorithms>: an encrypted JWT is <Type>Encrypted</Type>", t)
			return nil, false
		}
	}
	if n := root.Child("Algorithm"); n != nil {
		c.Errorf(n, diag.APBadPolicy, "<Algorithm> (signed JWT) and <Algorithms> (encrypted JWT) exclude each other")
		return nil, false
	}
	an := root.Child("Algorithms")
	if an == nil {
		c.Errorf(root, diag.APMissingElement, "an encrypted JWT needs <Algorithms><Key>…</Key><Content>…</Content></Algorithms>")
		return nil, false
	}
	c.Unknown(an, "Key", "Content")
	j := &jweConf{}
	kn := an.Child("Key")
	if kn == nil || strings.TrimSpace(kn.Text) == "" {
		c.Errorf(an, diag.APMissingElement, "<Algorithms> needs <Key>")
		return nil, false
	}
	for _, a := range strings.Split(kn.Text, ",") {
		a = strings.TrimSpace(a)
		ka, ok := jweKeyAlgs[a]
		if !ok {
			c.Errorf(kn, diag.APBadPolicy, "key encryption algorithm %q is not supported (want RSA-OAEP-256, ECDH-ES[+A128KW|+A192KW|+A256KW], A128KW…A256KW, A128GCMKW…A256GCMKW, PBES2-HS256+A128KW…PBES2-HS512+A256KW or dir)", a)
			return nil, false
		}
		if j.kind != 0 && ka.kind != j.kind {
			c.Errorf(kn, diag.APBadPolicy, "key encryption algorithms %q need different kinds of key", kn.Text)
			return nil, false
		}
		j.kind = ka.kind
		j.keyAlgs = append(j.keyAlgs, a)
	}
	if gen && len(j.keyAlgs) > 1 {
		c.Errorf(kn, diag.APBadPolicy, "<Key> takes one algorithm here, not %q", kn.Text)
		return nil, false
	}
	if cn := an.Child("Content"); cn != nil && strings.TrimSpace(cn.Text) != "" {
		for _, e := range strings.Split(cn.Text, ",") {
			e = strings.TrimSpace(e)
			if _, ok := jweEncs[e]; !ok {
				c.Errorf(cn, diag.APBadPolicy, "content encryption algorithm %q is not supported (want A128CBC-HS256, A192CBC-HS384, A256CBC-HS512, A128GCM, A192GCM or A256GCM)", e)
				return nil, false
			}
			j.encs = append(j.encs, e)
		}
		if gen && len(j.encs) > 1 {
			c.Errorf(cn, diag.APBadPolicy, "<Content> takes one algorithm here, not %q", cn.Text)
			return nil, false
		}
	} else if gen {
		c.Errorf(an, diag.APMissingElement, "<Algorithms> needs <Content> to generate an encrypted JWT")
		return nil, false
	}
	if n := root.Child("Compress"); n != nil {
		if !gen {
			c.Errorf(n, diag.APUnknownElement, "unknown element <Compress> in <%s>", root.Name)
			return nil, false
		}
		j.compress = c.Bool(n, n.Text, false)
	}
	var ok bool
	switch j.kind {
	case jweRSA, jweEC:
		if gen {
			j.keys, ok = jwePublicKeys(c, p)
		} else {
			j.keys, ok = jwePrivateKeys(c, p)
		}
	case jweSecret:
		if root.Child("SecretKey") == nil {
			c.Errorf(root, diag.APMissingElement, "%s needs <SecretKey>", j.keyAlgs[0])
			return nil, false
		}
		if !jweOnly(c, root, "SecretKey") {
			return nil, false
		}
		j.keys, ok = jwtKeys(c, p, famHMAC, gen)
	case jwePassword:
		ok = j.compilePassword(c, p, gen)
	case jweDirect:
		j.keys, ok = jweDirectKey(c, p)
	}
	if !ok {
		return nil, false
	}
	if j.kind == jweRSA || j.kind == jweEC {
		j.keys.fits = j.keyFits
	}
	return j, true
}

// jweOnly reports key elements other than want, which a key kind does not
// take.
func jweOnly(c *engine.Compiler, root *bundle.Node, want string) bool {
	for _, name := range []string{"SecretKey", "PrivateKey", "PublicKey", "PasswordKey", "DirectKey"} {
		if n := root.Child(name); n != nil && name != want {
			c.Errorf(n, diag.APBadPolicy, "this key encryption algorithm takes <%s>, not <%s>", want, name)
			return false
		}
	}
	return true
}

// jwePublicKeys reads the <PublicKey> an RSA or ECDH-ES GenerateJWT
// encrypts to: <Value>, <Certificate> or <JWKS>, and <Id> (the kid header;
// with a JWKS, the key to use).
func jwePublicKeys(c *engine.Compiler, p *bundle.Policy) (*jwtKeyConf, bool) {
	root := p.Root
	k := &jwtKeyConf{prefix: jwtPrefix, policy: p.Name}
	pub := root.Child("PublicKey")
	if pub == nil {
		c.Errorf(root, diag.APMissingElement, "encrypting with RSA-OAEP-256 or ECDH-ES needs <PublicKey>")
		return nil, false
	}
	if !jweOnly(c, root, "PublicKey") {
		return nil, false
	}
	c.Unknown(pub, "Value", "Certificate", "JWKS", "Id")
	if !k.readPublicKey(c, pub) {
		return nil, false
	}
	k.id = jwtVal(pub.Child("Id"))
	if pub.Child("JWKS") != nil && k.id.ref == "" && strings.TrimSpace(k.id.text) == "" {
		c.Errorf(pub, diag.APMissingElement, "<PublicKey> with <JWKS> needs <Id>, the kid of the key to encrypt to")
		return nil, false
	}
	return k, true
}

// jwePrivateKeys reads the <PrivateKey> an RSA or ECDH-ES VerifyJWT
// decrypts with.
func jwePrivateKeys(c *engine.Compiler, p *bundle.Policy) (*jwtKeyConf, bool) {
	root := p.Root
	k := &jwtKeyConf{prefix: jwtPrefix, policy: p.Name}
	pk := root.Child("PrivateKey")
	if pk == nil {
		c.Errorf(root, diag.APMissingElement, "decrypting RSA-OAEP-256 or ECDH-ES needs <PrivateKey>")
		return nil, false
	}
	if !jweOnly(c, root, "PrivateKey") {
		return nil, false
	}
	c.Unknown(pk, "Value", "Password")
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
	return k, true
}

// compilePassword reads <PasswordKey> of a PBES2 policy.
func (j *jweConf) compilePassword(c *engine.Compiler, p *bundle.Policy, gen bool) bool {
	root := p.Root
	j.keys = &jwtKeyConf{prefix: jwtPrefix, policy: p.Name}
	pw := root.Child("PasswordKey")
	if pw == nil {
		c.Errorf(root, diag.APMissingElement, "PBES2 algorithms need <PasswordKey>")
		return false
	}
	if !jweOnly(c, root, "PasswordKey") {
		return false
	}
	c.Unknown(pw, "Value", "SaltLength", "PBKDF2Iterations", "Id")
	v := pw.Child("Value")
	if v == nil {
		c.Errorf(pw, diag.APMissingElement, "<PasswordKey> needs <Value>")
		return false
	}
	if !jwtPrivateRef(c, pw, v) {
		return false
	}
	j.password = jwtVal(v)
	j.keys.id = jwtVal(pw.Child("Id"))
	j.iterations = jweDefaultIterations
	if !gen {
		j.iterations = jweMaxIterations
	}
	if n := pw.Child("PBKDF2Iterations"); n != nil {
		it, err := strconv.Atoi(strings.TrimSpace(n.Text))
		if err != nil || it < jweMinIterations || it > 10*jweMaxIterations {
			c.Errorf(n, diag.APBadPolicy, "<PBKDF2Iterations> %q: want an integer from %d to %d", n.Text, jweMinIterations, 10*jweMaxIterations)
			return false
		}
		j.iterations = it
	}
	j.saltLen = jweDefaultSalt
	if n := pw.Child("SaltLength"); n != nil {
		if !gen {
			c.Errorf(n, diag.APBadPolicy, "<SaltLength> applies to GenerateJWT only: a token carries its own salt (p2s)")
			return false
		}
		sl, err := strconv.Atoi(strings.TrimSpace(n.Text))
		if err != nil || sl < jweMinSalt || sl > jweMaxSalt {
			c.Errorf(n, diag.APBadPolicy, "<SaltLength> %q: want an integer from %d to %d (bytes)", n.Text, jweMinSalt, jweMaxSalt)
			return false
		}
		j.saltLen = sl
	}
	return true
}

// jweDirectKey reads the <DirectKey> of a dir policy: <Value ref=…> with
// an encoding attribute (hex, base16, base64 — the default — or
// base64url) and an optional <Id>.
func jweDirectKey(c *engine.Compiler, p *bundle.Policy) (*jwtKeyConf, bool) {
	root := p.Root
	dk := root.Child("DirectKey")
	if dk == nil {
		c.Errorf(root, diag.APMissingElement, "dir needs <DirectKey>")
		return nil, false
	}
	if !jweOnly(c, root, "DirectKey") {
		return nil, false
	}
	c.Unknown(dk, "Value", "Id")
	v := dk.Child("Value")
	if v == nil {
		c.Errorf(dk, diag.APMissingElement, "<DirectKey> needs <Value>")
		return nil, false
	}
	if !jwtPrivateRef(c, dk, v) {
		return nil, false
	}
	enc, _ := v.Attr("encoding")
	enc = strings.ToLower(strings.TrimSpace(enc))
	switch enc {
	case "":
		enc = "base64"
	case "hex", "base16", "base64", "base64url":
	default:
		c.Errorf(v, diag.APBadPolicy, "<DirectKey><Value encoding=%q>: want hex, base16, base64 or base64url", enc)
		return nil, false
	}
	return &jwtKeyConf{prefix: jwtPrefix, policy: p.Name, secret: jwtVal(v), secretEnc: enc, id: jwtVal(dk.Child("Id"))}, true
}

// directBytes resolves and decodes the <DirectKey> value: hex may hold
// whitespace and either case; base64 and base64url are exact, padding
// optional.
func (j *jweConf) directBytes(r *engine.Run) ([]byte, error) {
	k := j.keys
	s, ok := k.secret.resolve(r)
	if !ok {
		return nil, k.fault("FailedToResolveVariable", "Failed to resolve variable %s", k.secret.ref)
	}
	var b []byte
	var err error
	switch k.secretEnc {
	case "hex", "base16":
		b, err = hex.DecodeString(strings.Join(strings.Fields(s), ""))
	case "base64url":
		b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	default:
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, k.fault("InvalidSecretKey", "Failed to decode the direct key as %s", k.secretEnc)
	}
	return b, nil
}

// keyFits checks an RSA or EC key against a key-management algorithm:
// RSA-OAEP-256 takes RSA keys of 2048 bits or more, ECDH-ES keys on P-256,
// P-384 or P-521.
func (j *jweConf) keyFits(alg string, key any) error {
	k := j.keys
	switch jweKeyAlgs[alg].kind {
	case jweRSA:
		var bits int
		switch kk := key.(type) {
		case *rsa.PublicKey:
			bits = kk.N.BitLen()
		case *rsa.PrivateKey:
			bits = kk.N.BitLen()
		default:
			return k.fault("WrongKeyType", "Wrong key type for algorithm %s", alg)
		}
		if bits < 2048 {
			return k.fault("InsufficientKeyLength", "Key is too short for algorithm %s", alg)
		}
		return nil
	case jweEC:
		var curve elliptic.Curve
		switch kk := key.(type) {
		case *ecdsa.PublicKey:
			curve = kk.Curve
		case *ecdsa.PrivateKey:
			curve = kk.Curve
		default:
			return k.fault("WrongKeyType", "Wrong key type for algorithm %s", alg)
		}
		switch curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return k.fault("InvalidCurve", "Key curve is not P-256, P-384 or P-521")
	}
	return k.fault("WrongKeyType", "Wrong key type for algorithm %s", alg)
}

// secret decodes the SecretKey and checks its length against alg (dir:
// against enc).
func (j *jweConf) secret(r *engine.Run, alg, enc string) ([]byte, error) {
	var b []byte
	var err error
	if alg == "dir" {
		b, err = j.directBytes(r)
	} else {
		b, err = j.keys.secretBytes(r, alg)
	}
	if err != nil {
		return nil, err
	}
	want := jweKeyAlgs[alg].keyLen
	if alg == "dir" {
		want = jweEncs[enc]
	}
	switch {
	case len(b) < want:
		return nil, j.keys.fault("InsufficientKeyLength", "Key is too short for algorithm %s: want %d bytes", alg, want)
	case len(b) > want:
		return nil, j.keys.fault("InvalidSecretKey", "Key for algorithm %s must be %d bytes, not %d", alg, want, len(b))
	}
	return b, nil
}

// passwordBytes resolves the PBES2 password.
func (j *jweConf) passwordBytes(r *engine.Run) ([]byte, error) {
	s, ok := j.password.resolve(r)
	if !ok {
		return nil, j.keys.fault("FailedToResolveVariable", "Failed to resolve variable %s", j.password.ref)
	}
	if s == "" {
		return nil, j.keys.fault("InvalidPasswordKey", "The password of <PasswordKey> is empty")
	}
	return []byte(s), nil
}

// encrypt builds the compact JWE of payload with the extra protected
// headers hdr (typ, kid, AdditionalHeaders).
func (j *jweConf) encrypt(r *engine.Run, payload []byte, hdr map[string]any) (string, error) {
	alg, enc := j.keyAlgs[0], j.encs[0]
	k := j.keys
	var key any
	var err error
	switch j.kind {
	case jweRSA, jweEC:
		kid, _ := hdr["kid"].(string)
		key, err = k.publicKey(r, alg, kid)
	case jweSecret, jweDirect:
		key, err = j.secret(r, alg, enc)
	case jwePassword:
		key, err = j.pbes2Encrypter(r, alg, hdr)
	}
	if err != nil {
		return "", err
	}
	h := jwe.NewHeaders()
	for name, v := range hdr {
		if err := h.Set(name, v); err != nil {
			return "", k.fault("InvalidClaim", "Invalid header %s", name)
		}
	}
	keyAlg, _ := jwa.LookupKeyEncryptionAlgorithm(alg)
	encAlg, _ := jwa.LookupContentEncryptionAlgorithm(enc)
	opts := []jwe.EncryptOption{jwe.WithKey(keyAlg, key), jwe.WithContentEncryption(encAlg), jwe.WithProtectedHeaders(h), jwe.WithCompact()}
	if j.compress {
		opts = append(opts, jwe.WithCompress(jwa.Deflate()))
	}
	tok, err := jwe.Encrypt(payload, opts...)
	if err != nil {
		f := k.fault("EncryptionFailed", "Failed to encrypt the token")
		f.Err = err
		return "", f
	}
	return string(tok), nil
}

// jweHeader decodes the protected header of a five-part token.
func jweHeader(tok string) (map[string]any, string, error) {
	if len(tok) > MaxJWTBytes {
		return nil, "", fmt.Errorf("token longer than %d bytes", MaxJWTBytes)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 5 {
		return nil, "", fmt.Errorf("token has %d parts, not 5", len(parts))
	}
	if parts[0] == "" || parts[3] == "" || parts[4] == "" {
		return nil, "", fmt.Errorf("token has an empty header, ciphertext or tag")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, "", fmt.Errorf("header: %w", err)
	}
	hdr, err := jwtObject(raw)
	if err != nil {
		return nil, "", fmt.Errorf("header: %w", err)
	}
	return hdr, string(raw), nil
}

// jwtObject decodes a JSON object, numbers kept as json.Number.
func jwtObject(raw []byte) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, errJSON
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data: %w", errJSON)
	}
	return m, nil
}

// decrypt checks the header of tok against the policy and decrypts it.
func (j *jweConf) decrypt(r *engine.Run, policy, tok string, known map[string]bool, ignoreCrit bool) (*jwtParts, error) {
	k := j.keys
	if strings.Count(tok, ".") == 2 {
		return nil, jwtFault(policy, "InvalidToken", "Invalid token: a signed JWT where an encrypted one is expected")
	}
	hdr, hdrJSON, err := jweHeader(tok)
	if err != nil {
		f := jwtFault(policy, "FailedToDecode", "Failed to Decode Token")
		if errors.Is(err, errJSON) {
			f = jwtFault(policy, "InvalidJsonFormat", "Invalid JSON in the header")
		}
		f.Err = err
		return nil, f
	}
	alg, _ := hdr["alg"].(string)
	if alg == "" {
		return nil, k.fault("NoAlgorithmFoundInHeader", "No algorithm found in header")
	}
	if !slices.Contains(j.keyAlgs, alg) {
		if len(j.keyAlgs) > 1 {
			return nil, k.fault("AlgorithmInTokenNotPresentInConfiguration", "Algorithm in header (%s) is not one of the algorithms in policy (%s)", alg, strings.Join(j.keyAlgs, ","))
		}
		return nil, k.fault("AlgorithmMismatch", "Algorithm in header (%s) does not match the algorithm in policy (%s)", alg, strings.Join(j.keyAlgs, ","))
	}
	enc, _ := hdr["enc"].(string)
	if _, ok := jweEncs[enc]; !ok {
		return nil, k.fault("InvalidToken", "Invalid token: content encryption %q is not supported", enc)
	}
	if len(j.encs) > 0 && !slices.Contains(j.encs, enc) {
		return nil, k.fault("AlgorithmMismatch", "Content encryption in header (%s) does not match the policy (%s)", enc, strings.Join(j.encs, ","))
	}
	var crit []string
	if raw, has := hdr["crit"]; has {
		list, isList := raw.([]any)
		if !isList || len(list) == 0 {
			return nil, k.fault("InvalidToken", "Invalid token")
		}
		for _, e := range list {
			name, _ := e.(string)
			if !ignoreCrit && !known[name] {
				return nil, k.fault("UnhandledCriticalHeader", "Critical header not handled: %s", name)
			}
			crit = append(crit, name)
		}
	}
	var key any
	switch j.kind {
	case jweRSA, jweEC:
		s, err := k.privateKey(r)
		if err != nil {
			return nil, err
		}
		if err := j.keyFits(alg, s); err != nil {
			return nil, err
		}
		key = s
	case jweSecret, jweDirect:
		key, err = j.secret(r, alg, enc)
	case jwePassword:
		key, err = j.passwordBytes(r)
	}
	if err != nil {
		return nil, err
	}
	keyAlg, _ := jwa.LookupKeyEncryptionAlgorithm(alg)
	opts := []jwe.DecryptOption{jwe.WithKey(keyAlg, key), jwe.WithMaxDecompressBufferSize(jweMaxInflate),
		jwe.WithMinPBES2Count(jweMinIterations), jwe.WithMaxPBES2Count(max(j.iterations, jweMinIterations))}
	if crit != nil {
		opts = append(opts, jwe.WithCritExtension(crit...))
	}
	plain, err := jwe.Decrypt([]byte(tok), opts...)
	if err != nil {
		f := k.fault("InvalidToken", "Invalid token: it could not be decrypted")
		f.Err = err
		return nil, f
	}
	payload, err := jwtObject(plain)
	if err != nil {
		f := k.fault("InvalidJsonFormat", "Invalid JSON in the payload")
		f.Err = err
		return nil, f
	}
	return &jwtParts{header: hdr, payload: payload, headerJSON: hdrJSON, payloadJSON: string(plain)}, nil
}

// jwtSetHeaderVars writes the header variables of a token whose claims
// are not readable (DecodeJWT of an encrypted JWT).
func jwtSetHeaderVars(r *engine.Run, policy string, hdr map[string]any, hdrJSON string) {
	pre := jwtPrefix + "." + policy + "."
	_ = r.Set(pre+"header-json", hdrJSON)
	for h, v := range hdr {
		_ = r.Set(pre+"decoded.header."+h, jwtDecodedString(v))
		_ = r.Set(pre+"header."+h, jwtString(v))
	}
	if v, ok := hdr["alg"]; ok {
		_ = r.Set(pre+"header.algorithm", jwtString(v))
	}
	if v, ok := hdr["typ"]; ok {
		_ = r.Set(pre+"header.type", jwtString(v))
	}
}
