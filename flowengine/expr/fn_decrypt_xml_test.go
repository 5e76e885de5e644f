package expr

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// encryptXML builds an XML-Enc EncryptedData element for plain (as a
// sender would), with the content algorithm alg and key transport kt.
func encryptXML(t *testing.T, pub *rsa.PublicKey, plain, typ, alg, kt, digest string) string {
	t.Helper()
	var key, data []byte
	switch alg {
	case "aes128-cbc", "aes256-cbc", "tripledes-cbc":
		size := map[string]int{"aes128-cbc": 16, "aes256-cbc": 32, "tripledes-cbc": 24}[alg]
		key = make([]byte, size)
		_, _ = rand.Read(key)
		var block cipher.Block
		if alg == "tripledes-cbc" {
			block, _ = des.NewTripleDESCipher(key)
		} else {
			block, _ = aes.NewCipher(key)
		}
		bs := block.BlockSize()
		pad := bs - len(plain)%bs
		padded := append([]byte(plain), make([]byte, pad)...)
		padded[len(padded)-1] = byte(pad)
		iv := make([]byte, bs)
		_, _ = rand.Read(iv)
		out := make([]byte, len(padded))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, padded)
		data = append(iv, out...)
	case "aes128-gcm":
		key = make([]byte, 16)
		_, _ = rand.Read(key)
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		nonce := make([]byte, gcm.NonceSize())
		_, _ = rand.Read(nonce)
		data = gcm.Seal(nonce, nonce, []byte(plain), nil)
	}
	var wrapped []byte
	var err error
	switch kt {
	case "rsa-1_5":
		wrapped, err = rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	case "rsa-oaep-mgf1p":
		wrapped, err = rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, key, nil)
	case "rsa-oaep":
		wrapped, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, key, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	ns := "http://www.w3.org/2001/04/xmlenc#"
	if alg == "aes128-gcm" || kt == "rsa-oaep" {
		ns = "http://www.w3.org/2009/xmlenc11#"
	}
	digestEl := ""
	if digest != "" {
		digestEl = `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#` + digest + `"/>`
	}
	ktNS := "http://www.w3.org/2001/04/xmlenc#"
	if kt == "rsa-oaep" {
		ktNS = "http://www.w3.org/2009/xmlenc11#"
	}
	return fmt.Sprintf(`<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Type="http://www.w3.org/2001/04/xmlenc#%s">`+
		`<xenc:EncryptionMethod Algorithm="%s%s"/>`+
		`<ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="%s%s">%s</xenc:EncryptionMethod>`+
		`<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>`+
		`<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>`,
		typ, ns, alg, ktNS, kt, digestEl, base64.StdEncoding.EncodeToString(wrapped), base64.StdEncoding.EncodeToString(data))
}

func testRSAKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	b, err := os.ReadFile("testdata/crypto/rsa.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey), string(b)
}

func TestFnDecryptXML(t *testing.T) {
	priv, pemKey := testRSAKey(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}))
	for _, tc := range []struct {
		name, typ, alg, kt, digest string
		key                        string
		plain                      string
		want                       string // result, then the document's text after
		check                      string // an XPath on $doc after the call
		checkWant                  string
	}{
		{name: "element aes256-cbc oaep", typ: "Element", alg: "aes256-cbc", kt: "rsa-oaep-mgf1p", key: pemKey,
			plain: `<card type="visa"><number>4111</number></card>`, want: "true", check: "string($doc/order/card/number)", checkWant: `"4111"`},
		{name: "element aes128-gcm oaep sha256", typ: "Element", alg: "aes128-gcm", kt: "rsa-oaep", digest: "sha256", key: pemKey,
			plain: `<card><number>5500</number></card>`, want: "true", check: "string($doc/order/card/number)", checkWant: `"5500"`},
		{name: "content 3des rsa-1_5", typ: "Content", alg: "tripledes-cbc", kt: "rsa-1_5", key: pemKey,
			plain: `<a>1</a><b>2</b>`, want: "true", check: "concat($doc/order/a, $doc/order/b)", checkWant: `"12"`},
		{name: "aes128-cbc", typ: "Element", alg: "aes128-cbc", kt: "rsa-oaep-mgf1p", key: pemKey,
			plain: `<x>ok</x>`, want: "true", check: "string($doc/order/x)", checkWant: `"ok"`},
		{name: "the wrong key leaves the document", typ: "Element", alg: "aes256-cbc", kt: "rsa-oaep-mgf1p", key: otherPEM,
			plain: `<x>ok</x>`, want: "false", check: "count($doc/order/EncryptedData)", checkWant: "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := encryptXML(t, &priv.PublicKey, tc.plain, tc.typ, tc.alg, tc.kt, tc.digest)
			doc, err := dom.ParseXML([]byte("<order><id>7</id>"+enc+"</order>"), 0)
			if err != nil {
				t.Fatal(err)
			}
			sc := mapScope{"doc": NodeSet{doc}, "key": tc.key}
			if got := show(evalIn(t, "decrypt-xml($doc, $key)", sc)); got != tc.want {
				t.Fatalf("decrypt-xml = %s, want %s", got, tc.want)
			}
			if got := show(evalIn(t, tc.check, sc)); got != tc.checkWant {
				t.Errorf("%s = %s, want %s", tc.check, got, tc.checkWant)
			}
			if got := show(evalIn(t, "string($doc/order/id)", sc)); got != `"7"` {
				t.Errorf("the rest of the document changed: id = %s", got)
			}
		})
	}
	t.Run("a tampered cipher value is false", func(t *testing.T) {
		enc := encryptXML(t, &priv.PublicKey, "<x>1</x>", "Element", "aes128-gcm", "rsa-oaep-mgf1p", "")
		doc, _ := dom.ParseXML([]byte(enc), 0)
		cv := findElement(doc, "EncryptedData").Child("CipherData").Child("CipherValue")
		cv.FirstChild.Data = "AAAA" + cv.FirstChild.Data[4:]
		sc := mapScope{"doc": NodeSet{doc}, "key": pemKey}
		if got := show(evalIn(t, "decrypt-xml($doc, $key)", sc)); got != "false" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("a root element held alone is replaced in place", func(t *testing.T) {
		enc := encryptXML(t, &priv.PublicKey, `<secret>s</secret>`, "Element", "aes256-cbc", "rsa-oaep-mgf1p", "")
		doc, _ := dom.ParseXML([]byte(enc), 0)
		root := doc.FirstElement()
		root.Detach()
		sc := mapScope{"el": NodeSet{root}, "key": pemKey}
		if got := show(evalIn(t, "decrypt-xml($el, $key)", sc)); got != "true" {
			t.Fatalf("got %s", got)
		}
		if got := show(evalIn(t, "name($el)", sc)); got != `"secret"` {
			t.Errorf("name = %s", got)
		}
	})
	t.Run("no EncryptedData is false", func(t *testing.T) {
		doc, _ := dom.ParseXML([]byte("<a/>"), 0)
		if got := show(evalIn(t, "decrypt-xml($doc, $key)", mapScope{"doc": NodeSet{doc}, "key": pemKey})); got != "false" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("an unusable key is an error", func(t *testing.T) {
		doc, _ := dom.ParseXML([]byte("<a/>"), 0)
		if err := evalErr(t, "decrypt-xml($doc, 'garbage')", mapScope{"doc": NodeSet{doc}}); !errors.Is(err, ErrKey) {
			t.Errorf("error %v, want ErrKey", err)
		}
	})
}
