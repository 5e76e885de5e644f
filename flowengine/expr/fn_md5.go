package expr

import (
	"crypto/md5"
	"encoding/hex"
)

// md5(s) returns the MD5 digest of s as 32 lower-case hex characters.
func init() {
	Register(stringFunc("md5", func(s string) string {
		sum := md5.Sum([]byte(s))
		return hex.EncodeToString(sum[:])
	}))
}
