// Package pathnorm computes the normal form of a request path that routing
// decisions use: the path Envoy sends to ext_proc when its
// HttpConnectionManager sets normalize_path, merge_slashes and
// path_with_escaped_slashes_action (UNESCAPE_AND_REDIRECT or
// REJECT_REQUEST).
//
// The normal form of the path part of a :path (before any '?'):
//
//   - a backslash is a slash (Envoy's RFC 3986 normalization treats it as
//     one);
//   - a percent-escape of an unreserved character (ALPHA, DIGIT, "-", ".",
//     "_", "~"; RFC 3986 §2.3, §6.2.2.2) is decoded, so "%74" is "t" and
//     "%2E" is ".";
//   - an escaped slash ("%2F", "%5C", either hex case) is a slash, as
//     Envoy's escaped-slash action decodes it;
//   - dot segments ("." and "..") are removed (RFC 3986 §5.2.4), never
//     above the root;
//   - runs of slashes are merged into one (merge_slashes);
//   - these steps repeat while they change the path, since decoding can
//     form a new escape ("%%37%30" decodes to "%70").
//
// Other escapes keep their spelling, and letters keep their case: paths are
// case-sensitive (RFC 3986 §6.2.2.1), as in Envoy and the FLAT router. The
// query is not changed. A path that does not start with "/" ("*" for
// OPTIONS) is its own normal form.
package pathnorm

import "strings"

// Normalize returns the normal form of path (a :path value; the query
// after '?' is kept as it is).
func Normalize(path string) string {
	p, query, hasQuery := strings.Cut(path, "?")
	if p == "" || (p[0] != '/' && p[0] != '\\') {
		return path
	}
	// Decoding can form a new escape ("%%37" gives "%7"…): repeat until
	// nothing changes, so the normal form is its own normal form. Each
	// round that changes p shortens it, so this ends.
	n := removeDots(decode(p))
	for {
		next := removeDots(decode(n))
		if next == n {
			break
		}
		n = next
	}
	if hasQuery {
		return n + "?" + query
	}
	return n
}

// IsNormal reports whether path is in its normal form: Normalize would not
// change it. It does not allocate for a normal path without '%' or '\\'.
func IsNormal(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	if p == "" || p[0] != '/' {
		return p == "" || p[0] != '\\'
	}
	// Fast path: without escapes the normal form differs only by empty or
	// dot segments. (One pass over the bytes: strings.ContainsAny builds a
	// set per call, which cost more than this whole check on short paths.)
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '%' || c == '\\' {
			return Normalize(path) == path
		} else if c != '/' {
			continue
		}
		rest := p[i+1:]
		switch {
		case strings.HasPrefix(rest, "/"),
			rest == "." || strings.HasPrefix(rest, "./"),
			rest == ".." || strings.HasPrefix(rest, "../"):
			return false
		}
	}
	return true
}

// decode turns backslashes and escaped slashes into "/" and decodes
// escaped unreserved characters; other escapes are kept verbatim.
func decode(p string) string {
	if !strings.ContainsAny(p, "%\\") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			b.WriteByte('/')
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			d := unhex(p[i+1])<<4 | unhex(p[i+2])
			switch {
			case d == '/' || d == '\\':
				b.WriteByte('/')
			case unreserved(d):
				b.WriteByte(d)
			default:
				b.WriteString(p[i : i+3])
			}
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// removeDots removes dot segments and empty segments from p, which starts
// with "/". A trailing "/", "/." or "/.." leaves a trailing slash.
func removeDots(p string) string {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case ".", "":
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// unreserved reports whether c is an RFC 3986 unreserved character.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
