package envoy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Router is an Upstream that sends each forwarded request where Envoy's
// router would: to the cluster its route named (HTTPRequest.Cluster). A
// static cluster connects to its endpoint; a dynamic forward proxy cluster
// to the request's :authority (default port 443 with TLS, else 80), with
// TLS when the cluster has it and the authority's host as SNI (auto_sni).
// The upstream always sees the request's :authority as its Host header.
//
// Hosts plays Envoy's DNS so tests and flowproc dev can point origins at
// local servers.
type Router struct {
	// Hosts maps an upstream "host:port", or a bare host (any port), to
	// where to connect instead. A "host:port" value keeps the cluster's
	// scheme, like a DNS answer; an "http://…" or "https://…" URL also
	// replaces the scheme (flowproc dev maps https origins to plain local
	// servers this way). Unmapped hosts are resolved for real.
	Hosts map[string]string
	// Clusters replaces clusters by name with other Upstreams (flowproc
	// dev's default -upstream stands in for the config's static cluster).
	Clusters map[string]Upstream
	// Default receives requests that name no cluster (configs without
	// routes or clusters) and those of clusters without an address. Nil
	// makes them fail as the router's 503.
	Default Upstream
	// TLS is the client TLS configuration for TLS clusters, e.g. RootCAs
	// trusting local test servers; ServerName is set per request.
	TLS *tls.Config
	// Timeout bounds one upstream exchange (default 30 s).
	Timeout time.Duration

	once   sync.Once
	client *http.Client
}

// ErrNoUpstream is returned by Router when a request has nowhere to go.
var ErrNoUpstream = errors.New("envoy: router: no upstream for the request")

// RoundTrip implements Upstream.
func (r *Router) RoundTrip(ctx context.Context, req *HTTPRequest) (*UpstreamResponse, error) {
	c := req.Cluster
	if c != nil {
		if u := r.Clusters[c.Name]; u != nil {
			return u.RoundTrip(ctx, req)
		}
	}
	if c == nil || c.Target(req.Authority) == "" {
		if r.Default == nil {
			return nil, ErrNoUpstream
		}
		return r.Default.RoundTrip(ctx, req)
	}
	target := c.Target(req.Authority)
	scheme := c.Scheme()
	if m, ok := r.lookup(target); ok && strings.Contains(m, "://") {
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("envoy: router: host %s mapped to %q: want host:port or http(s)://host:port", target, m)
		}
		scheme = u.Scheme
	}
	r.once.Do(r.init)
	return (&HTTPUpstream{Addr: target, Scheme: scheme, Client: r.client}).RoundTrip(ctx, req)
}

// lookup finds the mapping of a "host:port" target.
func (r *Router) lookup(target string) (string, bool) {
	if m, ok := r.Hosts[target]; ok {
		return m, true
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return "", false
	}
	m, ok := r.Hosts[host]
	return m, ok
}

// dial connects to addr, or to where Hosts maps it.
func (r *Router) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if m, ok := r.lookup(addr); ok {
		if i := strings.Index(m, "://"); i >= 0 {
			m = strings.TrimSuffix(m[i+3:], "/")
		}
		addr = m
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, network, addr)
}

func (r *Router) init() {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	var tc *tls.Config
	if r.TLS != nil {
		tc = r.TLS.Clone()
	}
	r.client = &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         r.dial,
			TLSClientConfig:     tc,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CloseIdleConnections closes the router's idle upstream connections.
func (r *Router) CloseIdleConnections() {
	r.once.Do(r.init)
	r.client.CloseIdleConnections()
}
