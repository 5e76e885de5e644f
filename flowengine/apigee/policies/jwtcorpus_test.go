package policies

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	corpusdir "github.com/flowproc/flowproc/internal/corpus"
)

// jwtCorpusJWE are the corpus JWT policies that use encryption (JWE):
// they must compile as encrypted JWT policies.
var jwtCorpusJWE = map[string]bool{
	"gcs-json-web-tokens/apiproxy/policies/JWT-GenerateEncrypted.xml": true,
	"gcs-json-web-tokens/apiproxy/policies/JWT-VerifyEncrypted.xml":   true,
}

// jwtCorpusRejected are corpus JWT/JWS policies that carry an element
// flowproc cannot honour, with the expected diagnostic. The apigeelint
// sample VJWS-1 puts a claim check (<Issuer>) on a JWS, which has no
// claims: rejected rather than silently ignored; GJWT-1 puts a JWS
// <Payload> on an encrypted GenerateJWT, whose payload is its claims.
var jwtCorpusRejected = map[string]string{
	"_supplements/apigeelint-policy-types/policies/GJWT-1.xml": "AP103: unknown element <Payload> in <GenerateJWT>",
	"_supplements/apigeelint-policy-types/policies/VJWS-1.xml": "AP103: unknown element <Issuer> in <VerifyJWS>",
}

// TestJWTCorpusPolicies compiles every JWT and JWS policy of the public
// corpus (dino-jwt-verify, gcs-json-web-tokens, the apigeelint samples).
func TestJWTCorpusPolicies(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	n := 0
	_ = filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".xml") || filepath.Base(filepath.Dir(p)) != "policies" {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		root, err := bundle.ParseXML(src)
		if err != nil {
			return nil
		}
		if _, ok := engine.KindOf(root.Name); !ok || !strings.HasSuffix(root.Name, "JWT") && !strings.HasSuffix(root.Name, "JWS") {
			return nil
		}
		n++
		rel, _ := filepath.Rel(corpus, p)
		rel = filepath.ToSlash(rel)
		pol, errs := engine.TestPolicy(string(src), nil, nil)
		if jwtCorpusJWE[rel] {
			if len(errs) > 0 || pol == nil {
				t.Errorf("%s: encrypted JWT policy does not compile:\n%v", rel, errs)
			} else if !jwtPolicyEncrypted(pol) {
				t.Errorf("%s: compiled as a signed JWT policy", rel)
			}
			return nil
		}
		if want, ok := jwtCorpusRejected[rel]; ok {
			if !strings.Contains(errs.Error(), want) {
				t.Errorf("%s: want %q, got %q", rel, want, errs.Error())
			}
			return nil
		}
		if len(errs) > 0 || pol == nil {
			t.Errorf("%s:\n%v", rel, errs)
		}
		return nil
	})
	if n < 10 {
		t.Errorf("only %d JWT policies found in the corpus", n)
	}
	t.Logf("%d JWT/JWS corpus policies checked", n)
}

// jwtPolicyEncrypted reports whether a compiled JWT policy is the
// encrypted (JWE) kind.
func jwtPolicyEncrypted(p engine.Policy) bool {
	switch x := p.(type) {
	case *generateJWT:
		return x.jwe != nil
	case *verifyJWT:
		return x.jwe != nil
	}
	return false
}
