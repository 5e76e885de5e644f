package expr

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// apply-codecs(input, codec, …) applies the codecs in order: base64-encode,
// base64-decode (lenient, as base64-decode()), base64url-encode (URL-safe
// alphabet, no padding), base64url-decode (padding optional), url-encode,
// url-decode, deflate (raw DEFLATE, RFC 1951) and inflate. An unknown codec
// name is a compile error when literal, an evaluation error otherwise;
// input a codec cannot decode is an evaluation error.
func init() {
	Register(&Func{Name: "apply-codecs", MinArgs: 2, MaxArgs: -1, Call: applyCodecs, Bind: func(consts []Value) (CallFunc, error) {
		for _, k := range consts[1:] {
			if k == nil {
				continue
			}
			if _, ok := codecs[String(k)]; !ok {
				return nil, fmt.Errorf("unknown codec %q", String(k))
			}
		}
		return nil, nil
	}})
}

var codecs = map[string]func(string) (string, error){
	"base64-encode": func(s string) (string, error) { return base64.StdEncoding.EncodeToString([]byte(s)), nil },
	"base64-decode": func(s string) (string, error) {
		v, _ := base64Decode(nil, []Value{s})
		return String(v), nil
	},
	"base64url-encode": func(s string) (string, error) { return base64.RawURLEncoding.EncodeToString([]byte(s)), nil },
	"base64url-decode": func(s string) (string, error) {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return "", fmt.Errorf("base64url-decode: %w", err)
		}
		return string(b), nil
	},
	"url-encode": func(s string) (string, error) { return urlEncode(s), nil },
	"url-decode": func(s string) (string, error) { return urlDecode(s), nil },
	"deflate": func(s string) (string, error) {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.DefaultCompression)
		if _, err := w.Write([]byte(s)); err != nil {
			return "", fmt.Errorf("deflate: %w", err)
		}
		if err := w.Close(); err != nil {
			return "", fmt.Errorf("deflate: %w", err)
		}
		return b.String(), nil
	},
	"inflate": func(s string) (string, error) {
		// Bounded: at most 64 MiB of output.
		b, err := io.ReadAll(io.LimitReader(flate.NewReader(strings.NewReader(s)), 64<<20))
		if err != nil {
			return "", fmt.Errorf("inflate: %w", err)
		}
		return string(b), nil
	},
}

func applyCodecs(_ *Context, args []Value) (Value, error) {
	s := String(args[0])
	for _, a := range args[1:] {
		name := String(a)
		f, ok := codecs[name]
		if !ok {
			return nil, fmt.Errorf("unknown codec %q", name)
		}
		var err error
		if s, err = f(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}
