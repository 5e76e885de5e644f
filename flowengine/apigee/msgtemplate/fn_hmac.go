package msgtemplate

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
)

// hmacMd5, hmacSha1, hmacSha224, hmacSha256, hmacSha384, hmacSha512
// (key, value [, keyencoding [, outputencoding]]) per the Apigee
// message-template reference [doc, from memory; Apigee docs: message templates lists the
// signature]: keyencoding utf8 (default; also utf-8), hex (= base16) or
// base64 says how to decode key; outputencoding base64 (default), hex
// (= base16) or base64url encodes the MAC. Encoding names are
// case-insensitive; unknown ones fail at load when literal.
func init() {
	for name, h := range map[string]func() hash.Hash{
		"hmacMd5": md5.New, "hmacSha1": sha1.New, "hmacSha224": sha256.New224,
		"hmacSha256": sha256.New, "hmacSha384": sha512.New384, "hmacSha512": sha512.New,
	} {
		register(name, &function{min: 2, max: 4, prepare: prepareHMAC, call: func(_ any, a []value) (string, error) {
			keyEnc, outEnc := "utf8", "base64"
			if len(a) > 2 && !a[2].null {
				keyEnc = a[2].s
			}
			if len(a) > 3 && !a[3].null {
				outEnc = a[3].s
			}
			key, err := decodeKey(a[0].str(), keyEnc)
			if err != nil {
				return "", err
			}
			m := hmac.New(h, key)
			m.Write([]byte(a[1].str()))
			return encodeMAC(m.Sum(nil), outEnc)
		}})
	}
}

func prepareHMAC(args []arg) (any, error) {
	if len(args) > 2 && !args[2].isVar && !args[2].null {
		if _, err := decodeKey("", args[2].lit); err != nil {
			return nil, err
		}
	}
	if len(args) > 3 && !args[3].isVar && !args[3].null {
		if _, err := encodeMAC(nil, args[3].lit); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func decodeKey(key, enc string) ([]byte, error) {
	switch strings.ToLower(enc) {
	case "utf8", "utf-8":
		return []byte(key), nil
	case "hex", "base16":
		b, err := hex.DecodeString(key)
		if err != nil {
			return nil, errors.New("key is not hex")
		}
		return b, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(key)
		if err != nil {
			return nil, errors.New("key is not base64")
		}
		return b, nil
	}
	return nil, errors.New("unknown key encoding " + enc + " (utf8, hex, base16 or base64)")
}

func encodeMAC(mac []byte, enc string) (string, error) {
	switch strings.ToLower(enc) {
	case "base64":
		return base64.StdEncoding.EncodeToString(mac), nil
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(mac), nil
	case "hex", "base16":
		return hex.EncodeToString(mac), nil
	}
	return "", errors.New("unknown output encoding " + enc + " (base64, base64url, hex or base16)")
}
