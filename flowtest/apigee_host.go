package flowtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// sentRequest is a request a bundle sent: to its target or as a side call.
type sentRequest struct {
	Method  string
	URL     string
	Headers []flowengine.Header
	Body    []byte
}

// path is the request's path and query.
func (s *sentRequest) path() string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return ""
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// bundleHost is the flowengine.Host of one bundle test: it stands where
// Envoy stands. The forward is answered by the test's target mocks and
// recorded, so the test can check what the target received.
type bundleHost struct {
	req  *flowengine.Request
	body []byte
	test *BundleTest

	mu       sync.Mutex
	target   *sentRequest // the forwarded request, nil before a forward
	resp     *flowengine.Response
	respBody []byte
	problems []string
}

// RequestBody implements flowengine.Host.
func (h *bundleHost) RequestBody(context.Context) ([]byte, error) { return h.body, nil }

// Forward implements flowengine.Host: the request with the mutation
// applied (":method" in SetHeaders changes the method; Scheme, Authority
// and Path make the URL) goes to the first matching target mock.
func (h *bundleHost) Forward(ctx context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.target != nil {
		return nil, errors.New("forward called twice")
	}
	sent := applyMutation(h.req, h.body, m)
	h.target = sent
	mock := h.matchTarget(sent)
	if mock == nil {
		msg := fmt.Sprintf("the bundle forwarded %s %s to its target, but the test mocks no target for it (add target: or targets:)", sent.Method, sent.URL)
		if len(h.test.Targets) > 0 {
			msg = fmt.Sprintf("the bundle forwarded %s %s to its target, but no entry of targets: matches it", sent.Method, sent.URL)
		}
		h.problems = append(h.problems, msg)
		return nil, errors.New(msg)
	}
	if mock.Error {
		// What Envoy answers when the upstream cannot be reached.
		h.resp = &flowengine.Response{Status: 503, CodeDetails: "upstream_reset_before_response_started{connection_failure}",
			Headers: []flowengine.Header{{Name: "content-type", Value: "text/plain"}}}
		h.respBody = []byte("upstream connect error or disconnect/reset before headers. reset reason: connection failure")
		return h.resp, nil
	}
	body, _ := mock.responseBody()
	resp := &flowengine.Response{Status: mock.Status, BodyKnownEmpty: len(body) == 0, CodeDetails: "via_upstream"}
	for name, vals := range mock.header() {
		for _, v := range vals {
			resp.Headers = append(resp.Headers, flowengine.Header{Name: strings.ToLower(name), Value: v})
		}
	}
	slices.SortStableFunc(resp.Headers, func(a, b flowengine.Header) int { return strings.Compare(a.Name, b.Name) })
	h.resp, h.respBody = resp, body
	return resp, nil
}

// ResponseBody implements flowengine.Host.
func (h *bundleHost) ResponseBody(context.Context) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.resp == nil {
		return nil, flowengine.ErrBodyUnavailable
	}
	return h.respBody, nil
}

func (h *bundleHost) matchTarget(s *sentRequest) *MockResponse {
	if h.test.Target != nil {
		return h.test.Target
	}
	return matchMock(h.test.Targets, s.Method, s.URL)
}

// matchMock returns the first mock whose URL prefixes u and whose method
// (when given) is method.
func matchMock(mocks []*MockResponse, method, u string) *MockResponse {
	for _, m := range mocks {
		if strings.HasPrefix(u, m.URL) && (m.Method == "" || strings.EqualFold(m.Method, method)) {
			return m
		}
	}
	return nil
}

// applyMutation returns the request the upstream gets: the client's
// request with the forward's mutation applied.
func applyMutation(req *flowengine.Request, body []byte, m *flowengine.Mutation) *sentRequest {
	scheme, authority, path := req.Scheme, req.Authority, req.Path
	if m.Scheme != "" {
		scheme = m.Scheme
	}
	if m.Authority != "" {
		authority = m.Authority
	}
	if m.Path != "" {
		path = m.Path
	}
	s := &sentRequest{Method: req.Method, URL: scheme + "://" + authority + path, Body: body}
	changed := map[string]bool{}
	for _, n := range m.RemoveHeaders {
		changed[strings.ToLower(n)] = true
	}
	for _, hd := range m.SetHeaders {
		changed[strings.ToLower(hd.Name)] = true
	}
	for _, hd := range req.Headers {
		if !changed[strings.ToLower(hd.Name)] {
			s.Headers = append(s.Headers, flowengine.Header{Name: strings.ToLower(hd.Name), Value: hd.Value})
		}
	}
	for _, hd := range append(append([]flowengine.Header(nil), m.SetHeaders...), m.AddHeaders...) {
		name := strings.ToLower(hd.Name)
		if name == ":method" {
			s.Method = hd.Value
			continue
		}
		if strings.HasPrefix(name, ":") {
			continue
		}
		s.Headers = append(s.Headers, flowengine.Header{Name: name, Value: hd.Value})
	}
	if m.BodySet {
		s.Body = m.Body
	}
	return s
}

// calloutMock is the upstream.Client of one bundle test: it answers side
// calls from the test's callout mocks and records them in order.
type calloutMock struct {
	mocks []*MockResponse

	mu       sync.Mutex
	calls    []*sentRequest
	problems []string
}

// Do implements upstream.Client.
func (c *calloutMock) Do(ctx context.Context, call *upstream.Call) (*upstream.Result, error) {
	if call == nil {
		return nil, upstream.ErrNilCall
	}
	u := call.URL
	if len(call.Query) > 0 {
		q := url.Values{}
		for _, f := range call.Query {
			q.Add(f.Name, f.Value)
		}
		if strings.Contains(u, "?") {
			u += "&" + q.Encode()
		} else {
			u += "?" + q.Encode()
		}
	}
	method := call.Method
	if method == "" {
		method = http.MethodGet
		if len(call.Body) > 0 || len(call.Uploads) > 0 {
			method = http.MethodPost
		}
	}
	sent := &sentRequest{Method: method, URL: u, Body: call.Body}
	for _, f := range call.Headers {
		sent.Headers = append(sent.Headers, flowengine.Header{Name: strings.ToLower(f.Name), Value: f.Value})
	}
	c.mu.Lock()
	c.calls = append(c.calls, sent)
	m := matchMock(c.mocks, method, u)
	if m == nil {
		c.problems = append(c.problems, fmt.Sprintf("side call %s %s is not mocked (add it to callouts:)", method, u))
	}
	c.mu.Unlock()
	res := &upstream.Result{ID: call.ID, URL: u}
	switch {
	case ctx.Err() != nil:
		res.Err = &upstream.Error{Kind: upstream.KindCanceled, Message: ctx.Err().Error()}
	case m == nil:
		res.Err = &upstream.Error{Kind: upstream.KindUnmocked, Message: "no callout mock for " + method + " " + u}
	case m.Error:
		res.Err = &upstream.Error{Kind: upstream.KindConnect, Message: "connection refused (mocked)"}
	default:
		body, _ := m.responseBody()
		res.Status, res.Header, res.Body = m.Status, m.header(), body
	}
	return res, nil
}

func (c *calloutMock) urls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.calls))
	for i, s := range c.calls {
		out[i] = s.URL
	}
	return out
}

// switchClient is the side-call client a bundle project is loaded with:
// it hands each call to the running test's calloutMock (tests run one at
// a time); between tests every call fails.
type switchClient struct {
	mu  sync.Mutex
	cur upstream.Client
}

func (s *switchClient) set(c upstream.Client) {
	s.mu.Lock()
	s.cur = c
	s.mu.Unlock()
}

// Do implements upstream.Client.
func (s *switchClient) Do(ctx context.Context, call *upstream.Call) (*upstream.Result, error) {
	s.mu.Lock()
	c := s.cur
	s.mu.Unlock()
	if c == nil {
		return &upstream.Result{ID: call.ID, URL: call.URL, Err: &upstream.Error{Kind: upstream.KindUnmocked, Message: "side call outside a test"}}, nil
	}
	return c.Do(ctx, call)
}
