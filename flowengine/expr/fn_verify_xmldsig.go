package expr

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// verify-xmldsig(xml [, certificates]) verifies the enveloped XML
// signature (XMLDSig, http://www.w3.org/2000/09/xmldsig#) of the root
// element of the XML string xml, with github.com/russellhaering/goxmldsig:
// the Reference must cover the root element (URI "" or its ID), digests
// and the RSA or ECDSA signature must match and the certificate must be
// within its validity period.
//
// certificates, when given, are the trusted signer certificates (PEM, one
// or several CERTIFICATE blocks, or one Base64 DER certificate): the
// signature's KeyInfo certificate must be one of them. Without it, the
// certificate in the signature's own KeyInfo is used, as FLAT does; that
// proves integrity only, not who signed, so pass the expected certificate
// whenever the signer matters.
//
// It returns false for XML that does not parse, lacks a signature or does
// not verify. A node-set argument is an evaluation error: parsed documents
// do not keep the namespace declarations and prefixes canonicalization
// needs, so pass the signed XML as a string. Unusable certificates are an
// evaluation error wrapping ErrKey.
func init() {
	Register(&Func{Name: "verify-xmldsig", MinArgs: 1, MaxArgs: 2, Call: verifyXMLDSig})
}

// ErrXMLDSigNodes is the error of verify-xmldsig given a node-set.
var ErrXMLDSigNodes = errors.New("verify-xmldsig needs the signed XML as a string: parsed documents lose the namespace prefixes the signature covers")

func verifyXMLDSig(c *Context, args []Value) (Value, error) {
	if _, ok := args[0].(NodeSet); ok {
		return nil, ErrXMLDSigNodes
	}
	text := String(args[0])
	if err := c.Budget.Decoded(int64(len(text))); err != nil {
		return nil, err
	}
	var trusted []*x509.Certificate
	if len(args) > 1 {
		var err error
		if trusted, err = parseCertificates(String(args[1])); err != nil {
			return nil, fmt.Errorf("verify-xmldsig: %w", err)
		}
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(text); err != nil {
		return false, nil
	}
	root := doc.Root()
	if root == nil {
		return false, nil
	}
	if trusted == nil {
		cert := embeddedCertificate(root)
		if cert == nil {
			return false, nil
		}
		trusted = []*x509.Certificate{cert}
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: trusted})
	if _, err := vc.Validate(root); err != nil {
		return false, nil
	}
	return true, nil
}

// embeddedCertificate returns the certificate of the root's enveloped
// Signature/KeyInfo/X509Data, or nil.
func embeddedCertificate(root *etree.Element) *x509.Certificate {
	for _, sig := range root.ChildElements() {
		if sig.Tag != "Signature" || sig.NamespaceURI() != dsig.Namespace {
			continue
		}
		el := sig.FindElement("./KeyInfo/X509Data/X509Certificate")
		if el == nil {
			return nil
		}
		certs, err := parseCertificates(el.Text())
		if err != nil || len(certs) != 1 {
			return nil
		}
		return certs[0]
	}
	return nil
}

// parseCertificates returns the X.509 certificates of s: PEM CERTIFICATE
// blocks, or one Base64 DER certificate without boundaries.
func parseCertificates(s string) ([]*x509.Certificate, error) {
	blocks, err := pemBlocks(s)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" && b.Type != "" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: bad certificate", ErrKey)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate", ErrKey)
	}
	return certs, nil
}
