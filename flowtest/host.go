package flowtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/flat"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Host is the flowengine.Host of one test-request: it stands where Envoy
// stands in production. The request body is known up front; a forward
// (proxy-request, x-flat-proxy) becomes the side call "main" through the
// test's client — its backend flows, or the network when the test
// registers none — with the forward's mutation applied to the request.
type Host struct {
	req      *flowengine.Request
	body     []byte
	calls    upstream.Client
	resp     *flowengine.Response
	respBody []byte
}

// NewHost returns the host of one test-request (flat.TestOptions.NewHost).
func NewHost(req *flowengine.Request, body []byte, calls upstream.Client) flat.TestHost {
	return &Host{req: req, body: body, calls: calls}
}

// RequestBody implements flowengine.Host.
func (h *Host) RequestBody(context.Context) ([]byte, error) { return h.body, nil }

// Envoy's local replies for a forward whose upstream fails (router.cc
// onUpstreamReset and onResponseTimeout), as the Envoy-faithful client
// (package envoy) produces them.
const (
	connectFailureBody    = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
	connectFailureDetails = "upstream_reset_before_response_started{connection_failure}"
	terminationBody       = "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
	terminationDetails    = "upstream_reset_before_response_started{connection_termination}"
	timeoutBody           = "upstream request timeout"
	timeoutDetails        = "response_timeout"
)

// Forward implements flowengine.Host: the mutated request goes to the
// client as the call "main". A ":method" in the mutation's SetHeaders is
// the call's method (as Envoy applies a :method header mutation), not a
// header; other pseudo-headers are the mutation's Scheme, Authority and
// Path and are refused here. A call that fails to connect or times out
// gets what Envoy answers then: its local reply (503, or 504 for a
// timeout) with Response.CodeDetails saying why, not an error.
func (h *Host) Forward(ctx context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	if h.resp != nil {
		return nil, errors.New("forward called twice")
	}
	if m == nil {
		m = &flowengine.Mutation{}
	}
	scheme, authority, path, method := h.req.Scheme, h.req.Authority, h.req.Path, h.req.Method
	if m.Scheme != "" {
		scheme = m.Scheme
	}
	if m.Authority != "" {
		authority = m.Authority
	}
	if m.Path != "" {
		path = m.Path
	}
	changed := map[string]bool{}
	for _, n := range m.RemoveHeaders {
		changed[strings.ToLower(n)] = true
	}
	var set []flowengine.Header
	for _, hd := range m.SetHeaders {
		name := strings.ToLower(hd.Name)
		switch {
		case name == ":method":
			if hd.Value == "" {
				return nil, errors.New("forward: empty :method")
			}
			method = hd.Value
			continue
		case strings.HasPrefix(name, ":"):
			return nil, fmt.Errorf("forward: pseudo-header %s cannot be set as a header", hd.Name)
		}
		changed[name] = true
		set = append(set, hd)
	}
	c := &upstream.Call{ID: "main", Method: method, URL: scheme + "://" + authority + path, Body: h.body}
	for _, hd := range h.req.Headers {
		if !changed[hd.Name] {
			c.Headers = append(c.Headers, upstream.Field{Name: hd.Name, Value: hd.Value})
		}
	}
	for _, hd := range append(set, m.AddHeaders...) {
		c.Headers = append(c.Headers, upstream.Field{Name: hd.Name, Value: hd.Value})
	}
	if m.BodySet {
		c.Body = m.Body
	}
	res, err := h.calls.Do(ctx, c)
	if err != nil {
		return nil, err
	}
	if res.Err != nil {
		return h.localReply(res.Err)
	}
	resp := &flowengine.Response{Status: res.Status, BodyKnownEmpty: len(res.Body) == 0, CodeDetails: "via_upstream"}
	for name, vals := range res.Header {
		for _, v := range vals {
			resp.Headers = append(resp.Headers, flowengine.Header{Name: strings.ToLower(name), Value: v})
		}
	}
	slices.SortStableFunc(resp.Headers, func(a, b flowengine.Header) int { return strings.Compare(a.Name, b.Name) })
	h.resp, h.respBody = resp, res.Body
	return resp, nil
}

// localReply is Envoy's answer to a forward whose call failed with e: a
// connect or TLS failure is the router's 503 for a connection failure, an
// exchange that broke after connecting its 503 for a connection
// termination, a timeout its 504. Failures Envoy has no local reply for (a
// cancelled run, a call that cannot be made, an unmocked call in a test)
// stay errors.
func (h *Host) localReply(e *upstream.Error) (*flowengine.Response, error) {
	var status int
	var body, details string
	switch e.Kind {
	case upstream.KindConnect, upstream.KindTLS:
		status, body, details = 503, connectFailureBody, connectFailureDetails
	case upstream.KindHTTP:
		status, body, details = 503, terminationBody, terminationDetails
	case upstream.KindTimeout:
		status, body, details = 504, timeoutBody, timeoutDetails
	default:
		return nil, e
	}
	resp := &flowengine.Response{Status: status, CodeDetails: details, Headers: []flowengine.Header{
		{Name: "content-length", Value: strconv.Itoa(len(body))}, {Name: "content-type", Value: "text/plain"}}}
	h.resp, h.respBody = resp, []byte(body)
	return resp, nil
}

// ResponseBody implements flowengine.Host.
func (h *Host) ResponseBody(context.Context) ([]byte, error) {
	if h.resp == nil {
		return nil, flowengine.ErrBodyUnavailable
	}
	return h.respBody, nil
}

// Upstream implements flat.TestHost.
func (h *Host) Upstream() (*flowengine.Response, []byte) { return h.resp, h.respBody }

var _ flat.TestHost = (*Host)(nil)
