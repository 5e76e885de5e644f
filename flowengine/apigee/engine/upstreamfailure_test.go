package engine

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

func TestUpstreamFailure(t *testing.T) {
	tests := []struct {
		details    string
		wantName   string
		wantStatus int
	}{
		{"", "", 0},
		{"via_upstream", "", 0},
		{"upstream_reset_before_response_started{connection_failure}", "ServiceUnavailable", 503},
		{"no_healthy_upstream", "ServiceUnavailable", 503},
		{"response_timeout", "GatewayTimeout", 504},
		{"upstream_response_timeout", "GatewayTimeout", 504},
		{"upstream_per_try_timeout", "GatewayTimeout", 504},
		{"request_payload_too_large", "", 0},
	}
	for _, tt := range tests {
		f := upstreamFailure(&flowengine.Response{Status: 503, CodeDetails: tt.details})
		switch {
		case tt.wantName == "" && f != nil:
			t.Errorf("%q: fault %+v, want none", tt.details, f)
		case tt.wantName != "" && (f == nil || f.Name != tt.wantName || f.Status != tt.wantStatus):
			t.Errorf("%q: fault %+v, want %s %d", tt.details, f, tt.wantName, tt.wantStatus)
		}
	}
}
