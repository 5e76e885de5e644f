package flowtest

import (
	"context"
	"errors"
	"slices"
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

// Forward implements flowengine.Host: the mutated request goes to the
// client as the call "main".
func (h *Host) Forward(ctx context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	if h.resp != nil {
		return nil, errors.New("forward called twice")
	}
	scheme, authority, path := h.req.Scheme, h.req.Authority, h.req.Path
	if m.Scheme != "" {
		scheme = m.Scheme
	}
	if m.Authority != "" {
		authority = m.Authority
	}
	if m.Path != "" {
		path = m.Path
	}
	c := &upstream.Call{ID: "main", Method: h.req.Method, URL: scheme + "://" + authority + path, Body: h.body}
	changed := map[string]bool{}
	for _, n := range m.RemoveHeaders {
		changed[strings.ToLower(n)] = true
	}
	for _, hd := range m.SetHeaders {
		changed[strings.ToLower(hd.Name)] = true
	}
	for _, hd := range h.req.Headers {
		if !changed[hd.Name] {
			c.Headers = append(c.Headers, upstream.Field{Name: hd.Name, Value: hd.Value})
		}
	}
	for _, hd := range append(append([]flowengine.Header(nil), m.SetHeaders...), m.AddHeaders...) {
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
		return nil, res.Err
	}
	resp := &flowengine.Response{Status: res.Status, BodyKnownEmpty: len(res.Body) == 0}
	for name, vals := range res.Header {
		for _, v := range vals {
			resp.Headers = append(resp.Headers, flowengine.Header{Name: strings.ToLower(name), Value: v})
		}
	}
	slices.SortStableFunc(resp.Headers, func(a, b flowengine.Header) int { return strings.Compare(a.Name, b.Name) })
	h.resp, h.respBody = resp, res.Body
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
