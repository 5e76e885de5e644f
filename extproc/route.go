package extproc

import (
	"errors"
	"fmt"

	"github.com/flowproc/flowproc/flowengine"
)

// UpstreamSchemeHeader is the internal request header through which a flow's
// upstream choice reaches Envoy's router: when a forward mutation names an
// upstream (Mutation.Authority or Mutation.Scheme), flowproc sets it to
// "http" or "https" together with :authority and asks Envoy to clear its
// route cache. The shipped Envoy configs match routes on it (a dynamic
// forward proxy cluster per scheme) and strip it with
// request_headers_to_remove before the request goes upstream
// (docs/envoy-client.md, "Choosing the upstream").
//
// A downstream client cannot choose the upstream by sending the header
// itself: flowproc removes an incoming copy (and clears the route cache,
// since Envoy cached the route before ext_proc ran) whenever the flow did
// not choose an upstream.
const UpstreamSchemeHeader = "x-flowproc-upstream-scheme"

// ErrBadUpstreamScheme is returned by Forward for a Mutation.Scheme other
// than "http" or "https": the upstream choice cannot be honoured, so the
// request is not forwarded.
var ErrBadUpstreamScheme = errors.New(`upstream scheme must be "http" or "https"`)

// routeChange decides the routing part of a forward mutation: the value of
// UpstreamSchemeHeader to set ("" for none) and whether Envoy must
// re-evaluate its route. An upstream is chosen when f names an authority or
// a scheme; the scheme defaults to the downstream request's (else "http").
// A path-only change keeps the cached route: the shipped routes do not
// depend on the path.
func routeChange(f *flowengine.Mutation, reqScheme string, incoming bool) (scheme string, clear bool, err error) {
	if f.Authority == "" && f.Scheme == "" {
		return "", incoming, nil
	}
	scheme = f.Scheme
	if scheme == "" {
		scheme = reqScheme
	}
	switch scheme {
	case "":
		scheme = "http"
	case "http", "https":
	default:
		return "", false, fmt.Errorf("forward: scheme %q: %w", scheme, ErrBadUpstreamScheme)
	}
	return scheme, true, nil
}
