package msgtemplate

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
)

// md5Hex, md5Base64, sha1Hex, sha1Base64, sha256Hex, sha256Base64,
// sha384Hex, sha384Base64, sha512Hex, sha512Base64 (s): the digest of s's
// UTF-8 bytes as lowercase hex or padded standard base64. Null hashes "".
func init() {
	for name, h := range map[string]func() hash.Hash{
		"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
	} {
		register(name+"Hex", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
			d := h()
			d.Write([]byte(a[0].str()))
			return hex.EncodeToString(d.Sum(nil)), nil
		}})
		register(name+"Base64", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
			d := h()
			d.Write([]byte(a[0].str()))
			return base64.StdEncoding.EncodeToString(d.Sum(nil)), nil
		}})
	}
}
