package envoy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	_ "google.golang.org/protobuf/types/known/structpb" // google.protobuf.Struct for opaque Any values
	"sigs.k8s.io/yaml"

	// Extension packages whose messages appear inside Any values of the
	// bootstraps this loader reads. Importing registers their types with
	// protoregistry.GlobalTypes so "@type" URLs resolve; unknown extension
	// types are kept opaque (see ParseFilterConfig).
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// Type URLs of the messages the loader looks for inside Any values.
const (
	hcmTypeURL          = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	extProcTypeURL      = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor"
	extProcRouteTypeURL = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute"
	routeFilterConfURL  = "type.googleapis.com/envoy.config.route.v3.FilterConfig"
)

// DefaultFilterName is the conventional http_filters[].name of the ext_proc
// filter (and the key of its per-route configs).
const DefaultFilterName = "envoy.filters.http.ext_proc"

// FilterConfig is one ext_proc HTTP filter as Envoy would load it: the
// filter-level ExternalProcessor, the routes of its HTTP connection manager
// with the ExtProcPerRoute overrides that apply to each, and the listener /
// HCM limits that shape the filter's behaviour (Envoy's ext_proc: the filter's configuration; per-route ExtProcPerRoute settings merge from less to more specific).
type FilterConfig struct {
	// Name is the http_filters[].name of the filter; per-route configs are
	// looked up under this key (Envoy's ext_proc: the per-route key must equal the filter's name, or the per-route config is ignored).
	Name string
	// Filter is the filter-level configuration. Never nil.
	Filter *extprocfilterv3.ExternalProcessor
	// Routes are the routes of the inline route_config in match order,
	// flattened over virtual hosts. Empty means "every request matches a
	// route without overrides" (programmatic configs, RDS).
	Routes []Route
	// BufferLimit is the listener's per_connection_buffer_limit_bytes
	// (0 = not configured; the client then uses its own default, 1 MiB).
	BufferLimit int
	// MaxHeadersCount is the HCM's common_http_protocol_options
	// max_headers_count (0 = Envoy's default, 100).
	MaxHeadersCount int
	// MaxRequestHeadersKB is the HCM's max_request_headers_kb (0 = Envoy's
	// default, 60).
	MaxRequestHeadersKB int
	// ProcessorAddress is "host:port" of the ext_proc service when the
	// bootstrap names it statically (first endpoint of the envoy_grpc
	// cluster, or the google_grpc target). Empty when unknown.
	ProcessorAddress string
	// Clusters are the bootstrap's static clusters by name; nil for
	// programmatic configs (the router then sends every request to the
	// Upstream given to Do, without cluster checks).
	Clusters map[string]*Cluster
	// DynamicForwardProxyFilter is true when the connection manager runs
	// the dynamic forward proxy HTTP filter (needed by routes to a dynamic
	// forward proxy cluster).
	DynamicForwardProxyFilter bool
	// EarlyRemoveHeaders are the headers the connection manager's
	// early_header_mutation_extensions remove from every downstream request
	// before routing and filters (lower-case).
	EarlyRemoveHeaders []string
}

// Route is one route of the HTTP connection manager, reduced to what the
// client needs: how it matches and which ExtProcPerRoute configs apply.
type Route struct {
	// Name is the route's name (may be empty).
	Name string
	// VirtualHost is the name of the virtual host holding the route.
	VirtualHost string
	// Domains are the virtual host's domains ("*" matches any authority).
	Domains []string
	// Match is the route's match; nil matches everything. Prefix, path,
	// path_separated_prefix and safe_regex path matchers are evaluated, as
	// are header matchers; query-parameter and other matchers are ignored.
	Match *routev3.RouteMatch
	// PerFilterConfig lists the ExtProcPerRoute configs found under the
	// filter's name, least specific first: route configuration, virtual
	// host, route (Envoy's ext_proc: per-route ExtProcPerRoute settings merge from less to more specific "Merge (less → more specific)").
	PerFilterConfig []*extprocfilterv3.ExtProcPerRoute
	// Forwards is true for a route action (route: {...}); false for direct
	// responses and redirects.
	Forwards bool
	// Cluster is the route action's cluster; ClusterHeader, when set, names
	// the request header holding the cluster name instead.
	Cluster       string
	ClusterHeader string
	// RequestHeadersToRemove are the headers the router removes before
	// the request goes upstream: the route's, its virtual host's and the
	// route configuration's request_headers_to_remove.
	RequestHeadersToRemove []string
	// Timeout is the router's global timeout for a forwarded request:
	// the route action's timeout, DefaultRouteTimeout when it sets none,
	// 0 for none at all (timeout: 0s).
	Timeout time.Duration
}

// DefaultRouteTimeout is Envoy's route timeout when the route action sets
// none (RouteAction.timeout: "If not specified, the default is 15s"); the
// client also applies it to configurations without routes.
const DefaultRouteTimeout = 15 * time.Second

// NewFilterConfig wraps a programmatically built ExternalProcessor. The
// result has no routes: every request gets the filter-level configuration.
// A nil p stands for the empty (all defaults) configuration.
func NewFilterConfig(p *extprocfilterv3.ExternalProcessor) *FilterConfig {
	if p == nil {
		p = &extprocfilterv3.ExternalProcessor{}
	}
	return &FilterConfig{Name: DefaultFilterName, Filter: p}
}

// LoadFilterConfig reads an Envoy bootstrap YAML file and returns its first
// ext_proc HTTP filter with the routes of the same connection manager. See
// ParseFilterConfig.
func LoadFilterConfig(yamlPath string) (*FilterConfig, error) {
	data, err := os.ReadFile(yamlPath)
	if err != nil {
		return nil, fmt.Errorf("envoy: load filter config: %w", err)
	}
	fc, err := ParseFilterConfig(data)
	if err != nil {
		return nil, fmt.Errorf("envoy: %s: %w", yamlPath, err)
	}
	return fc, nil
}

// ErrNoExtProcFilter is returned when a bootstrap has no HTTP connection
// manager with an ext_proc filter.
var ErrNoExtProcFilter = errors.New("no envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor filter found")

// ParseFilterConfig parses an Envoy bootstrap (YAML or JSON) into the
// go-control-plane Bootstrap type and extracts the first HTTP connection
// manager (static listeners, in order) that has an ext_proc filter: the
// filter, its inline routes with their ExtProcPerRoute overrides, the
// listener buffer limit and the HCM header limits.
//
// Parsing is strict (unknown fields are errors, as in Envoy), except that
// Any values whose type this package does not register (extensions
// unrelated to ext_proc) are kept as opaque google.protobuf.Struct values.
func ParseFilterConfig(data []byte) (*FilterConfig, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	js, err = opaqueUnknownAnys(js)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	bs := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, bs); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return filterConfigFromBootstrap(bs)
}

// opaqueUnknownAnys rewrites every JSON object whose "@type" does not
// resolve to a registered message into a google.protobuf.Struct Any
// holding the object's other fields.
func opaqueUnknownAnys(js []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				t[k] = walk(c)
			}
			if u, ok := t["@type"].(string); ok {
				if _, err := protoregistry.GlobalTypes.FindMessageByURL(u); err != nil {
					rest := map[string]any{}
					for k, c := range t {
						if k != "@type" {
							rest[k] = c
						}
					}
					return map[string]any{"@type": "type.googleapis.com/google.protobuf.Struct", "value": rest}
				}
			}
			return t
		case []any:
			for i, c := range t {
				t[i] = walk(c)
			}
		}
		return v
	}
	return json.Marshal(walk(doc))
}

func filterConfigFromBootstrap(bs *bootstrapv3.Bootstrap) (*FilterConfig, error) {
	for _, l := range bs.GetStaticResources().GetListeners() {
		chains := l.GetFilterChains()
		if dc := l.GetDefaultFilterChain(); dc != nil {
			chains = append(chains[:len(chains):len(chains)], dc)
		}
		for _, ch := range chains {
			for _, nf := range ch.GetFilters() {
				tc := nf.GetTypedConfig()
				if tc == nil || tc.GetTypeUrl() != hcmTypeURL {
					continue
				}
				hcm := &hcmv3.HttpConnectionManager{}
				if err := tc.UnmarshalTo(hcm); err != nil {
					return nil, fmt.Errorf("listener %q: http_connection_manager: %w", l.GetName(), err)
				}
				fc, err := filterConfigFromHCM(hcm)
				if err != nil {
					return nil, fmt.Errorf("listener %q: %w", l.GetName(), err)
				}
				if fc == nil {
					continue
				}
				if v := l.GetPerConnectionBufferLimitBytes(); v != nil {
					fc.BufferLimit = int(v.GetValue())
				}
				fc.ProcessorAddress = processorAddress(fc.Filter.GetGrpcService(), bs.GetStaticResources().GetClusters())
				fc.Clusters = clustersOf(bs)
				fc.DynamicForwardProxyFilter = hasDFPFilter(hcm)
				return fc, nil
			}
		}
	}
	return nil, ErrNoExtProcFilter
}

func filterConfigFromHCM(hcm *hcmv3.HttpConnectionManager) (*FilterConfig, error) {
	var fc *FilterConfig
	for _, hf := range hcm.GetHttpFilters() {
		tc := hf.GetTypedConfig()
		if tc == nil || tc.GetTypeUrl() != extProcTypeURL {
			continue
		}
		p := &extprocfilterv3.ExternalProcessor{}
		if err := tc.UnmarshalTo(p); err != nil {
			return nil, fmt.Errorf("http filter %q: %w", hf.GetName(), err)
		}
		fc = &FilterConfig{Name: hf.GetName(), Filter: p}
		break
	}
	if fc == nil {
		return nil, nil
	}
	if v := hcm.GetCommonHttpProtocolOptions().GetMaxHeadersCount(); v != nil {
		fc.MaxHeadersCount = int(v.GetValue())
	}
	if v := hcm.GetMaxRequestHeadersKb(); v != nil {
		fc.MaxRequestHeadersKB = int(v.GetValue())
	}
	early, err := earlyRemovals(hcm)
	if err != nil {
		return nil, err
	}
	fc.EarlyRemoveHeaders = early
	rc := hcm.GetRouteConfig()
	if rc == nil {
		return fc, nil
	}
	rcCfg, err := perRouteFromMap(rc.GetTypedPerFilterConfig(), fc.Name)
	if err != nil {
		return nil, fmt.Errorf("route_config %q: %w", rc.GetName(), err)
	}
	for _, vh := range rc.GetVirtualHosts() {
		vhCfg, err := perRouteFromMap(vh.GetTypedPerFilterConfig(), fc.Name)
		if err != nil {
			return nil, fmt.Errorf("virtual host %q: %w", vh.GetName(), err)
		}
		for _, r := range vh.GetRoutes() {
			rCfg, err := perRouteFromMap(r.GetTypedPerFilterConfig(), fc.Name)
			if err != nil {
				return nil, fmt.Errorf("virtual host %q route %q: %w", vh.GetName(), r.GetName(), err)
			}
			var chain []*extprocfilterv3.ExtProcPerRoute
			for _, c := range []*extprocfilterv3.ExtProcPerRoute{rcCfg, vhCfg, rCfg} {
				if c != nil {
					chain = append(chain, c)
				}
			}
			var remove []string
			for _, l := range [][]string{r.GetRequestHeadersToRemove(), vh.GetRequestHeadersToRemove(), rc.GetRequestHeadersToRemove()} {
				for _, h := range l {
					remove = append(remove, lowerASCII(h))
				}
			}
			fc.Routes = append(fc.Routes, Route{
				Name:                   r.GetName(),
				VirtualHost:            vh.GetName(),
				Domains:                append([]string(nil), vh.GetDomains()...),
				Match:                  r.GetMatch(),
				PerFilterConfig:        chain,
				Forwards:               r.GetRoute() != nil,
				Cluster:                r.GetRoute().GetCluster(),
				ClusterHeader:          r.GetRoute().GetClusterHeader(),
				RequestHeadersToRemove: remove,
				Timeout:                routeTimeout(r),
			})
		}
	}
	return fc, nil
}

// perRouteFromMap returns the ExtProcPerRoute stored under name in a
// typed_per_filter_config map, unwrapping envoy.config.route.v3.FilterConfig.
// A FilterConfig with disabled: true disables the filter on the route,
// which for ext_proc is the same as ExtProcPerRoute{disabled: true}.
func perRouteFromMap(m map[string]*anypb.Any, name string) (*extprocfilterv3.ExtProcPerRoute, error) {
	a, ok := m[name]
	if !ok || a == nil {
		return nil, nil
	}
	if a.GetTypeUrl() == routeFilterConfURL {
		w := &routev3.FilterConfig{}
		if err := a.UnmarshalTo(w); err != nil {
			return nil, fmt.Errorf("typed_per_filter_config[%q]: %w", name, err)
		}
		if w.GetDisabled() {
			return &extprocfilterv3.ExtProcPerRoute{Override: &extprocfilterv3.ExtProcPerRoute_Disabled{Disabled: true}}, nil
		}
		a = w.GetConfig()
		if a == nil {
			return nil, nil
		}
	}
	if a.GetTypeUrl() != extProcRouteTypeURL {
		return nil, fmt.Errorf("typed_per_filter_config[%q]: type %s is not ExtProcPerRoute", name, a.GetTypeUrl())
	}
	pr := &extprocfilterv3.ExtProcPerRoute{}
	if err := a.UnmarshalTo(pr); err != nil {
		return nil, fmt.Errorf("typed_per_filter_config[%q]: %w", name, err)
	}
	return pr, nil
}

// processorAddress finds where the ext_proc service listens, when the
// bootstrap says so statically.
func processorAddress(gs *corev3.GrpcService, clusters []*clusterv3.Cluster) string {
	if t := gs.GetGoogleGrpc().GetTargetUri(); t != "" {
		return t
	}
	name := gs.GetEnvoyGrpc().GetClusterName()
	if name == "" {
		return ""
	}
	for _, c := range clusters {
		if c.GetName() != name {
			continue
		}
		for _, e := range c.GetLoadAssignment().GetEndpoints() {
			for _, lb := range e.GetLbEndpoints() {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				if sa.GetAddress() == "" {
					continue
				}
				return net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
			}
		}
	}
	return ""
}

// lowerASCII lower-cases ASCII letters only (Envoy's LowerCaseString).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// routeTimeout is a route's global timeout (Route.Timeout).
func routeTimeout(r *routev3.Route) time.Duration {
	if t := r.GetRoute().GetTimeout(); t != nil {
		return t.AsDuration()
	}
	return DefaultRouteTimeout
}
