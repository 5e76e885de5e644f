package policies

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"

	"github.com/dop251/goja"
)

// crypto is the object model's crypto object: getMD5, getSHA1, getSHA256,
// getSHA512 and getHash(name) return hash objects with update(value),
// digest() (lower-case hex) and digest64() (base64).
func (jr *jsRun) crypto() *goja.Object {
	return jr.lazy(jr.cryptoMember, "getMD5", "getSHA1", "getSHA256", "getSHA512", "getHash")
}

func (jr *jsRun) cryptoMember(name string) goja.Value {
	mk := func(newHash func() hash.Hash) goja.Value {
		return jr.fn(func(goja.FunctionCall) goja.Value { return jr.hashObject(newHash()) })
	}
	switch name {
	case "getMD5":
		return mk(md5.New)
	case "getSHA1":
		return mk(sha1.New)
	case "getSHA256":
		return mk(sha256.New)
	case "getSHA512":
		return mk(sha512.New)
	}
	return jr.fn(func(c goja.FunctionCall) goja.Value {
		switch strings.ToUpper(strings.ReplaceAll(c.Argument(0).String(), "-", "")) {
		case "MD5":
			return jr.hashObject(md5.New())
		case "SHA1":
			return jr.hashObject(sha1.New())
		case "SHA256":
			return jr.hashObject(sha256.New())
		case "SHA512":
			return jr.hashObject(sha512.New())
		}
		jr.throw("crypto.getHash: unsupported algorithm %q", c.Argument(0).String())
		return nil
	})
}

func (jr *jsRun) hashObject(h hash.Hash) *goja.Object {
	o := jr.vm.NewObject()
	_ = o.Set("update", jr.fn(func(c goja.FunctionCall) goja.Value {
		h.Write([]byte(c.Argument(0).String()))
		return goja.Undefined()
	}))
	_ = o.Set("digest", jr.fn(func(goja.FunctionCall) goja.Value {
		return jr.vm.ToValue(hex.EncodeToString(h.Sum(nil)))
	}))
	_ = o.Set("digest64", jr.fn(func(goja.FunctionCall) goja.Value {
		return jr.vm.ToValue(base64.StdEncoding.EncodeToString(h.Sum(nil)))
	}))
	return o
}
