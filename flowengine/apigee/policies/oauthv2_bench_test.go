package policies

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// BenchmarkOAuthV2 measures issuing a client_credentials token and
// verifying a bearer token on the memory stores.
func BenchmarkOAuthV2(b *testing.B) {
	prods := oauthProducts(b)
	gen, errs := engine.TestPolicy(oauthGenPolicy, nil, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	ver, errs := engine.TestPolicy(oauthVerifyPolicy, nil, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	basic := oauthBasicHeader("ada-id", "ada-secret")
	run := func(b *testing.B, pol engine.Policy, path, body string, headers ...string) *engine.Run {
		r := engine.TestRun(context.Background(), engine.ProxyRequest, "POST", path, []byte(body), nil, headers...)
		r.SetTestProxyPath("/base", path)
		r.SetTestProducts(prods)
		if err := pol.Execute(r); err != nil {
			b.Fatal(err)
		}
		return r
	}
	b.Run("GenerateAccessToken", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			run(b, gen, "/token", "grant_type=client_credentials", "Content-Type", oauthFormCT, "Authorization", basic)
		}
	})
	r := run(b, gen, "/token", "grant_type=client_credentials", "Content-Type", oauthFormCT, "Authorization", basic)
	tok, _ := r.Get("oauthv2accesstoken.G.access_token")
	b.Run("VerifyAccessToken", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			run(b, ver, "/forecast", "", "Authorization", "Bearer "+tok)
		}
	})
}
