package envoy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/envoy"
)

// TestValidateDynamicForwardProxyWiring: routes to a dynamic forward proxy
// cluster need the DFP HTTP filter, after ext_proc (else Envoy resolves the
// host before flowproc chose it).
func TestValidateDynamicForwardProxyWiring(t *testing.T) {
	shipped := string(envoy.DefaultConfigYAML)
	start := strings.Index(shipped, "          # Resolves the host of requests routed to the origin_*")
	end := strings.Index(shipped, "          # The router must be the last filter")
	if start < 0 || end < start {
		t.Fatal("shipped envoy.yaml: DFP filter block not found")
	}
	dfp := shipped[start:end]
	// The filter defines the DNS cache anchor the clusters use.
	without := strings.ReplaceAll(shipped[:start]+shipped[end:], "*origin_dns", "{ name: origin_dns }")
	noFilter := shipped[:start] + shipped[end:]
	extProc := strings.Index(noFilter, "          - name: envoy.filters.http.ext_proc\n")
	before := noFilter[:extProc] + dfp + noFilter[extProc:]
	tests := []struct {
		name, data, want string
	}{
		{"shipped", shipped, ""},
		{"no DFP filter", without, `route to dynamic forward proxy cluster "origin_https" needs`},
		{"DFP filter before ext_proc", before, "runs before ext_proc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := envoy.ValidateBootstrapYAML([]byte(tc.data))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, envoy.ErrBootstrapFilterChain) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrBootstrapFilterChain mentioning %q", err, tc.want)
			}
		})
	}
}
