package engine

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// lbHost answers the forward by the server it went to: a failure for
// hosts in fail ("conn" a connection failure, "500" an HTTP 500), 200
// otherwise. It records the hosts in order.
type lbHost struct {
	fakeHost
	fail   map[string]string
	hosts  []string
	status int // of the last forward
}

// status is the answer's status: the outcome's, or the upstream's it
// keeps.
func (h *lbHost) answer(o *flowengine.Outcome) int {
	if o.Status == 0 && o.Kind == flowengine.Forwarded {
		return h.status
	}
	return o.Status
}

func (h *lbHost) Forward(ctx context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	host, _, _ := strings.Cut(m.Authority, ".")
	h.hosts = append(h.hosts, host)
	switch h.fail[host] {
	case "conn":
		h.status = 503
		return &flowengine.Response{Status: 503, CodeDetails: "upstream_reset_before_response_started{connection_failure}"}, nil
	case "500":
		h.status = 500
		return &flowengine.Response{Status: 500, CodeDetails: "via_upstream"}, nil
	}
	h.status = 200
	return &flowengine.Response{Status: 200, CodeDetails: "via_upstream", Headers: []flowengine.Header{{Name: "x-from", Value: host}}}, nil
}

func lbProject(t *testing.T, lb string, up upstream.Client) *Project {
	return lbProjectWith(t, lb, up, "", nil)
}

// lbProjectWith is lbProject with target flows (a TargetEndpoint child)
// and more files.
func lbProjectWith(t *testing.T, lb string, up upstream.Client, targetFlows string, files map[string]string) *Project {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	writeFiles(t, dir, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/lb</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default">` + targetFlows + `<HTTPTargetConnection><LoadBalancer>` + lb + `</LoadBalancer><Path>/v2</Path></HTTPTargetConnection></TargetEndpoint>`,
		"deployment.yaml": `targetServers:
  a: {host: a.internal, port: 8080}
  b: {host: b.internal, port: 8080}
  fb: {host: fb.internal}
`,
	})
	p, errs := Load(dir, Options{Upstream: up})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// TestLoadBalancerRetry: a connection failure on server a is resent to b
// through the side-call client and b's answer goes to the client (the
// retry takes b's turn of the round robin); at MaxFailures a leaves
// rotation and Envoy forwards to b only.
func TestLoadBalancerRetry(t *testing.T) {
	mock := upstream.NewMock()
	mock.AnswerStatus(RetryCallID, 201, http.Header{"Content-Type": {"text/plain"}, "X-From": {"b-retry"}}, []byte("from b"))
	p := lbProject(t, `<Server name="a"/><Server name="b"/><MaxFailures>2</MaxFailures>`, mock)
	h := &lbHost{fail: map[string]string{"a": "conn"}}
	for i, want := range []struct {
		host   string
		status int
		body   string
	}{
		{"a", 201, "from b"}, // a fails: resent to b (the retry took b's turn)
		{"a", 201, "from b"}, // a's second failure: out of rotation
		{"b", 200, ""},
		{"b", 200, ""},
		{"b", 200, ""},
	} {
		h.hosts = nil
		req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/lb/x?q=1", ID: "rid", BodyKnownEmpty: true,
			Headers: []flowengine.Header{{Name: "x-client", Value: "c1"}, {Name: "host", Value: "api.example.com"}}}
		o := p.Run(context.Background(), req, h)
		if len(h.hosts) != 1 || h.hosts[0] != want.host || h.answer(o) != want.status || string(o.Body) != want.body {
			t.Errorf("request %d: forwarded to %v, answer %d %q; want %s, %d %q", i, h.hosts, h.answer(o), o.Body, want.host, want.status, want.body)
		}
		if want.body != "" && header(o, "x-from") != "b-retry" {
			t.Errorf("request %d: retried answer headers %v", i, o.AddHeaders)
		}
	}
	calls := mock.Calls()
	if len(calls) != 2 {
		t.Fatalf("retries %d, want 2", len(calls))
	}
	c := calls[0]
	if c.Method != "GET" || c.URL != "http://b.internal:8080/v2/x?q=1" || len(c.Headers) != 1 || c.Headers[0] != (upstream.Field{Name: "x-client", Value: "c1"}) {
		t.Errorf("retry call %+v", c)
	}
	// The variables name the server that answered.
	p = lbProject(t, `<Server name="a"/><Server name="b"/>`, mock)
	_, get := p.RunForTest(context.Background(), &flowengine.Request{Method: "GET", Path: "/lb/y", BodyKnownEmpty: true}, h)
	for name, want := range map[string]string{"loadbalancing.targetserver": "b", "target.url": "http://b.internal:8080/v2/y", "target.host": "b.internal"} {
		if got, _ := get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// TestLoadBalancerUnhealthyNoRetry: with RetryEnabled false a status in
// ServerUnhealthyResponse is the target's error as before but counts
// against the server; when every server is out, the fallback takes over,
// and without one the answer is NoActiveTargets.
func TestLoadBalancerUnhealthyNoRetry(t *testing.T) {
	mock := upstream.NewMock()
	lb := `<Server name="a"/><Server name="b"/><MaxFailures>1</MaxFailures><RetryEnabled>false</RetryEnabled>
<ServerUnhealthyResponse><ResponseCode>500</ResponseCode></ServerUnhealthyResponse>`
	p := lbProject(t, lb+`<Server name="fb"><IsFallback>true</IsFallback></Server>`, mock)
	h := &lbHost{fail: map[string]string{"a": "500", "b": "500"}}
	var got []string
	for range 4 {
		o := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/lb/x", BodyKnownEmpty: true}, h)
		got = append(got, strings.Join(h.hosts, ",")+":"+strconv.Itoa(h.answer(o)))
		h.hosts = nil
	}
	if g := strings.Join(got, " "); g != "a:500 b:500 fb:200 fb:200" {
		t.Errorf("answers %s", g)
	}
	if n := len(mock.Calls()); n != 0 {
		t.Errorf("%d retries with RetryEnabled false", n)
	}
	p = lbProject(t, lb, mock)
	for range 2 {
		p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/lb/x", BodyKnownEmpty: true}, h)
	}
	h.hosts = nil
	o := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/lb/x", BodyKnownEmpty: true}, h)
	if len(h.hosts) != 0 || h.answer(o) != 503 || !strings.Contains(string(o.Body), "messaging.adaptors.http.flow.NoActiveTargets") {
		t.Errorf("no server in rotation: forwarded to %v, answer %d %s", h.hosts, o.Status, o.Body)
	}
}

// TestLoadBalancerRetryNeedsReplayableBody: a request body the flows
// never read streamed through Envoy and is gone: no retry, the failure
// goes on as the ServiceUnavailable fault; and every server failing the
// retry leaves the first failure too.
func TestLoadBalancerRetryNeedsReplayableBody(t *testing.T) {
	mock := upstream.NewMock()
	mock.AnswerStatus(RetryCallID, 200, nil, []byte("from b"))
	p := lbProject(t, `<Server name="a"/><Server name="b"/>`, mock)
	h := &lbHost{fail: map[string]string{"a": "conn"}}
	h.body = []byte(`{"x":1}`)
	o := p.Run(context.Background(), &flowengine.Request{Method: "POST", Path: "/lb/x"}, h)
	if h.answer(o) != 503 || len(mock.Calls()) != 0 {
		t.Errorf("unread body: answer %d, %d retries", o.Status, len(mock.Calls()))
	}
	failing := upstream.NewMock()
	failing.Answer(RetryCallID, &upstream.Result{Err: &upstream.Error{Kind: upstream.KindConnect, Message: "refused"}})
	p = lbProject(t, `<Server name="a"/><Server name="b"/><MaxFailures>1</MaxFailures>`, failing)
	o = p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/lb/x", BodyKnownEmpty: true}, h)
	if h.answer(o) != 503 || !strings.Contains(string(o.Body), "messaging.adaptors.http.flow.ServiceUnavailable") || len(failing.Calls()) != 1 {
		t.Errorf("failed retry: answer %d %s, %d retries", o.Status, o.Body, len(failing.Calls()))
	}
	// Both failed once with MaxFailures 1: nothing is left in rotation.
	o = p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/lb/x", BodyKnownEmpty: true}, h)
	if h.answer(o) != 503 || !strings.Contains(string(o.Body), "NoActiveTargets") {
		t.Errorf("after both failed: %d %s", o.Status, o.Body)
	}
}

// TestLoadBalancerTargetDisableSecs: without a HealthMonitor a server out
// of rotation comes back after TargetDisableSecs; a reload (a new load of
// the project) starts with every server in rotation.
func TestLoadBalancerTargetDisableSecs(t *testing.T) {
	lb := `<Server name="a"/><Server name="b"/><MaxFailures>1</MaxFailures><RetryEnabled>false</RetryEnabled><TargetDisableSecs>1</TargetDisableSecs>`
	p := lbProject(t, lb, upstream.NewMock())
	h := &lbHost{fail: map[string]string{"a": "conn"}}
	hosts := func(n int) string {
		h.hosts = nil
		for range n {
			p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/lb/x", BodyKnownEmpty: true}, h)
		}
		return strings.Join(h.hosts, " ")
	}
	if got := hosts(4); got != "a b b b" {
		t.Fatalf("hosts %s", got)
	}
	time.Sleep(1100 * time.Millisecond)
	delete(h.fail, "a")
	if got := hosts(2); got != "b a" && got != "a b" {
		t.Errorf("after TargetDisableSecs: hosts %s", got)
	}
	h.fail["a"] = "conn"
	hosts(4)
	p = lbProject(t, lb, upstream.NewMock())
	if got := hosts(2); got != "a b" {
		t.Errorf("after a reload: hosts %s", got)
	}
}

// TestLoadBalancerRetryBufferedBody: a body the flows read is buffered
// and resent with the retry, with the target request's changes.
func TestLoadBalancerRetryBufferedBody(t *testing.T) {
	mock := upstream.NewMock()
	mock.AnswerStatus(RetryCallID, 200, nil, []byte("ok"))
	p := lbProjectWith(t, `<Server name="a"/><Server name="b"/>`, mock,
		`<PreFlow><Request><Step><Name>read</Name></Step></Request></PreFlow>`,
		map[string]string{"apiproxy/policies/read.xml": pol("read", `<Set name="seen">{request.content}</Set><Header name="x-seen">yes</Header>`)})
	h := &lbHost{fail: map[string]string{"a": "conn"}}
	h.body = []byte(`{"x":1}`)
	o := p.Run(context.Background(), &flowengine.Request{Method: "POST", Path: "/lb/x", Headers: []flowengine.Header{{Name: "content-type", Value: "application/json"}}}, h)
	calls := mock.Calls()
	if h.answer(o) != 200 || string(o.Body) != "ok" || len(calls) != 1 {
		t.Fatalf("answer %d %q, %d retries", h.answer(o), o.Body, len(calls))
	}
	c := calls[0]
	if c.Method != "POST" || string(c.Body) != `{"x":1}` || len(c.Headers) != 2 || c.Headers[1] != (upstream.Field{Name: "x-seen", Value: "yes"}) {
		t.Errorf("retry call %+v", c)
	}
}
