package expr

import "encoding/base64"

// base64-encode(input) returns the standard Base64 encoding (with padding)
// of input's string value.
func init() {
	Register(stringFunc("base64-encode", func(s string) string {
		return base64.StdEncoding.EncodeToString([]byte(s))
	}))
}
