package flowengine

import "strings"

// UpstreamFailure is what an Envoy local reply says about a forward.
type UpstreamFailure int

const (
	// NoUpstreamFailure: the response came from the upstream, or Envoy's
	// local reply is not about the upstream (or the host does not say).
	NoUpstreamFailure UpstreamFailure = iota
	// UpstreamUnavailable: Envoy could not get the request to an upstream
	// (connection failure or reset before the response, no healthy host,
	// no cluster, maintenance mode, overload).
	UpstreamUnavailable
	// UpstreamTimeout: the route or per-try timeout expired before the
	// upstream answered.
	UpstreamTimeout
)

// UpstreamFailure classifies a local reply (LocalReply) by its
// CodeDetails, Envoy's StreamInfo::ResponseCodeDetails values set by the
// router (router.cc): "upstream_reset_before_response_started{…}",
// "no_healthy_upstream", "cluster_not_found", "maintenance_mode",
// "route_not_found", "overload", "drop_overload", and the timeouts
// "response_timeout" ("upstream_response_timeout" in older Envoy),
// "upstream_per_try_timeout" and "upstream_per_try_idle_timeout".
func (r *Response) UpstreamFailure() UpstreamFailure {
	if !r.LocalReply() {
		return NoUpstreamFailure
	}
	d := r.CodeDetails
	if i := strings.IndexByte(d, '{'); i >= 0 {
		d = d[:i]
	}
	switch d {
	case "response_timeout", "upstream_response_timeout", "upstream_per_try_timeout", "upstream_per_try_idle_timeout":
		return UpstreamTimeout
	case "upstream_reset_before_response_started", "no_healthy_upstream", "cluster_not_found", "maintenance_mode",
		"route_not_found", "overload", "drop_overload", "unconditional_drop_overload", "upstream_max_stream_duration_reached":
		return UpstreamUnavailable
	}
	return NoUpstreamFailure
}
