package deploy

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestEnvoyConfigsNormalizePaths: every shipped Envoy config normalizes
// :path before routing and ext_proc (flowproc refuses other paths with
// 400, docs/security.md "Request paths").
func TestEnvoyConfigsNormalizePaths(t *testing.T) {
	want := map[string]any{"normalize_path": true, "merge_slashes": true, "path_with_escaped_slashes_action": "UNESCAPE_AND_REDIRECT"}
	configs := map[string][]byte{}
	for _, f := range []string{"../envoy/envoy.yaml", "../envoy/sidecar.yaml", "envoy-compose.yaml"} {
		configs[f] = mustRead(t, f)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(mustRead(t, "kubernetes/envoy-configmap.yaml"), &cm); err != nil {
		t.Fatal(err)
	}
	for k, v := range cm.Data {
		if strings.HasSuffix(k, ".yaml") {
			configs["kubernetes/envoy-configmap.yaml "+k] = []byte(v)
		}
	}
	istio := mustRead(t, "istio/envoyfilter.yaml")
	configs["istio/envoyfilter.yaml"] = istio
	for name, data := range configs {
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hcms := findHCMs(doc, nil)
		if len(hcms) == 0 {
			t.Errorf("%s: no HttpConnectionManager config", name)
		}
		for _, h := range hcms {
			for k, v := range want {
				if h[k] != v {
					t.Errorf("%s: HttpConnectionManager %s = %v, want %v", name, k, h[k], v)
				}
			}
		}
	}
}

// findHCMs returns every map in doc whose "@type" is the
// HttpConnectionManager's.
func findHCMs(doc any, out []map[string]any) []map[string]any {
	switch v := doc.(type) {
	case map[string]any:
		if t, _ := v["@type"].(string); strings.HasSuffix(t, ".http_connection_manager.v3.HttpConnectionManager") {
			out = append(out, v)
		}
		for _, c := range v {
			out = findHCMs(c, out)
		}
	case []any:
		for _, c := range v {
			out = findHCMs(c, out)
		}
	}
	return out
}
