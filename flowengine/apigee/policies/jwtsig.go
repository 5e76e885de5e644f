package policies

import (
	"strings"

	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// jwsPrefix names the JWS policies in fault codes (steps.jws.*) and
// variables (jws.<policy>.*).
const jwsPrefix = "jws"

// joseSig is the signature check VerifyJWT and VerifyJWS share: the
// algorithm comes from the policy only, then crit, the key and the
// signature.
type joseSig struct {
	algs       []string
	keys       *jwtKeyConf
	known      map[string]bool
	ignoreCrit bool
}

// check verifies the compact token tok whose decoded protected header is
// hdr. Faults: NoAlgorithmFoundInHeader, AlgorithmMismatch,
// AlgorithmInTokenNotPresentInConfiguration (several configured),
// UnhandledCriticalHeader, the key faults and InvalidToken (bad crit, b64,
// or a signature that does not verify).
func (s *joseSig) check(r *engine.Run, tok string, hdr map[string]any) error {
	k := s.keys
	alg, ok := hdr["alg"].(string)
	if !ok || alg == "" {
		return k.fault("NoAlgorithmFoundInHeader", "No algorithm found in header")
	}
	allowedAlg := false
	for _, a := range s.algs {
		allowedAlg = allowedAlg || a == alg
	}
	if !allowedAlg {
		if len(s.algs) > 1 {
			return k.fault("AlgorithmInTokenNotPresentInConfiguration", "Algorithm in header (%s) is not one of the algorithms in policy (%s)", alg, strings.Join(s.algs, ","))
		}
		return k.fault("AlgorithmMismatch", "Algorithm in header (%s) does not match the algorithm in policy (%s)", alg, strings.Join(s.algs, ","))
	}
	if _, b64 := hdr["b64"]; b64 {
		return k.fault("InvalidToken", "Invalid token: unencoded payloads (b64) are not supported")
	}
	var crit []string
	if raw, has := hdr["crit"]; has {
		list, isList := raw.([]any)
		if !isList || len(list) == 0 {
			return k.fault("InvalidToken", "Invalid token")
		}
		for _, e := range list {
			name, _ := e.(string)
			if !s.ignoreCrit && !s.known[name] {
				return k.fault("UnhandledCriticalHeader", "Critical header not handled: %s", name)
			}
			crit = append(crit, name)
		}
	}
	kid, _ := hdr["kid"].(string)
	var key any
	if jwtAlgs[alg] == famHMAC {
		b, err := k.secretBytes(r, alg)
		if err != nil {
			return err
		}
		key = b
	} else {
		var err error
		if key, err = k.publicKey(r, alg, kid); err != nil {
			return err
		}
	}
	var err error
	if crit == nil {
		_, err = jws.VerifyCompactFast(key, []byte(tok), jwtAlgOf(alg))
	} else {
		_, err = jws.Verify([]byte(tok), jws.WithKey(jwtAlgOf(alg), key), jws.WithCritExtension(crit...), jws.WithCompact())
	}
	if err != nil {
		// Apigee's error table: InvalidToken "occurs when the JWT
		// signature verification fails" (there is no InvalidSignature).
		f := k.fault("InvalidToken", "Invalid token: signature could not be verified")
		f.Err = err
		return f
	}
	return nil
}
