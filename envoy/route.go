package envoy

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	earlyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
)

// Names and type URLs of the routing extensions the client models.
const (
	dfpClusterName   = "envoy.clusters.dynamic_forward_proxy"
	dfpClusterType   = "type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig"
	dfpFilterType    = "type.googleapis.com/envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig"
	tlsSocketName    = "envoy.transport_sockets.tls"
	upstreamTLSType  = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
	detailsNoCluster = "cluster_not_found"
)

// Cluster is an upstream cluster of the bootstrap, reduced to what decides
// where the router sends a request.
type Cluster struct {
	// Name is the cluster's name.
	Name string
	// DynamicForwardProxy is true for an envoy.clusters.dynamic_forward_proxy
	// cluster: the upstream is the request's :authority (host, and port or
	// the default port: 443 with TLS, else 80), resolved by DNS.
	DynamicForwardProxy bool
	// TLS is true when the cluster's transport socket is TLS
	// (UpstreamTlsContext).
	TLS bool
	// Address is "host:port" of the cluster's first static endpoint; empty
	// for dynamic forward proxy clusters and clusters without endpoints.
	Address string
}

// Scheme is the scheme the cluster speaks: "https" with TLS, else "http".
func (c *Cluster) Scheme() string {
	if c.TLS {
		return "https"
	}
	return "http"
}

// Target is the "host:port" the cluster connects to for a request with
// the given :authority: the authority (default port filled in) for a
// dynamic forward proxy, else the static address.
func (c *Cluster) Target(authority string) string {
	if !c.DynamicForwardProxy {
		return c.Address
	}
	return withDefaultPort(authority, c.TLS)
}

// withDefaultPort returns authority as "host:port", adding 443 (tls) or 80
// when it has no port, as the dynamic forward proxy does.
func withDefaultPort(authority string, tls bool) string {
	if _, _, err := net.SplitHostPort(authority); err == nil {
		return authority
	}
	port := "80"
	if tls {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(authority, "[]"), port)
}

// clustersOf reads the static clusters of a bootstrap.
func clustersOf(bs *bootstrapv3.Bootstrap) map[string]*Cluster {
	out := map[string]*Cluster{}
	for _, c := range bs.GetStaticResources().GetClusters() {
		out[c.GetName()] = clusterOf(c)
	}
	return out
}

func clusterOf(c *clusterv3.Cluster) *Cluster {
	cl := &Cluster{Name: c.GetName()}
	ct := c.GetClusterType()
	cl.DynamicForwardProxy = ct.GetName() == dfpClusterName || ct.GetTypedConfig().GetTypeUrl() == dfpClusterType
	ts := c.GetTransportSocket()
	cl.TLS = ts.GetName() == tlsSocketName || ts.GetTypedConfig().GetTypeUrl() == upstreamTLSType
	for _, e := range c.GetLoadAssignment().GetEndpoints() {
		for _, lb := range e.GetLbEndpoints() {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			if sa.GetAddress() != "" && cl.Address == "" {
				cl.Address = net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
			}
		}
	}
	return cl
}

// hasDFPFilter reports whether the HCM runs the dynamic forward proxy HTTP
// filter, which resolves the host before the router picks a DFP cluster's
// upstream.
func hasDFPFilter(hcm *hcmv3.HttpConnectionManager) bool {
	for _, hf := range hcm.GetHttpFilters() {
		if hf.GetTypedConfig().GetTypeUrl() == dfpFilterType {
			return true
		}
	}
	return false
}

// routeTarget is the router's decision for a request: the route and the
// cluster it names.
type routeTarget struct {
	route   *Route
	cluster *Cluster
	// details is the local reply's %RESPONSE_CODE_DETAILS% when the router
	// cannot forward ("" when it can).
	details string
	status  int
	// flags are the response flags of that local reply.
	flags uint64
}

// target returns where the router sends a request that matched route r
// (nil when the config has no routes, which forwards as configured by the
// caller's Upstream). A cluster_header route takes the cluster from the
// request headers, and a missing or unknown one is the router's 503
// cluster_not_found. A dynamic forward proxy cluster needs the DFP HTTP
// filter to have resolved the host, else the router finds no healthy host.
func (fc *FilterConfig) target(r *Route, headers []Header) routeTarget {
	t := routeTarget{route: r}
	if r == nil || fc.Clusters == nil {
		return t
	}
	name := r.Cluster
	if r.ClusterHeader != "" {
		name = ""
		h := lowerASCII(r.ClusterHeader)
		for _, hd := range headers {
			if hd.Name == h {
				name = hd.Value
				break
			}
		}
	}
	if !r.Forwards || r.Cluster == "" && r.ClusterHeader == "" {
		return t // direct response, redirect or weighted clusters: not modelled
	}
	c, ok := fc.Clusters[name]
	switch {
	case !ok && r.ClusterHeader != "":
		t.status, t.details, t.flags = 503, detailsNoCluster, flagNoClusterFound
		return t
	case !ok:
		// Envoy refuses to load a static route to an undefined cluster
		// (ValidateBootstrapYAML reports it); the client leaves such a
		// request to the caller's Upstream.
		return t
	}
	if c.DynamicForwardProxy && !fc.DynamicForwardProxyFilter {
		t.status, t.details, t.flags = 503, "no_healthy_upstream", flagNoHealthyUpstream
		return t
	}
	t.cluster = c
	return t
}

// earlyRemovals returns the header names the HCM's header_mutation early
// header mutations remove. Other early mutations are not modelled.
func earlyRemovals(hcm *hcmv3.HttpConnectionManager) ([]string, error) {
	var out []string
	for _, e := range hcm.GetEarlyHeaderMutationExtensions() {
		tc := e.GetTypedConfig()
		if tc == nil || tc.GetTypeUrl() != "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation" {
			continue
		}
		m := &earlyv3.HeaderMutation{}
		if err := tc.UnmarshalTo(m); err != nil {
			return nil, fmt.Errorf("early header mutation %q: %w", e.GetName(), err)
		}
		for _, mu := range m.GetMutations() {
			if r := mu.GetRemove(); r != "" {
				out = append(out, lowerASCII(r))
			}
		}
	}
	return out, nil
}

// withoutHeaders returns hs without the headers named in names.
func withoutHeaders(hs []Header, names []string) []Header {
	if len(names) == 0 {
		return hs
	}
	out := make([]Header, 0, len(hs))
	for _, h := range hs {
		if !slices.Contains(names, h.Name) {
			out = append(out, h)
		}
	}
	return out
}
