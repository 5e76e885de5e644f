package engine

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
)

// HealthCheckIDHeader is the header an HTTPMonitor sends when
// IncludeHealthCheckIdHeader is true. Apigee's docs name the header but
// not the value's form; flowproc sends a fresh UUID per probe.
const HealthCheckIDHeader = "X-Apigee-Healthcheck-Id"

// probeBodyLimit bounds how much of a probe's answer is read.
const probeBodyLimit = 64 << 10

// healthMonitor is an enabled <HealthMonitor>: a TCP connect or an HTTP
// request to each server of the LoadBalancer every interval.
//
// Timeouts the bundle leaves out default to the interval, so a probe ends
// before the next one starts. Port defaults to the server's; an
// HTTPMonitor's scheme is the server's unless IsSSL says otherwise. A
// SuccessResponse without ResponseCode expects 200 (docs unclear; 200 is
// what their examples use).
type healthMonitor struct {
	interval       time.Duration
	connectTimeout time.Duration
	readTimeout    time.Duration
	port           int
	tcp            bool
	scheme         string // "" = the server's
	verb, path     string
	headers        [][2]string
	payload        string
	payloadType    string
	includeID      bool
	codes          []int
	successHeaders [][2]string
	client         *http.Client
}

// compileFailover compiles a LoadBalancer's failure handling and HealthMonitor
// into t.lb.
func (c *Compiler) compileFailover(p *Project, t *targetEP, te *bundle.TargetEndpoint) {
	f := te.Failover
	lb := t.lb
	lb.maxFailures = int32(f.MaxFailures)
	lb.retry = f.RetryEnabled
	lb.unhealthy = f.UnhealthyCodes
	if f.TargetDisableSecs >= 0 {
		lb.disable = time.Duration(f.TargetDisableSecs) * time.Second
	}
	hm := te.HealthMonitor
	if hm == nil || !hm.Enabled {
		return
	}
	m := &healthMonitor{interval: time.Duration(hm.IntervalSec) * time.Second}
	timeout := func(secs int) time.Duration {
		if secs == 0 {
			return m.interval
		}
		return time.Duration(secs) * time.Second
	}
	if hm.TCP != nil {
		m.tcp = true
		m.connectTimeout = timeout(hm.TCP.ConnectTimeoutSec)
		m.port = hm.TCP.Port
	} else {
		h := hm.HTTP
		m.connectTimeout, m.readTimeout = timeout(h.ConnectTimeoutSec), timeout(h.ReadTimeoutSec)
		m.port, m.verb, m.path, m.headers, m.includeID = h.Port, h.Verb, h.Path, h.Headers, h.IncludeHealthCheckID
		m.codes, m.successHeaders = h.SuccessCodes, h.SuccessHeaders
		m.payload, m.payloadType = h.Payload, h.PayloadType
		if len(m.codes) == 0 {
			m.codes = []int{200}
		}
		if h.IsSSL != nil {
			m.scheme = "http"
			if *h.IsSSL {
				m.scheme = "https"
			}
		}
		m.client = &http.Client{
			Transport: &http.Transport{
				DialContext:           (&net.Dialer{Timeout: m.connectTimeout}).DialContext,
				TLSHandshakeTimeout:   m.connectTimeout,
				ResponseHeaderTimeout: m.readTimeout,
				DisableKeepAlives:     true,
				TLSClientConfig:       &tls.Config{InsecureSkipVerify: h.TrustAllSSL}, //nolint:gosec // the bundle's TrustAllSSL, for probes only
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	lb.monitor = m
	if !p.opts.NoHealthProbes {
		p.monitors.targets = append(p.monitors.targets, lb)
	}
}

// address is host:port a probe of s goes to.
func (m *healthMonitor) address(s *lbServer, scheme string) string {
	port := s.u.Port()
	if m.port != 0 {
		port = strconv.Itoa(m.port)
	} else if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(s.u.Hostname(), port)
}

// probe checks s once, within the monitor's timeouts.
func (m *healthMonitor) probe(ctx context.Context, s *lbServer) bool {
	scheme := s.u.Scheme
	if m.scheme != "" {
		scheme = m.scheme
	}
	addr := m.address(s, scheme)
	if m.tcp {
		d := net.Dialer{Timeout: m.connectTimeout}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		_ = conn.Close()
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, m.connectTimeout+m.readTimeout)
	defer cancel()
	var body io.Reader
	if m.payload != "" {
		body = strings.NewReader(m.payload)
	}
	req, err := http.NewRequestWithContext(ctx, m.verb, scheme+"://"+addr+m.path, body)
	if err != nil {
		return false
	}
	if m.payloadType != "" {
		req.Header.Set("Content-Type", m.payloadType)
	}
	req.Host = s.u.Host
	for _, h := range m.headers {
		req.Header.Add(h[0], h[1])
	}
	if m.includeID {
		req.Header.Set(HealthCheckIDHeader, newUUID())
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, probeBodyLimit))
	_ = resp.Body.Close()
	if !slices.Contains(m.codes, resp.StatusCode) {
		return false
	}
	for _, h := range m.successHeaders {
		if !slices.ContainsFunc(resp.Header.Values(h[0]), func(v string) bool { return strings.TrimSpace(v) == h[1] }) {
			return false
		}
	}
	return true
}

// monitors runs a project's HealthMonitor probes: from the project's
// first exchange (a project only validated or never served probes
// nothing) until Close.
type monitors struct {
	targets []*loadBalancer // with an enabled HealthMonitor
	once    atomic.Bool     // startMonitors ran
	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startMonitors starts the probes of p and of the proxies it chains to,
// once; cheap after the first call.
func (p *Project) startMonitors() {
	m := &p.monitors
	if m.once.Load() {
		return
	}
	m.once.Store(true)
	if len(m.targets) > 0 {
		m.mu.Lock()
		if !m.started && !m.closed {
			m.started = true
			ctx, cancel := context.WithCancel(context.Background())
			m.cancel = cancel
			for _, lb := range m.targets {
				for _, s := range lb.servers {
					m.wg.Add(1)
					go p.probeLoop(ctx, lb, s)
				}
			}
		}
		m.mu.Unlock()
	}
	for _, sub := range p.chained {
		if sub != p {
			sub.startMonitors()
		}
	}
}

// probeLoop probes s every interval until ctx ends. Probes never block an
// exchange: they only flip s's atomics.
func (p *Project) probeLoop(ctx context.Context, lb *loadBalancer, s *lbServer) {
	defer p.monitors.wg.Done()
	t := time.NewTicker(lb.monitor.interval)
	defer t.Stop()
	for {
		ok := lb.monitor.probe(ctx, s)
		if ctx.Err() != nil {
			return
		}
		was := lb.inRotation(s)
		lb.probed(s, ok)
		if now := lb.inRotation(s); now != was {
			p.opts.Logger.Info("apigee TargetServer rotation", "project", p.name, "server", s.name, "inRotation", now)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the project's HealthMonitor probes (and those of the
// proxies it chains to) and waits for them to end. Runs still in flight
// go on; later runs keep the servers' last known state. Close is
// idempotent; it always returns nil.
func (p *Project) Close() error {
	m := &p.monitors
	m.mu.Lock()
	m.closed = true
	if m.cancel != nil {
		m.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
	for _, lb := range m.targets {
		if c := lb.monitor.client; c != nil {
			c.CloseIdleConnections()
		}
	}
	for _, sub := range p.chained {
		if sub != p {
			_ = sub.Close()
		}
	}
	return nil
}
