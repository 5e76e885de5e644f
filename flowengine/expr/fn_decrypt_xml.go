package expr

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// decrypt-xml(encrypted_data, private_key [, passphrase]) decrypts an
// XML Encryption (XML-Enc 1.0/1.1) EncryptedData element in place and
// returns true: the element is replaced by what it encrypted (an element
// for Type #Element, the nodes of the content for Type #Content), so later
// expressions on the same document see the plain XML. encrypted_data is
// the EncryptedData element itself or a node (document) that contains one.
// The content key comes from an EncryptedKey in its KeyInfo, decrypted
// with the RSA private key (PEM; passphrase for an encrypted key) by
// rsa-oaep-mgf1p, xmlenc11#rsa-oaep (SHA-1/SHA-256/SHA-512 digests) or
// rsa-1_5; the content is AES-128/192/256-CBC, AES-GCM or 3DES-CBC. Data
// that does not decrypt (wrong key, tampered, unknown algorithm) gives
// false() and leaves the document unchanged; an unusable private key is an
// evaluation error wrapping ErrKey. The decrypted XML is parsed with the
// same bounds as any other XML (namespace prefixes dropped, as everywhere
// in flowproc's DOM).
func init() {
	Register(&Func{Name: "decrypt-xml", MinArgs: 2, MaxArgs: 3, Call: decryptXML})
}

func decryptXML(c *Context, args []Value) (Value, error) {
	ns, ok := args[0].(NodeSet)
	if !ok || len(ns) == 0 {
		return false, nil
	}
	key, err := privateKeyCached(String(args[1]), argString(args, 2))
	if err != nil {
		return nil, fmt.Errorf("decrypt-xml: %w", err)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("decrypt-xml: %w: not an RSA key", ErrKey)
	}
	ed := findElement(ns[0], "EncryptedData")
	if ed == nil {
		return false, nil
	}
	plain, err := decryptEncryptedData(ed, priv)
	if err != nil {
		warn(c, "decrypt-xml", err.Error())
		return false, nil
	}
	if c != nil && c.Budget != nil {
		if err := c.Budget.Decoded(int64(len(plain))); err != nil {
			return nil, err
		}
	}
	content := strings.HasSuffix(attr(ed, "Type"), "#Content")
	// Parse the plain text as XML; content may hold several nodes, so it is
	// parsed inside a wrapper element.
	doc, err := dom.ParseXML([]byte("<x>"+string(plain)+"</x>"), 0)
	if err != nil {
		warn(c, "decrypt-xml", "the decrypted data is not XML")
		return false, nil
	}
	nodes := children(doc.FirstElement())
	if !content && (len(nodes) != 1 || nodes[0].Type != dom.ElementNode) {
		warn(c, "decrypt-xml", "the decrypted data is not one element")
		return false, nil
	}
	replaceNode(ed, nodes)
	return true, nil
}

// decryptEncryptedData returns the plain octets of an EncryptedData
// element.
func decryptEncryptedData(ed *dom.Node, priv *rsa.PrivateKey) ([]byte, error) {
	alg := attr(child(ed, "EncryptionMethod"), "Algorithm")
	ek := findElement(child(ed, "KeyInfo"), "EncryptedKey")
	if ek == nil {
		return nil, errors.New("no EncryptedKey in KeyInfo")
	}
	wrapped, err := cipherValue(ek)
	if err != nil {
		return nil, err
	}
	cek, err := unwrapKey(child(ek, "EncryptionMethod"), wrapped, priv)
	if err != nil {
		return nil, err
	}
	data, err := cipherValue(ed)
	if err != nil {
		return nil, err
	}
	return decryptContent(alg, cek, data)
}

// unwrapKey decrypts the content key with the key transport algorithm.
func unwrapKey(method *dom.Node, wrapped []byte, priv *rsa.PrivateKey) ([]byte, error) {
	alg := attr(method, "Algorithm")
	switch {
	case strings.HasSuffix(alg, "#rsa-1_5"):
		return rsa.DecryptPKCS1v15(nil, priv, wrapped)
	case strings.HasSuffix(alg, "#rsa-oaep-mgf1p"), strings.HasSuffix(alg, "xmlenc11#rsa-oaep"):
		var h hash.Hash = sha1.New()
		switch d := attr(child(method, "DigestMethod"), "Algorithm"); {
		case d == "" || strings.HasSuffix(d, "#sha1"):
		case strings.HasSuffix(d, "#sha256"):
			h = sha256.New()
		case strings.HasSuffix(d, "#sha512"):
			h = sha512.New()
		default:
			return nil, fmt.Errorf("unsupported OAEP digest %q", d)
		}
		return rsa.DecryptOAEP(h, nil, priv, wrapped, nil)
	}
	return nil, fmt.Errorf("unsupported key transport %q", alg)
}

// decryptContent decrypts the content octets: IV first, as XML-Enc
// writes them.
func decryptContent(alg string, key, data []byte) ([]byte, error) {
	frag := alg[strings.LastIndexByte(alg, '#')+1:]
	switch frag {
	case "aes128-cbc", "aes192-cbc", "aes256-cbc", "tripledes-cbc":
		var block cipher.Block
		var err error
		if frag == "tripledes-cbc" {
			block, err = des.NewTripleDESCipher(key)
		} else {
			block, err = aes.NewCipher(key)
		}
		if err != nil {
			return nil, err
		}
		bs := block.BlockSize()
		if len(data) < 2*bs || len(data)%bs != 0 {
			return nil, errors.New("cipher text is not whole blocks")
		}
		out := make([]byte, len(data)-bs)
		cipher.NewCBCDecrypter(block, data[:bs]).CryptBlocks(out, data[bs:])
		// ISO 10126 padding: the last octet is the padding length.
		pad := int(out[len(out)-1])
		if pad == 0 || pad > bs {
			return nil, errors.New("bad padding")
		}
		return out[:len(out)-pad], nil
	case "aes128-gcm", "aes192-gcm", "aes256-gcm":
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if len(data) < gcm.NonceSize()+gcm.Overhead() {
			return nil, errors.New("cipher text too short")
		}
		return gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], nil)
	}
	return nil, fmt.Errorf("unsupported content encryption %q", alg)
}

func cipherValue(n *dom.Node) ([]byte, error) {
	cv := child(child(n, "CipherData"), "CipherValue")
	if cv == nil {
		return nil, errors.New("no CipherData/CipherValue")
	}
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(cv.StringValue()), ""))
}

// findElement returns n or the first element below it with local name
// name (document order).
func findElement(n *dom.Node, name string) *dom.Node {
	if n == nil {
		return nil
	}
	if n.Type == dom.ElementNode && n.Name == name {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findElement(c, name); f != nil {
			return f
		}
	}
	return nil
}

func child(n *dom.Node, name string) *dom.Node {
	if n == nil {
		return nil
	}
	return n.Child(name)
}

func attr(n *dom.Node, name string) string {
	if n == nil {
		return ""
	}
	v, _ := n.Attr(name)
	return v
}

func children(n *dom.Node) []*dom.Node {
	var out []*dom.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, c)
	}
	return out
}

// replaceNode puts nodes where old is. An old node without a parent (a
// variable's root element) takes over the single element's name,
// attributes and children instead.
func replaceNode(old *dom.Node, nodes []*dom.Node) {
	for _, n := range nodes {
		n.Detach()
	}
	parent := old.Parent
	if parent == nil {
		if len(nodes) == 1 && nodes[0].Type == dom.ElementNode {
			el := nodes[0]
			old.Name, old.Attrs = el.Name, el.Attrs
			old.FirstChild, old.LastChild = nil, nil
			for _, c := range children(el) {
				c.Detach()
				old.AppendChild(c)
			}
		}
		return
	}
	// Rebuild the parent's children with nodes in old's place.
	var kids []*dom.Node
	for c := parent.FirstChild; c != nil; c = c.NextSibling {
		if c == old {
			kids = append(kids, nodes...)
			continue
		}
		kids = append(kids, c)
	}
	parent.FirstChild, parent.LastChild = nil, nil
	for _, k := range kids {
		k.Parent, k.PrevSibling, k.NextSibling = nil, nil, nil
		parent.AppendChild(k)
	}
	old.Parent, old.PrevSibling, old.NextSibling = nil, nil, nil
}
