package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/internal/devstack"
)

// devUpstreams is the repeatable dev -upstream flag: a bare URL is the
// default upstream (the config's static clusters), HOST=URL maps an origin
// authority a flow may choose (HOST or HOST:PORT) to a local URL.
type devUpstreams struct {
	def   string
	hosts map[string]string
}

// String implements flag.Value.
func (u *devUpstreams) String() string {
	if u == nil {
		return ""
	}
	parts := []string{}
	if u.def != "" {
		parts = append(parts, u.def)
	}
	for h, t := range u.hosts {
		parts = append(parts, h+"="+t)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value.
func (u *devUpstreams) Set(v string) error {
	host, target, mapped := strings.Cut(v, "=")
	if !mapped || strings.Contains(host, "://") {
		if u.def != "" {
			return errors.New("only one default upstream URL (map origins with HOST=URL)")
		}
		if _, err := upstreamURL(v); err != nil {
			return err
		}
		u.def = v
		return nil
	}
	if host == "" || strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("%q: want HOST=URL or HOST:PORT=URL", v)
	}
	if _, err := upstreamURL(target); err != nil {
		return err
	}
	if u.hosts == nil {
		u.hosts = map[string]string{}
	}
	if _, dup := u.hosts[strings.ToLower(host)]; dup {
		return fmt.Errorf("%s is mapped twice", host)
	}
	u.hosts[strings.ToLower(host)] = target
	return nil
}

// upstreamURL checks an upstream URL: http(s)://host:port, no path.
func upstreamURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("%q: want http(s)://host:port", s)
	}
	return u, nil
}

// router builds the dev proxy's upstream: static clusters of cfg go to def
// (the default upstream), origins a flow chooses (dynamic forward proxy
// clusters) to their -upstream HOST=URL mapping, else to the real host.
// devDefaultHost is the origin host dev sends to the default upstream.
const devDefaultHost = "upstream"

func (u *devUpstreams) router(cfg *envoy.FilterConfig, def envoy.Upstream) *envoy.Router {
	r := &envoy.Router{Hosts: map[string]string{}, Clusters: map[string]envoy.Upstream{}, Default: def}
	for h, t := range u.hosts {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = strings.Trim(h, "[]")
		}
		r.Hosts[h] = t
	}
	for name, c := range cfg.Clusters {
		if !c.DynamicForwardProxy {
			r.Clusters[name] = def
		}
	}
	return r
}

// startDemoUpstream serves devstack.DemoUpstream on a loopback port.
func startDemoUpstream() (addr string, stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen demo upstream: %w", err)
	}
	srv := &http.Server{Handler: devstack.DemoUpstream(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), func() { _ = srv.Close() }, nil
}
