package expr

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowproc/flowproc/flowengine/budget"
)

// apply-codecs(input, codec, …) applies the codecs in order: base64-encode,
// base64-decode (lenient, as base64-decode()), base64url-encode (URL-safe
// alphabet, no padding), base64url-decode (padding optional), url-encode,
// url-decode, deflate (raw DEFLATE, RFC 1951) and inflate. An unknown codec
// name is a compile error when literal, an evaluation error otherwise;
// input a codec cannot decode is an evaluation error. Decoders are bounded
// by the run's decoded-bytes budget (inflate streams and stops one byte
// past it), encoders by its output budget.
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

// codec transforms a string; decoders charge what they produce to b.
type codec func(b *budget.Budget, s string) (string, error)

var codecs = map[string]codec{
	"base64-encode": func(b *budget.Budget, s string) (string, error) {
		return encoded(b, base64.StdEncoding.EncodeToString([]byte(s)))
	},
	"base64-decode": func(b *budget.Budget, s string) (string, error) {
		return decoded(b, base64DecodeLenient(s))
	},
	"base64url-encode": func(b *budget.Budget, s string) (string, error) {
		return encoded(b, base64.RawURLEncoding.EncodeToString([]byte(s)))
	},
	"base64url-decode": func(b *budget.Budget, s string) (string, error) {
		out, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return "", fmt.Errorf("base64url-decode: %w", err)
		}
		return decoded(b, string(out))
	},
	"url-encode": func(b *budget.Budget, s string) (string, error) { return encoded(b, urlEncode(s)) },
	"url-decode": func(b *budget.Budget, s string) (string, error) { return decoded(b, urlDecode(s)) },
	"deflate": func(b *budget.Budget, s string) (string, error) {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
		if _, err := w.Write([]byte(s)); err != nil {
			return "", fmt.Errorf("deflate: %w", err)
		}
		if err := w.Close(); err != nil {
			return "", fmt.Errorf("deflate: %w", err)
		}
		return encoded(b, buf.String())
	},
	"inflate": func(b *budget.Budget, s string) (string, error) {
		out, err := readBounded(b, flate.NewReader(strings.NewReader(s)))
		if err != nil {
			return "", fmt.Errorf("inflate: %w", err)
		}
		return out, nil
	},
}

// encoded charges an encoder's result to the output budget.
func encoded(b *budget.Budget, s string) (string, error) {
	if err := b.Output(int64(len(s))); err != nil {
		return "", err
	}
	return s, nil
}

// decoded charges a decoder's result to the decoded budget.
func decoded(b *budget.Budget, s string) (string, error) {
	if err := b.Decoded(int64(len(s))); err != nil {
		return "", err
	}
	return s, nil
}

// readBounded streams a decompressor into a string, reading at most one
// byte more than the decoded budget allows, so a bomb is detected without
// ever being expanded in full.
func readBounded(b *budget.Budget, r io.Reader) (string, error) {
	if left := b.DecodedLeft(); left >= 0 {
		r = io.LimitReader(r, left+1)
	}
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if cerr := b.Decoded(int64(n)); cerr != nil {
				return "", cerr
			}
			sb.Write(buf[:n])
		}
		if errors.Is(err, io.EOF) {
			return sb.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
}

func applyCodecs(c *Context, args []Value) (Value, error) {
	s := String(args[0])
	for _, a := range args[1:] {
		name := String(a)
		f, ok := codecs[name]
		if !ok {
			return nil, fmt.Errorf("unknown codec %q", name)
		}
		var err error
		if s, err = f(c.Budget, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}
