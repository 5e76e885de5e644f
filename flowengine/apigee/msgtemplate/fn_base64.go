package msgtemplate

import (
	"encoding/base64"
	"errors"
	"strings"
)

// encodeBase64(s): standard base64 with padding of s's UTF-8 bytes.
// decodeBase64(s): the decoded bytes as text; padding is optional and
// URL-safe input is accepted [inferred: Apigee docs give no alphabet].
// Invalid input fails (MT101). Null is "".
func init() {
	register("encodeBase64", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
		return base64.StdEncoding.EncodeToString([]byte(a[0].str())), nil
	}})
	register("decodeBase64", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
		return decodeBase64(a[0].str())
	}})
}

func decodeBase64(s string) (string, error) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return "", errors.New("input is not base64")
	}
	return string(b), nil
}
