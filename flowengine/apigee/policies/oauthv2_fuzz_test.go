package policies

import (
	"context"
	"errors"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// FuzzOAuthV2Request feeds arbitrary Authorization headers and token
// request bodies to GenerateAccessToken and VerifyAccessToken: neither
// may panic, every failure is an Apigee fault, and nothing but the
// configured client's real secret gets a token.
func FuzzOAuthV2Request(f *testing.F) {
	f.Add("Basic "+"YWRhLWlkOmFkYS1zZWNyZXQ=", "grant_type=client_credentials")
	f.Add("Bearer abc", "grant_type=password&username=u&password=p")
	f.Add("basic %%%", "grant_type=client_credentials&client_id=ada-id&client_secret=x")
	f.Add("Bearer ", "scope=read%20write&grant_type=client_credentials")
	f.Add("Basic Og==", "grant_type=refresh_token")
	prods := oauthProducts(f)
	gen, errs := engine.TestPolicy(oauthGenPolicy, nil, nil)
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	ver, errs := engine.TestPolicy(oauthVerifyPolicy, nil, nil)
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	f.Fuzz(func(t *testing.T, auth, body string) {
		for _, pol := range []engine.Policy{gen, ver} {
			r := engine.TestRun(context.Background(), engine.ProxyRequest, "POST", "/forecast", []byte(body), nil,
				"Content-Type", oauthFormCT, "Authorization", auth)
			r.SetTestProxyPath("/base", "/forecast")
			r.SetTestProducts(prods)
			err := pol.Execute(r)
			var fault *engine.Fault
			if err != nil && !errors.As(err, &fault) {
				t.Fatalf("error %v is not a fault", err)
			}
			if pol == gen && err == nil {
				if id, _ := r.Get("oauthv2accesstoken.G.client_id"); id != "ada-id" {
					t.Fatalf("token issued to %q", id)
				}
				_, secret := (&oauthV2{}).clientCredentials(r)
				if secret != "ada-secret" {
					t.Fatalf("token issued with secret %q", secret)
				}
			}
		}
	})
}
