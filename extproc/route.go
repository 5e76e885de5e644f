package extproc

import (
	"errors"
	"fmt"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/pathnorm"
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

// codePathNotNormal is the FLAT error code of a request whose :path is not
// in its normal form (docs/security.md, "Request paths").
const codePathNotNormal = 3212

// errCodePathNotNormal is the error label of such a request in metrics and
// flat_access.
const errCodePathNotNormal = "path_not_normalized"

// checkPath answers 400 (code 3212) when the request's :path is not in the
// normal form pathnorm defines, and reports whether it did. Envoy sends
// only normal paths when its HttpConnectionManager sets normalize_path,
// merge_slashes and path_with_escaped_slashes_action, as the shipped
// configs do. Without them "//t/hello", "/t/../t/hello" or "/t%2Fhello"
// would be routed as lying outside the base path "/t" while the upstream
// may read them as "/t/hello": no flow (and so no authentication) would run
// for it. flowproc never forwards such a path; it does not rewrite it
// either, because the upstream would still receive Envoy's spelling.
func (x *exchange) checkPath() (answered bool, err error) {
	if pathnorm.IsNormal(x.request.Path) {
		return false, nil
	}
	x.outcome, x.errorCode = outcomeAnswered, errCodePathNotNormal
	x.startUnroutedSpan()
	return true, x.answerError(400, "request path is not normalized", codePathNotNormal)
}
