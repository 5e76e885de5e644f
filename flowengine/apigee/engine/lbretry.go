package engine

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// RetryCallID is the upstream.Call ID of a request resent to the next
// LoadBalancer server (mocks answer by it).
const RetryCallID = "apigee-target-retry"

// failover counts the target's answer against the server the
// LoadBalancer picked and, when it failed and RetryEnabled, resends the
// request to the other servers in rotation, one after the other.
//
// Apigee sends the request itself and resends it on a failure. Here Envoy
// forwarded it; flowproc, seeing the failure in the response phase,
// resends it through the side-call client (path, query, verb, headers and
// body as the target request had them) and answers with the first
// response that is not a failure. That works only when the request can be
// replayed: it had no body, or the flows read it (then it is buffered).
// Otherwise, or when every server fails, the first failure goes on as
// without retries. It returns the response the run goes on with.
func (r *Run) failover(resp *flowengine.Response, path string) *flowengine.Response {
	lb := r.te.lb
	failed := lb.failed(resp)
	lb.record(r.lbServer, failed)
	if !failed || !lb.retry || !r.Request.loaded || r.Request.loadErr != nil {
		return resp
	}
	tried := bit(r.lbServer.idx)
	for range len(lb.servers) - 1 {
		s := lb.pick(tried)
		if s == nil {
			break
		}
		tried |= bit(s.idx)
		call := r.retryCall(s, path)
		res, err := r.p.opts.Upstream.Do(r.x.Ctx, call)
		if r.x.Ctx.Err() != nil {
			break // the client went away: the run ends as it does then
		}
		ok := err == nil && res.Err == nil && !slices.Contains(lb.unhealthy, res.Status)
		lb.record(s, !ok)
		r.p.opts.Logger.Debug("apigee LoadBalancer retry", "requestID", r.x.ID, "project", r.p.name, "failed", r.lbServer.name, "server", s.name, "ok", ok)
		if !ok {
			continue
		}
		r.lbServer, r.retryURL = s, call.URL
		m := &Message{Status: res.Status, Headers: responseHeaders(res.Header), Version: "1.1", content: res.Body, loaded: true, ownHeaders: true}
		r.Response = m
		return &flowengine.Response{Status: res.Status, Headers: m.Headers, CodeDetails: "via_upstream", BodyKnownEmpty: len(res.Body) == 0}
	}
	return resp
}

func bit(i int) uint64 {
	if i >= 64 {
		return 0
	}
	return 1 << i
}

// retryCall is the target request as it went to Envoy, addressed to s.
func (r *Run) retryCall(s *lbServer, path string) *upstream.Call {
	req := r.Request
	c := &upstream.Call{ID: RetryCallID, Method: req.Verb, URL: s.u.Scheme + "://" + s.u.Host + path, Body: req.content, MaxBodyBytes: r.p.opts.MaxBodyBytes}
	for _, h := range req.Headers {
		if !hopByHop(h.Name) {
			c.Headers = append(c.Headers, upstream.Field{Name: h.Name, Value: h.Value})
		}
	}
	if t := r.te.ioTimeout; t != "" {
		ms, _ := strconv.Atoi(t) // checked at load
		c.Timeout = time.Duration(ms) * time.Millisecond
	}
	return c
}

// hopByHop reports headers a resent request does not copy: pseudo
// headers, the connection's own, and Host (the new server's).
func hopByHop(name string) bool {
	if strings.HasPrefix(name, ":") {
		return true
	}
	switch strings.ToLower(name) {
	case "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade", "content-length", "trailer":
		return true
	}
	return false
}

// responseHeaders turns a side call's headers into the message's, in a
// stable order.
func responseHeaders(h http.Header) []flowengine.Header {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]flowengine.Header, 0, len(names))
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, flowengine.Header{Name: strings.ToLower(k), Value: v})
		}
	}
	return out
}
