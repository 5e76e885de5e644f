package engine

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/upstream"
)

// hostPort splits a test server's URL into the deployment's host and port.
func hostPort(t *testing.T, raw string) (string, int) {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	return u.Hostname(), port
}

// monitorProject loads a bundle with servers a (and b) at the given
// addresses and a HealthMonitor.
func monitorProject(t *testing.T, monitor string, a, b string) *Project {
	return monitorProjectOpts(t, monitor, a, b, Options{})
}

func monitorProjectOpts(t *testing.T, monitor string, a, b string, opts Options) *Project {
	t.Helper()
	ah, ap := hostPort(t, a)
	bh, bp := hostPort(t, b)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/lb</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection>
  <LoadBalancer><Server name="a"/><Server name="b"/><MaxFailures>1</MaxFailures></LoadBalancer>
  <HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>1</IntervalInSec>` + monitor + `</HealthMonitor>
</HTTPTargetConnection></TargetEndpoint>`,
		"deployment.yaml": "targetServers:\n  a: {host: " + ah + ", port: " + strconv.Itoa(ap) + "}\n  b: {host: " + bh + ", port: " + strconv.Itoa(bp) + "}\n",
	})
	opts.Upstream, opts.Logger = upstream.NewMock(), slog.New(slog.DiscardHandler)
	p, errs := Load(dir, opts)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// waitFor polls cond for up to 5 s (probes run every second).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHTTPMonitor: a failing probe takes server a out of rotation
// (MaxFailures 1), a passing one brings it back; probes carry the
// configured headers and the health check ID; Close stops them.
func TestHTTPMonitor(t *testing.T) {
	var healthy atomic.Bool
	var probes atomic.Int32
	var gotAuth, gotID, gotBody atomic.Value
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" || r.Method != "POST" {
			w.WriteHeader(404)
			return
		}
		probes.Add(1)
		gotAuth.Store(r.Header.Get("Authorization"))
		gotID.Store(r.Header.Get(HealthCheckIDHeader))
		b, _ := io.ReadAll(r.Body)
		gotBody.Store(r.Header.Get("Content-Type") + " " + string(b))
		if healthy.Load() {
			w.Header().Set("ImOK", "yes")
			w.WriteHeader(204)
			return
		}
		w.WriteHeader(503)
	}))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ImOK", "yes")
		w.WriteHeader(204)
	}))
	defer b.Close()
	p := monitorProject(t, `<HTTPMonitor><Request><Verb>POST</Verb><Path>/health</Path><Payload contentType="text/plain">ping</Payload><Header name="Authorization">Basic x</Header>
  <IncludeHealthCheckIdHeader>true</IncludeHealthCheckIdHeader><SocketReadTimeoutInSec>1</SocketReadTimeoutInSec></Request>
  <SuccessResponse><ResponseCode>204</ResponseCode><Header name="ImOK">yes</Header></SuccessResponse></HTTPMonitor>`, a.URL, b.URL)
	lb := p.targets["default"].lb
	sa, sb := lb.servers[0], lb.servers[1]
	if probes.Load() != 0 {
		t.Fatal("probes before the first exchange")
	}
	p.startMonitors()
	waitFor(t, "a failing probe takes a out", func() bool { return !lb.inRotation(sa) })
	if !lb.inRotation(sb) {
		t.Error("b went out of rotation")
	}
	if s := lb.pick(0); s != sb {
		t.Errorf("picked %v with a out", s.name)
	}
	healthy.Store(true)
	waitFor(t, "a passing probe brings a back", func() bool { return lb.inRotation(sa) })
	if gotAuth.Load() != "Basic x" || len(gotID.Load().(string)) != 36 || gotBody.Load() != "text/plain ping" {
		t.Errorf("probe: Authorization %q, %s %q, body %q", gotAuth.Load(), HealthCheckIDHeader, gotID.Load(), gotBody.Load())
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	n := probes.Load()
	time.Sleep(1200 * time.Millisecond)
	if probes.Load() != n {
		t.Errorf("probes after Close: %d, then %d", n, probes.Load())
	}
	p.startMonitors()
	time.Sleep(50 * time.Millisecond)
	if probes.Load() != n {
		t.Error("a closed project started probing again")
	}
}

// TestTCPMonitor: a server taken out by failed requests comes back when a
// TCP probe connects; one that refuses connections goes out.
func TestTCPMonitor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	defer ln.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	_ = dead.Close() // nothing listens there now
	p := monitorProject(t, `<TCPMonitor><ConnectTimeoutInSec>1</ConnectTimeoutInSec></TCPMonitor>`, "http://"+ln.Addr().String(), deadURL)
	lb := p.targets["default"].lb
	sa, sb := lb.servers[0], lb.servers[1]
	lb.record(sa, true) // MaxFailures 1: out until a probe succeeds
	if lb.inRotation(sa) {
		t.Fatal("a still in rotation")
	}
	p.startMonitors()
	waitFor(t, "a probe brings a back", func() bool { return lb.inRotation(sa) })
	waitFor(t, "a refused probe takes b out", func() bool { return !lb.inRotation(sb) })
}

// TestNoHealthProbes: the bundle test runner's option keeps probes from
// starting; a server out of rotation stays out (a probe would be what
// brings it back).
func TestNoHealthProbes(t *testing.T) {
	var probes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { probes.Add(1) }))
	defer srv.Close()
	p := monitorProjectOpts(t, `<HTTPMonitor><Request><Path>/health</Path></Request></HTTPMonitor>`, srv.URL, srv.URL, Options{NoHealthProbes: true})
	lb := p.targets["default"].lb
	lb.record(lb.servers[0], true)
	p.startMonitors()
	time.Sleep(100 * time.Millisecond)
	if probes.Load() != 0 || lb.inRotation(lb.servers[0]) {
		t.Errorf("probes %d, a in rotation %v", probes.Load(), lb.inRotation(lb.servers[0]))
	}
}
