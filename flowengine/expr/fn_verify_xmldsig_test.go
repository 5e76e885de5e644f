package expr

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// signXML returns xml with an enveloped signature by key and its
// self-signed certificate (PEM).
func signXML(t *testing.T, xml string, key *rsa.PrivateKey) (signed, certPEM string) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(xml); err != nil {
		t.Fatal(err)
	}
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}))
	el, err := ctx.SignEnveloped(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(el)
	s, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return s, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestFnVerifyXMLDSig(t *testing.T) {
	k := testKeys(t)
	const xml = `<a:Response xmlns:a="urn:a" ID="r1"><a:Name>hello</a:Name></a:Response>`
	signed, cert := signXML(t, xml, k.rsa)
	forged, forgedCert := signXML(t, strings.Replace(xml, "hello", "evil", 1), k.rsa2)
	sc := mapScope{
		"signed": signed, "cert": cert, "bareCert": bare(cert),
		"forged": forged, "forgedCert": forgedCert,
		"tampered":  strings.Replace(signed, ">hello<", ">hullo<", 1),
		"noID":      func() string { s, _ := signXML(t, `<r xmlns="urn:x"><v>1</v></r>`, k.rsa); return s }(),
		"doc":       NodeSet{mustXML(t, signed)},
		"other":     k.rsaCert,
		"garbage":   "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
		"unrelated": pubPEM(t, k.rsa),
	}
	runIn(t, sc, []fnCase{
		{"verify-xmldsig($signed)", "true"},
		{"verify-xmldsig($signed, $cert)", "true"},
		{"verify-xmldsig($signed, $bareCert)", "true"},
		{"verify-xmldsig($signed, concat($other, $cert))", "true"}, // one of several
		{"verify-xmldsig($noID)", "true"},
		{"verify-xmldsig($signed, $other)", "false"},     // another signer
		{"verify-xmldsig($tampered)", "false"},           // content changed
		{"verify-xmldsig($tampered, $cert)", "false"},    //
		{"verify-xmldsig($forged)", "true"},              // FLAT: embedded certificate, integrity only
		{"verify-xmldsig($forged, $cert)", "false"},      // the expected signer rejects it
		{"verify-xmldsig($forged, $forgedCert)", "true"}, //
		{"verify-xmldsig('<a/>')", "false"},              // unsigned
		{"verify-xmldsig('<a>')", "false"},               // malformed
		{"verify-xmldsig('')", "false"},
		{"verify-xmldsig('text')", "false"},
	})
	if err := evalErr(t, "verify-xmldsig($doc)", sc); !errors.Is(err, ErrXMLDSigNodes) {
		t.Errorf("node-set: %v", err)
	}
	for _, src := range []string{"verify-xmldsig($signed, $garbage)", "verify-xmldsig($signed, $unrelated)", "verify-xmldsig($signed, '')"} {
		if err := evalErr(t, src, sc); !errors.Is(err, ErrKey) {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// FuzzVerifyXMLDSig checks that verify-xmldsig never panics or errors on
// any XML string, and never accepts a changed signed document under the
// original signer's certificate.
func FuzzVerifyXMLDSig(f *testing.F) {
	md, err := os.ReadFile(filepath.Join("..", "..", "docs", "functions.md"))
	if err != nil {
		f.Fatal(err)
	}
	var signed string
	if m := regexp.MustCompile(`verify-xmldsig\('([^']*)'\)`).FindSubmatch(md); m != nil {
		signed = string(m[1])
	}
	f.Add(signed)
	f.Add(`<a/>`)
	f.Add(`<a xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Signature><ds:SignedInfo/></ds:Signature></a>`)
	e := MustCompile("verify-xmldsig($x)")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := e.Eval(&Context{Scope: mapScope{"x": s}})
		if err != nil {
			t.Fatalf("error: %v", err)
		}
		if v == true && s != signed && strings.Contains(s, "<item>book</item>") && !strings.Contains(s, "<item>book</item><ds:Signature") {
			t.Fatalf("changed document verified: %q", s)
		}
	})
}
