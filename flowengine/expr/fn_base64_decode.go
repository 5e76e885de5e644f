package expr

import (
	"encoding/base64"
	"strings"
)

// base64-decode(input [, strict]) decodes standard Base64. Without strict
// (the default) characters outside the alphabet are dropped and missing
// padding is tolerated; with strict true, any character outside the
// alphabet, misplaced padding or a truncated quantum gives false().
func init() {
	Register(&Func{Name: "base64-decode", MinArgs: 1, MaxArgs: 2, Call: base64Decode})
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

func base64Decode(_ *Context, args []Value) (Value, error) {
	s := String(args[0])
	strict := argBool(args, 1, false)
	var b strings.Builder
	b.Grow(len(s))
	pad := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isBase64Char(c):
			if strict && pad > 0 {
				return false, nil
			}
			b.WriteByte(c)
		case c == '=':
			pad++
		default:
			if strict {
				return false, nil
			}
		}
	}
	data := b.String()
	if len(data)%4 == 1 {
		if strict {
			return false, nil
		}
		data = data[:len(data)-1]
	}
	if strict && pad > 0 && (len(data)+pad)%4 != 0 {
		return false, nil
	}
	if strict && pad > 2 {
		return false, nil
	}
	out, err := base64.RawStdEncoding.DecodeString(data)
	if err != nil { // unreachable after the length fix-up; be safe
		if strict {
			return false, nil
		}
		return "", nil
	}
	return string(out), nil
}
