package policies

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestJWTKeySources: a PEM certificate, a JWKS uriRef, and an RSA key
// below 2048 bits.
func TestJWTKeySources(t *testing.T) {
	k := jwtTestKeys(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.rsa.Public(), k.rsa)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	claims := map[string]any{"sub": "s"}

	p := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithm>PS384</Algorithm><Source>in</Source><PublicKey><Certificate ref="cert"/></PublicKey></VerifyJWT>`)
	r := jwtRun(t, map[string]string{"cert": cert, "in": jwtSign(t, "PS384", "rsa", nil, claims)})
	if err := p.Execute(r); err != nil {
		t.Errorf("certificate: %s", faultOf(err))
	}

	mock := upstream.NewMock()
	mock.Func = func(_ context.Context, c *upstream.Call) (*upstream.Result, error) {
		return &upstream.Result{Status: 200, Header: http.Header{}, Body: []byte(jwtJWKS(t, "p521"))}, nil
	}
	p = jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithm>ES512</Algorithm><Source>in</Source><PublicKey><JWKS uriRef="idp.jwks"/></PublicKey></VerifyJWT>`)
	r = jwtRun(t, map[string]string{"idp.jwks": "https://idp.example/keys", "in": jwtSign(t, "ES512", "p521", map[string]any{"kid": "p521"}, claims)})
	r.SetTestUpstream(mock)
	if err := p.Execute(r); err != nil {
		t.Errorf("uriRef: %s", faultOf(err))
	}
	if calls := mock.Calls(); len(calls) != 1 || calls[0].URL != "https://idp.example/keys" {
		t.Errorf("calls = %+v", calls)
	}
	r = jwtRun(t, map[string]string{"in": jwtSign(t, "ES512", "p521", map[string]any{"kid": "p521"}, claims)})
	if got := faultOf(p.Execute(r)); !strings.HasPrefix(got, "FailedToResolveVariable|") {
		t.Errorf("uriRef unresolved: %s", got)
	}

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(small.Public())
	p = jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithm>RS256</Algorithm><Source>in</Source><PublicKey><Value ref="pk"/></PublicKey></VerifyJWT>`)
	r = jwtRun(t, map[string]string{"pk": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), "in": jwtSign(t, "RS256", "rsa", nil, claims)})
	if got := faultOf(p.Execute(r)); !strings.HasPrefix(got, "InsufficientKeyLength|steps.jwt.InsufficientKeyLength|401|") {
		t.Errorf("1024-bit RSA: %s", got)
	}
}

// TestVerifyJWTConcurrent shares one compiled policy (and its JWKS cache)
// between goroutines; run with -race.
func TestVerifyJWTConcurrent(t *testing.T) {
	mock := upstream.NewMock()
	mock.Func = func(_ context.Context, c *upstream.Call) (*upstream.Result, error) {
		return &upstream.Result{Status: 200, Header: http.Header{}, Body: []byte(jwtJWKS(t, "rsa"))}, nil
	}
	p := jwtPolicy(t, `<VerifyJWT name="VJ"><Algorithm>RS256</Algorithm><Source>in</Source><PublicKey><JWKS uri="https://idp.example/keys"/></PublicKey></VerifyJWT>`)
	tok := jwtSign(t, "RS256", "rsa", map[string]any{"kid": "rsa"}, map[string]any{"sub": "s"})
	errs := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			r := jwtRun(t, map[string]string{"in": tok})
			r.SetTestUpstream(mock)
			errs <- faultOf(p.Execute(r))
		}()
	}
	for i := 0; i < 8; i++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
