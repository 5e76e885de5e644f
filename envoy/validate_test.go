package envoy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/flowproc/flowproc/envoy"
)

// shippedEnvoyConfig is one Envoy bootstrap found in the repository.
type shippedEnvoyConfig struct {
	name string // repo-relative file, plus the document/key for embedded ones
	data []byte // YAML or JSON
}

// shippedModuleRoot walks up from the test's directory to go.mod.
func shippedModuleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

var shippedDocSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// shippedEnvoyConfigs finds every Envoy bootstrap shipped in the repository:
// each *.yaml/*.yml document whose top level has static_resources, admin or
// node; Envoy configs embedded in Kubernetes ConfigMaps; and Istio
// EnvoyFilters, assembled into a bootstrap by shippedEnvoyFilterBootstrap. Compose
// files and other Kubernetes manifests are skipped, as are testdata,
// vendor, node_modules and hidden directories (fixtures are not shipped).
func shippedEnvoyConfigs(t *testing.T) []shippedEnvoyConfig {
	t.Helper()
	root := shippedModuleRoot(t)
	var out []shippedEnvoyConfig
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(name); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		docs := shippedDocSeparator.Split(string(data), -1)
		for i, doc := range docs {
			label := rel
			if len(docs) > 1 {
				label = fmt.Sprintf("%s#%d", rel, i)
			}
			var top map[string]any
			if err := yaml.Unmarshal([]byte(doc), &top); err != nil || top == nil {
				continue // not a mapping (or not YAML we understand): not an Envoy config
			}
			switch {
			case top["apiVersion"] != nil && top["kind"] != nil:
				out = append(out, shippedFromManifest(t, label, top)...)
			case top["services"] != nil:
				// docker compose
			case shippedIsEnvoyTopLevel(top):
				out = append(out, shippedEnvoyConfig{name: label, data: []byte(doc)})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// shippedIsEnvoyTopLevel reports whether a document looks like an Envoy bootstrap.
func shippedIsEnvoyTopLevel(top map[string]any) bool {
	return top["static_resources"] != nil || top["admin"] != nil || top["node"] != nil
}

// shippedFromManifest extracts Envoy configs from one Kubernetes object.
func shippedFromManifest(t *testing.T, label string, obj map[string]any) []shippedEnvoyConfig {
	t.Helper()
	var out []shippedEnvoyConfig
	switch obj["kind"] {
	case "ConfigMap":
		data, _ := obj["data"].(map[string]any)
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s, _ := data[k].(string)
			var top map[string]any
			if yaml.Unmarshal([]byte(s), &top) == nil && shippedIsEnvoyTopLevel(top) {
				out = append(out, shippedEnvoyConfig{name: label + ":data." + k, data: []byte(s)})
			}
		}
	case "EnvoyFilter":
		data, err := shippedEnvoyFilterBootstrap(obj)
		if err != nil {
			t.Errorf("%s: %v", label, err)
			return nil
		}
		out = append(out, shippedEnvoyConfig{name: label + ":assembled", data: data})
	}
	return out
}

// shippedEnvoyFilterBootstrap assembles the patches of an Istio EnvoyFilter into a
// bootstrap that Envoy could load: HTTP_FILTER patches become the filters of
// one HTTP connection manager (followed by the router, which they are
// inserted before), CLUSTER ADD patches become static clusters. Other patch
// kinds are reported as unsupported so that nothing goes unchecked.
func shippedEnvoyFilterBootstrap(obj map[string]any) ([]byte, error) {
	spec, _ := obj["spec"].(map[string]any)
	patches, _ := spec["configPatches"].([]any)
	if len(patches) == 0 {
		return nil, errors.New("EnvoyFilter has no configPatches")
	}
	var filters, clusters []any
	hcmMerge := map[string]any{} // NETWORK_FILTER MERGE patches of the HCM
	for i, p := range patches {
		pm, _ := p.(map[string]any)
		patch, _ := pm["patch"].(map[string]any)
		op, _ := patch["operation"].(string)
		value := patch["value"]
		switch applyTo, _ := pm["applyTo"].(string); {
		case applyTo == "HTTP_FILTER" && (op == "INSERT_BEFORE" || op == "INSERT_FIRST"):
			filters = append(filters, value)
		case applyTo == "CLUSTER" && op == "ADD":
			clusters = append(clusters, value)
		case applyTo == "NETWORK_FILTER" && op == "MERGE":
			vm, _ := value.(map[string]any)
			tc, _ := vm["typed_config"].(map[string]any)
			if vm["name"] != "envoy.filters.network.http_connection_manager" || tc == nil {
				return nil, fmt.Errorf("configPatches[%d]: NETWORK_FILTER MERGE must patch the http_connection_manager's typed_config", i)
			}
			for k, v := range tc {
				if k != "@type" {
					hcmMerge[k] = v
				}
			}
		default:
			return nil, fmt.Errorf("configPatches[%d]: applyTo %s with operation %s is not supported by the test's assembler", i, applyTo, op)
		}
	}
	filters = append(filters, map[string]any{
		"name":         "envoy.filters.http.router",
		"typed_config": map[string]any{"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
	})
	b := map[string]any{
		"static_resources": map[string]any{
			"listeners": []any{map[string]any{
				"name":    "istio_inbound",
				"address": map[string]any{"socket_address": map[string]any{"address": "0.0.0.0", "port_value": 15006}},
				"filter_chains": []any{map[string]any{"filters": []any{map[string]any{
					"name": "envoy.filters.network.http_connection_manager",
					"typed_config": map[string]any{
						"@type":       "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
						"stat_prefix": "inbound",
						"route_config": map[string]any{"virtual_hosts": []any{map[string]any{
							"name": "inbound", "domains": []any{"*"},
							"routes": []any{map[string]any{"match": map[string]any{"prefix": "/"}, "direct_response": map[string]any{"status": 200}}},
						}}},
						"http_filters": filters,
					},
				}}}},
			}},
			"clusters": clusters,
		},
	}
	hcm := b["static_resources"].(map[string]any)["listeners"].([]any)[0].(map[string]any)["filter_chains"].([]any)[0].(map[string]any)["filters"].([]any)[0].(map[string]any)["typed_config"].(map[string]any)
	for k, v := range hcmMerge {
		hcm[k] = v
	}
	return json.Marshal(b)
}

func TestShippedEnvoyConfigsValidate(t *testing.T) {
	configs := shippedEnvoyConfigs(t)
	found := map[string]bool{}
	for _, c := range configs {
		found[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			if err := envoy.ValidateBootstrapYAML(c.data); err != nil {
				t.Errorf("invalid Envoy config:\n%v", err)
			}
		})
	}
	// The walk must at least find the configs this repository is known to
	// ship; a walker that finds nothing would otherwise pass silently.
	for _, want := range []string{
		"envoy/envoy.yaml",
		"envoy/sidecar.yaml",
		"deploy/envoy-compose.yaml",
		"deploy/kubernetes/envoy-configmap.yaml:data.envoy.yaml",
		"deploy/istio/envoyfilter.yaml:assembled",
	} {
		if !found[want] {
			t.Errorf("shipped Envoy config %s was not found by the walk (found %v)", want, found)
		}
	}
}

// shippedExtProcFilters returns the ext_proc filter configs of a bootstrap.
func shippedExtProcFilters(t *testing.T, data []byte) []*extprocv3.ExternalProcessor {
	t.Helper()
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatal(err)
	}
	var out []*extprocv3.ExternalProcessor
	for _, l := range b.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				var h hcmv3.HttpConnectionManager
				if f.GetTypedConfig().UnmarshalTo(&h) != nil {
					continue
				}
				for _, hf := range h.GetHttpFilters() {
					var ep extprocv3.ExternalProcessor
					if hf.GetTypedConfig().UnmarshalTo(&ep) == nil {
						out = append(out, &ep)
					}
				}
			}
		}
	}
	return out
}

// TestShippedExtProcFiltersSuitFlowproc checks the settings flowproc relies
// on in the ext_proc filter of every config meant for users (envoy/ and
// deploy/), beyond what Envoy requires. Configs elsewhere (e2e tests, say)
// may deliberately differ; they only have to be valid.
func TestShippedExtProcFiltersSuitFlowproc(t *testing.T) {
	checked := 0
	for _, c := range shippedEnvoyConfigs(t) {
		if !strings.HasPrefix(c.name, "envoy/") && !strings.HasPrefix(c.name, "deploy/") {
			continue
		}
		checked++
		t.Run(c.name, func(t *testing.T) {
			filters := shippedExtProcFilters(t, c.data)
			if len(filters) != 1 {
				t.Fatalf("%d ext_proc filters, want 1", len(filters))
			}
			ep := filters[0]
			pm := ep.GetProcessingMode()
			checks := []struct {
				what string
				ok   bool
			}{
				{"allow_mode_override is true (lazy bodies via mode_override)", ep.GetAllowModeOverride()},
				{"failure_mode_allow is false (fail closed)", !ep.GetFailureModeAllow()},
				{"message_timeout is 1s", ep.GetMessageTimeout().AsDuration() == time.Second},
				{"request headers SEND", pm.GetRequestHeaderMode() == extprocv3.ProcessingMode_SEND},
				{"response headers SEND", pm.GetResponseHeaderMode() == extprocv3.ProcessingMode_SEND},
				{"request body NONE", pm.GetRequestBodyMode() == extprocv3.ProcessingMode_NONE},
				{"response body NONE", pm.GetResponseBodyMode() == extprocv3.ProcessingMode_NONE},
				{"request trailers SKIP", pm.GetRequestTrailerMode() == extprocv3.ProcessingMode_SKIP},
				{"response trailers SKIP", pm.GetResponseTrailerMode() == extprocv3.ProcessingMode_SKIP},
				{"no send_body_without_waiting_for_header_response (it disables mode_override)", !ep.GetSendBodyWithoutWaitingForHeaderResponse()},
				{"gRPC service through an Envoy cluster", ep.GetGrpcService().GetEnvoyGrpc().GetClusterName() != ""},
			}
			for _, ch := range checks {
				if !ch.ok {
					t.Errorf("want %s", ch.what)
				}
			}
		})
	}
	if checked == 0 {
		t.Fatal("no Envoy config under envoy/ or deploy/")
	}
}

// bootstrapValidBase is a small valid bootstrap that the table tests break in one
// place each.
const bootstrapValidBase = `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 0.0.0.0, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/orders" }
                route: { cluster: upstream }
                typed_per_filter_config:
                  envoy.filters.http.ext_proc:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                    overrides:
                      grpc_initial_metadata: [{ key: x-flowproc-project, value: example }]
              - match: { prefix: "/" }
                route: { cluster: upstream }
          http_filters:
          - name: envoy.filters.http.ext_proc
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
              grpc_service: { envoy_grpc: { cluster_name: flowproc } }
              message_timeout: 1s
              allow_mode_override: true
              processing_mode:
                request_body_mode: NONE
                request_trailer_mode: SKIP
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: flowproc
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: flowproc
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 50051 } } } }] }]
  - name: upstream
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } } }] }]
`

// bootstrapMutate applies old→new replacements to bootstrapValidBase; each old must occur.
func bootstrapMutate(t *testing.T, pairs ...string) []byte {
	t.Helper()
	s := bootstrapValidBase
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("test bug: %q not in the base config", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return []byte(s)
}

const (
	bootstrapHCMAt      = "$.static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
	bootstrapExtProcAt  = bootstrapHCMAt + ".http_filters[0].typed_config"
	bootstrapPerRouteAt = bootstrapHCMAt + `.route_config.virtual_hosts[0].routes[0].typed_per_filter_config`
)

func TestValidateBootstrapYAMLAcceptsValidConfigs(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"base", bootstrapMutate(t)},
		{"FDS with trailer SEND", bootstrapMutate(t,
			"request_body_mode: NONE", "request_body_mode: FULL_DUPLEX_STREAMED",
			"request_trailer_mode: SKIP", "request_trailer_mode: SEND")},
		{"per-route config wrapped in FilterConfig", bootstrapMutate(t,
			`"@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                    overrides:
                      grpc_initial_metadata:`, `"@type": type.googleapis.com/envoy.config.route.v3.FilterConfig
                    config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                      overrides:
                        grpc_initial_metadata:`)},
		{"filter with a custom name and matching per-route key", bootstrapMutate(t,
			"envoy.filters.http.ext_proc:", "flowproc:",
			"- name: envoy.filters.http.ext_proc", "- name: flowproc")},
		{"JSON input", func() []byte {
			js, err := yaml.YAMLToJSON([]byte(bootstrapValidBase))
			if err != nil {
				t.Fatal(err)
			}
			return js
		}()},
		{"clusters from CDS are not checked", bootstrapMutate(t,
			"cluster_name: flowproc }", "cluster_name: from_cds }",
			"admin:", "dynamic_resources:\n  cds_config: { ads: {} }\nadmin:")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := envoy.ValidateBootstrapYAML(tc.data); err != nil {
				t.Errorf("unexpected error:\n%v", err)
			}
		})
	}
}

func TestValidateBootstrapYAMLRejectsBrokenConfigs(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		wantKind error
		wantPath string // BootstrapError.Path of the (first) problem
		wantText string // substring of the error text
	}{
		{
			name:     "unknown top-level field",
			data:     bootstrapMutate(t, "admin:", "admins:"),
			wantKind: envoy.ErrBootstrapUnknownField, wantPath: "$.admins",
			wantText: `"admins" is not a field of envoy.config.bootstrap.v3.Bootstrap`,
		},
		{
			name:     "unknown field inside typed_config",
			data:     bootstrapMutate(t, "allow_mode_override: true", "allow_mode_overide: true"),
			wantKind: envoy.ErrBootstrapUnknownField, wantPath: bootstrapExtProcAt + ".allow_mode_overide",
			wantText: "ExternalProcessor",
		},
		{
			name:     "bad type URL",
			data:     bootstrapMutate(t, "ext_proc.v3.ExternalProcessor", "ext_proc.v3.ExternalProcesor"),
			wantKind: envoy.ErrBootstrapTypeURL, wantPath: bootstrapExtProcAt + `["@type"]`,
			wantText: `"type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcesor" does not name a known message type`,
		},
		{
			name:     "Any without @type",
			data:     bootstrapMutate(t, `"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`, "dynamic_stats: true"),
			wantKind: envoy.ErrBootstrapTypeURL, wantPath: bootstrapHCMAt + ".http_filters[1].typed_config",
			wantText: `missing "@type"`,
		},
		{
			name:     "missing ext_proc cluster",
			data:     bootstrapMutate(t, "cluster_name: flowproc }", "cluster_name: ext_proc }"),
			wantKind: envoy.ErrBootstrapReference, wantPath: bootstrapExtProcAt + ".grpc_service.envoy_grpc.cluster_name",
			wantText: `ext_proc grpc_service names cluster "ext_proc", which static_resources.clusters does not define`,
		},
		{
			name:     "missing route cluster",
			data:     bootstrapMutate(t, "route: { cluster: upstream }", "route: { cluster: backend }"),
			wantKind: envoy.ErrBootstrapReference, wantPath: bootstrapHCMAt + ".route_config.virtual_hosts[0].routes[0].route.cluster",
			wantText: `route names cluster "backend"`,
		},
		{
			name:     "FDS without trailer SEND",
			data:     bootstrapMutate(t, "request_body_mode: NONE", "request_body_mode: FULL_DUPLEX_STREAMED"),
			wantKind: envoy.ErrBootstrapExtProc, wantPath: bootstrapExtProcAt + ".processing_mode.request_trailer_mode",
			wantText: "FULL_DUPLEX_STREAMED requires request_trailer_mode SEND",
		},
		{
			name:     "per-route key differs from the filter name",
			data:     bootstrapMutate(t, "envoy.filters.http.ext_proc:", "ext_proc:"),
			wantKind: envoy.ErrBootstrapExtProc, wantPath: bootstrapPerRouteAt + ".ext_proc",
			wantText: `no ext_proc filter in http_filters is named "ext_proc"`,
		},
		{
			name: "per-route key mismatch inside a FilterConfig wrapper",
			data: bootstrapMutate(t, `envoy.filters.http.ext_proc:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                    overrides:
                      grpc_initial_metadata:`, `ext_proc:
                    "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig
                    config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute
                      overrides:
                        grpc_initial_metadata:`),
			wantKind: envoy.ErrBootstrapExtProc, wantPath: bootstrapPerRouteAt + ".ext_proc.config",
			wantText: `typed_per_filter_config key "ext_proc" holds an ExtProcPerRoute`,
		},
		{
			name:     "invalid duration syntax",
			data:     bootstrapMutate(t, "message_timeout: 1s", "message_timeout: 1 second"),
			wantKind: envoy.ErrBootstrapValue, wantPath: bootstrapExtProcAt + ".message_timeout",
			wantText: "invalid google.protobuf.Duration value",
		},
		{
			name:     "message_timeout above 3600s",
			data:     bootstrapMutate(t, "message_timeout: 1s", "message_timeout: 3601s"),
			wantKind: envoy.ErrBootstrapConstraint, wantPath: bootstrapExtProcAt,
			wantText: "ExternalProcessor.MessageTimeout",
		},
		{
			name:     "both grpc_service and http_service",
			data:     bootstrapMutate(t, "message_timeout: 1s", "message_timeout: 1s\n              http_service: { http_service: { http_uri: { uri: http://x, cluster: flowproc, timeout: 1s } } }"),
			wantKind: envoy.ErrBootstrapExtProc, wantPath: bootstrapExtProcAt,
			wantText: "exactly one of grpc_service and http_service must be set, both are",
		},
		{
			name:     "neither grpc_service nor http_service",
			data:     bootstrapMutate(t, "grpc_service: { envoy_grpc: { cluster_name: flowproc } }", "stat_prefix: x"),
			wantKind: envoy.ErrBootstrapExtProc, wantPath: bootstrapExtProcAt,
			wantText: "neither is",
		},
		{
			name:     "disable_clear_route_cache with route_cache_action",
			data:     bootstrapMutate(t, "message_timeout: 1s", "message_timeout: 1s\n              disable_clear_route_cache: true\n              route_cache_action: CLEAR"),
			wantKind: envoy.ErrBootstrapExtProc, wantPath: bootstrapExtProcAt + ".route_cache_action",
			wantText: "disable_clear_route_cache cannot be combined",
		},
		{
			name:     "ext_proc cluster without HTTP/2",
			data:     bootstrapMutate(t, "explicit_http_config: { http2_protocol_options: {} }", "explicit_http_config: { http_protocol_options: {} }"),
			wantKind: envoy.ErrBootstrapExtProc, wantPath: bootstrapExtProcAt + ".grpc_service.envoy_grpc.cluster_name",
			wantText: `cluster "flowproc" carries the ext_proc gRPC stream but does not enable HTTP/2`,
		},
		{
			name:     "per-route disabled must be true",
			data:     bootstrapMutate(t, "overrides:\n                      grpc_initial_metadata: [{ key: x-flowproc-project, value: example }]", "disabled: false"),
			wantKind: envoy.ErrBootstrapConstraint, wantPath: bootstrapPerRouteAt + `["envoy.filters.http.ext_proc"]`,
			wantText: "ExtProcPerRoute.Disabled: value must equal true",
		},
		{
			name:     "bad enum value",
			data:     bootstrapMutate(t, "request_trailer_mode: SKIP", "request_trailer_mode: SEND_ALL"),
			wantKind: envoy.ErrBootstrapValue, wantPath: bootstrapExtProcAt + ".processing_mode.request_trailer_mode",
			wantText: `"SEND_ALL"`,
		},
		{
			name:     "string where a number belongs",
			data:     bootstrapMutate(t, "port_value: 8080", "port_value: http"),
			wantKind: envoy.ErrBootstrapValue, wantPath: "$.static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value",
			wantText: "uint32",
		},
		{
			name:     "two members of one oneof",
			data:     bootstrapMutate(t, "route: { cluster: upstream }", "route: { cluster: upstream, cluster_header: x-cluster }"),
			wantKind: envoy.ErrBootstrapValue, wantPath: bootstrapHCMAt + ".route_config.virtual_hosts[0].routes[0].route.cluster_header",
			wantText: `"cluster" and "cluster_header" are both set`,
		},
		{
			name:     "list where a mapping belongs",
			data:     bootstrapMutate(t, "admin:\n  address:", "admin:\n  address: []\n  x_address:"),
			wantKind: envoy.ErrBootstrapValue, wantPath: "$.admin.address",
			wantText: "expected a mapping (envoy.config.core.v3.Address), got a list",
		},
		{
			name:     "router not last",
			data:     bootstrapMutate(t, "- name: envoy.filters.http.ext_proc", "- name: envoy.filters.http.router\n            typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }\n          - name: envoy.filters.http.ext_proc"),
			wantKind: envoy.ErrBootstrapFilterChain, wantPath: bootstrapHCMAt + ".http_filters[0]",
			wantText: "must be the last HTTP filter",
		},
		{
			name:     "duplicate cluster",
			data:     bootstrapMutate(t, "  - name: upstream\n", "  - name: flowproc\n"),
			wantKind: envoy.ErrBootstrapDuplicate, wantPath: "$.static_resources.clusters[1].name",
			wantText: `cluster "flowproc" is defined more than once`,
		},
		{
			name:     "PGV rule on the bootstrap itself",
			data:     bootstrapMutate(t, "port_value: 8080", "port_value: 70000"),
			wantKind: envoy.ErrBootstrapConstraint, wantPath: "$",
			wantText: "PortValue: value must be less than or equal to 65535",
		},
		{
			name:     "not YAML",
			data:     []byte("admin: [unclosed"),
			wantKind: envoy.ErrBootstrapSyntax, wantPath: "",
			wantText: "syntax error",
		},
		{
			name:     "top level is a list",
			data:     []byte("- a\n- b\n"),
			wantKind: envoy.ErrBootstrapSyntax, wantPath: "$",
			wantText: "top level must be a mapping",
		},
		{
			name:     "empty document",
			data:     []byte("\n# nothing\n"),
			wantKind: envoy.ErrBootstrapSyntax, wantPath: "",
			wantText: "empty document",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := envoy.ValidateBootstrapYAML(tc.data)
			if err == nil {
				t.Fatal("no error, want one")
			}
			if !errors.Is(err, tc.wantKind) {
				t.Errorf("error is not %v:\n%v", tc.wantKind, err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error does not contain %q:\n%v", tc.wantText, err)
			}
			var be *envoy.BootstrapError
			if !errors.As(err, &be) {
				t.Fatalf("error is not a *BootstrapError: %T", err)
			}
			if be.Path != tc.wantPath {
				t.Errorf("path %q, want %q (error: %v)", be.Path, tc.wantPath, err)
			}
			if be.File != "" {
				t.Errorf("File %q, want empty for ValidateBootstrapYAML", be.File)
			}
		})
	}
}

func TestValidateBootstrapFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(bootstrapValidBase), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(bootstrapValidBase, "admin:", "admn:", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		wantErr  error  // nil: valid
		wantText string // substring of the error
	}{
		{"valid file", good, nil, ""},
		{"invalid file names the file and the path", bad, envoy.ErrBootstrapUnknownField, bad + ": $.admn: unknown field"},
		{"missing file", filepath.Join(dir, "missing.yaml"), fs.ErrNotExist, "missing.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := envoy.ValidateBootstrapFile(tc.path)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %v does not contain %q", err, tc.wantText)
			}
		})
	}
}

func TestValidateBootstrapYAMLReportsEveryProblem(t *testing.T) {
	err := envoy.ValidateBootstrapYAML(bootstrapMutate(t,
		"cluster_name: flowproc }", "cluster_name: missing }",
		"envoy.filters.http.ext_proc:", "other:"))
	if err == nil {
		t.Fatal("no error, want two problems")
	}
	var paths []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var be *envoy.BootstrapError
		if errors.As(e, &be) {
			paths = append(paths, be.Path)
		}
	}
	walk(err)
	want := []string{bootstrapPerRouteAt + ".other", bootstrapExtProcAt + ".grpc_service.envoy_grpc.cluster_name"}
	sort.Strings(paths)
	sort.Strings(want)
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("problem paths\n%s\nwant\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
}
