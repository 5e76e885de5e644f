package flowengine

import "testing"

func TestResponseUpstreamFailure(t *testing.T) {
	tests := []struct {
		details string
		want    UpstreamFailure
	}{
		{"", NoUpstreamFailure},
		{"via_upstream", NoUpstreamFailure},
		{"upstream_reset_before_response_started{connection_failure}", UpstreamUnavailable},
		{"upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}", UpstreamUnavailable},
		{"no_healthy_upstream", UpstreamUnavailable},
		{"cluster_not_found", UpstreamUnavailable},
		{"route_not_found", UpstreamUnavailable},
		{"response_timeout", UpstreamTimeout},
		{"upstream_response_timeout", UpstreamTimeout},
		{"upstream_per_try_timeout", UpstreamTimeout},
		{"request_payload_too_large", NoUpstreamFailure},
		{"ext_proc_error_gRPC_error_14{x}", NoUpstreamFailure},
		{"upstream_reset_after_response_started{remote_reset}", NoUpstreamFailure},
	}
	for _, tt := range tests {
		r := &Response{Status: 503, CodeDetails: tt.details}
		if got := r.UpstreamFailure(); got != tt.want {
			t.Errorf("%q: got %d, want %d", tt.details, got, tt.want)
		}
	}
}
