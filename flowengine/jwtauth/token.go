package jwtauth

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine"
)

// location is where a scheme expects its token.
type location struct {
	// cookie is the x-flat-cookiename; "" means Authorization: Bearer.
	cookie string
}

// token extracts the token from headers, or returns the info text of a
// missing token.
func (l location) token(headers []flowengine.Header) (string, string) {
	if l.cookie == "" {
		return bearer(headers)
	}
	return cookie(headers, l.cookie)
}

// bearer returns the token of the first Authorization header.
func bearer(headers []flowengine.Header) (string, string) {
	for _, h := range headers {
		if !strings.EqualFold(h.Name, "Authorization") {
			continue
		}
		v := strings.TrimSpace(h.Value)
		scheme, tok, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", "No Bearer token in Authorization header"
		}
		tok = strings.TrimSpace(tok)
		if tok == "" {
			return "", "No Bearer token in Authorization header"
		}
		return tok, ""
	}
	return "", "No Authorization header sent"
}

// cookie returns the value of the first cookie called name over all
// Cookie headers (HTTP/2 may split them).
func cookie(headers []flowengine.Header, name string) (string, string) {
	sent := false
	for _, h := range headers {
		if !strings.EqualFold(h.Name, "Cookie") {
			continue
		}
		sent = true
		rest := h.Value
		for rest != "" {
			var part string
			part, rest, _ = strings.Cut(rest, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || strings.TrimSpace(k) != name {
				continue
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if v == "" {
				return "", "Cookie " + name + " is empty"
			}
			return v, ""
		}
	}
	if !sent {
		return "", "No Cookie header sent"
	}
	return "", "No " + name + " cookie sent"
}
