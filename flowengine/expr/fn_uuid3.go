package expr

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
)

// uuid3(namespace, name) returns the name-based (MD5, version 3, RFC 4122)
// UUID of name in the namespace given as a UUID string (with or without
// dashes and braces). An invalid namespace gives "".
func init() {
	Register(&Func{Name: "uuid3", MinArgs: 2, MaxArgs: 2, Call: func(_ *Context, args []Value) (Value, error) {
		ns, ok := parseUUID(String(args[0]))
		if !ok {
			return "", nil
		}
		h := md5.New()
		h.Write(ns[:])
		h.Write([]byte(String(args[1])))
		var u [16]byte
		copy(u[:], h.Sum(nil))
		u[6] = u[6]&0x0f | 0x30
		u[8] = u[8]&0x3f | 0x80
		return formatUUID(u), nil
	}})
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	s = strings.Trim(s, "{}")
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 32 {
		return u, false
	}
	if _, err := hex.Decode(u[:], []byte(s)); err != nil {
		return u, false
	}
	return u, true
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
