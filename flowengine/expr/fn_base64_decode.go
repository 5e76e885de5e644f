package expr

import (
	"encoding/base64"
	"strings"
)

// base64-decode(input [, strict]) decodes standard Base64. Without strict
// (the default) characters outside the alphabet are dropped and missing
// padding is tolerated; with strict true, any character outside the
// alphabet, misplaced padding or a truncated quantum gives false(). The
// decoded bytes are charged to the run's decoded budget.
func init() {
	Register(&Func{Name: "base64-decode", MinArgs: 1, MaxArgs: 2, Call: base64Decode})
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

func base64Decode(c *Context, args []Value) (Value, error) {
	v := base64DecodeValue(String(args[0]), argBool(args, 1, false))
	if s, ok := v.(string); ok {
		if err := c.Budget.Decoded(int64(len(s))); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// base64DecodeLenient decodes as base64-decode(s) without strict.
func base64DecodeLenient(s string) string {
	v, _ := base64DecodeValue(s, false).(string)
	return v
}

// base64DecodeValue is base64-decode: the decoded string, or false for a
// strict decoding that fails.
func base64DecodeValue(s string, strict bool) Value {
	var b strings.Builder
	b.Grow(len(s))
	pad := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isBase64Char(c):
			if strict && pad > 0 {
				return false
			}
			b.WriteByte(c)
		case c == '=':
			pad++
		default:
			if strict {
				return false
			}
		}
	}
	data := b.String()
	if len(data)%4 == 1 {
		if strict {
			return false
		}
		data = data[:len(data)-1]
	}
	if strict && pad > 0 && (len(data)+pad)%4 != 0 {
		return false
	}
	if strict && pad > 2 {
		return false
	}
	out, err := base64.RawStdEncoding.DecodeString(data)
	if err != nil { // unreachable after the length fix-up; be safe
		if strict {
			return false
		}
		return ""
	}
	return string(out)
}
