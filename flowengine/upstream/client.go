package upstream

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/flowproc/flowproc/flowengine/store"
)

// Client makes side calls. Upstream failures are reported in the Result;
// the error is only for misuse (a nil Call).
type Client interface {
	Do(ctx context.Context, c *Call) (*Result, error)
}

// ErrNilCall is returned by Do for a nil Call.
var ErrNilCall = errors.New("upstream: nil call")

// HTTPOptions configure NewHTTP.
type HTTPOptions struct {
	// Defaults for calls; zero fields take StandardDefaults values.
	Defaults Defaults
	// Cache stores responses for calls with CacheOptions; nil disables the
	// HTTP cache (such calls then go to the network every time).
	Cache store.Cache
	// RootCAs verify upstream certificates; nil means the system pool.
	RootCAs *x509.CertPool
	// MaxTransports bounds the shared transports kept (one per distinct
	// TLS / proxy / connect-to / reuse configuration); 0 means 64.
	MaxTransports int
	// Now is the clock for cache freshness; nil means time.Now.
	Now func() time.Time
}

// HTTP is the production Client: net/http with one shared Transport per
// distinct connection configuration, and an optional RFC 9111 cache.
type HTTP struct {
	defaults   Defaults
	cache      store.Cache
	transports *transports
	now        func() time.Time
}

// NewHTTP returns an HTTP client.
func NewHTTP(o HTTPOptions) *HTTP {
	d, std := o.Defaults, StandardDefaults()
	if d.Timeout <= 0 {
		d.Timeout = std.Timeout
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = std.MaxBodyBytes
	}
	if d.MaxRedirects <= 0 {
		d.MaxRedirects = std.MaxRedirects
	}
	if d.UserAgent == "" {
		d.UserAgent = std.UserAgent
	}
	if d.RevalidateGrace <= 0 {
		d.RevalidateGrace = std.RevalidateGrace
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	backstop := 30 * time.Second
	if d.MaxTimeout > 0 {
		backstop = d.MaxTimeout
	}
	return &HTTP{defaults: d, cache: o.Cache, transports: newTransports(o.MaxTransports, o.RootCAs, backstop), now: now}
}

// Defaults returns the resolved defaults the client applies.
func (h *HTTP) Defaults() Defaults { return h.defaults }

// CloseIdleConnections closes idle connections of all shared transports.
func (h *HTTP) CloseIdleConnections() { h.transports.closeIdle() }

// Do performs one call. It returns promptly when ctx is cancelled. When
// ctx carries an OpenTelemetry span the call gets a client span and sends
// traceparent; when it carries an Observer (ObservedContext) the call is
// reported to it.
func (h *HTTP) Do(ctx context.Context, c *Call) (*Result, error) {
	if c == nil {
		return nil, ErrNilCall
	}
	obs := observerFrom(ctx)
	if obs == nil {
		return h.do(ctx, c), nil
	}
	start := time.Now()
	r := h.do(ctx, c)
	obs.ObserveCall(c, r, time.Since(start))
	return r, nil
}

// do is Do for a non-nil call.
func (h *HTTP) do(ctx context.Context, c *Call) (r *Result) {
	if err := ctx.Err(); err != nil {
		kind := KindCanceled
		if errors.Is(err, context.DeadlineExceeded) {
			kind = KindTimeout
		}
		return failed(c, kind, err.Error())
	}
	req, e := h.buildRequest(c)
	if e != nil {
		return &Result{ID: c.ID, URL: redactURL(c.URL), Err: e}
	}
	ctx, sp := startCallSpan(ctx, c, req)
	if sp != nil {
		defer func() { endCallSpan(sp, r) }()
	}
	tr, e := h.transports.get(c, dialAddr(req))
	if e != nil {
		return &Result{ID: c.ID, URL: redactURL(c.URL), Err: e}
	}
	if h.cache != nil && c.Cache.enabled() && req.Method == http.MethodGet && req.ContentLength == 0 {
		return h.cached(ctx, c, req, tr)
	}
	r = h.send(ctx, c, req, tr)
	if h.cache != nil && !r.Failed() && r.Status < 400 && unsafeMethod(req.Method) {
		h.invalidate(ctx, c, req, r)
	}
	return r
}

// send performs the network exchange for an already built request.
func (h *HTTP) send(parent context.Context, c *Call, req *http.Request, tr *http.Transport) *Result {
	to := h.defaults.resolveTimeouts(c)
	ctx, cancelTotal := context.WithTimeoutCause(parent, to.total, errTotalTimeout)
	defer cancelTotal()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	k := &tracker{start: time.Now(), connectTO: to.connect, ttfbTO: to.ttfb, cancel: cancel}
	k.deadline, _ = ctx.Deadline()
	ctx = context.WithValue(ctx, dialDeadlineKey{}, k)
	req = req.WithContext(httptrace.WithClientTrace(ctx, k.clientTrace()))

	maxRedirects := c.MaxRedirects
	if maxRedirects <= 0 {
		maxRedirects = h.defaults.MaxRedirects
	}
	redirects := 0
	hc := &http.Client{
		Transport: tr,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if !c.FollowRedirects {
				return http.ErrUseLastResponse
			}
			if len(via) > maxRedirects {
				return errTooManyRedirects
			}
			redirects = len(via)
			return nil
		},
	}
	resp, err := hc.Do(req)
	r := &Result{ID: c.ID, URL: req.URL.Redacted()}
	if err != nil {
		r.Timings, r.ConnReused = k.finish()
		r.Redirects = redirects
		kind, msg := classify(err, parent, ctx)
		r.Err = &Error{Kind: kind, Message: msg}
		return r
	}
	defer resp.Body.Close()
	r.URL = resp.Request.URL.Redacted()
	r.Redirects = redirects
	limit := c.MaxBodyBytes
	if limit <= 0 {
		limit = h.defaults.MaxBodyBytes
	}
	// A HEAD, 204 or 304 answer has no body whatever its Content-Length says.
	if resp.ContentLength > limit && bodyAllowed(req.Method, resp.StatusCode) {
		r.Timings, r.ConnReused = k.finish()
		r.Err = &Error{Kind: KindBodyTooLarge, Message: fmt.Sprintf("response body of %d bytes is over the %d-byte limit", resp.ContentLength, limit)}
		return r
	}
	body, err := readBody(resp.Body, resp.ContentLength, limit)
	r.Timings, r.ConnReused = k.finish()
	if errors.Is(err, errBodyTooLarge) {
		r.Err = &Error{Kind: KindBodyTooLarge, Message: fmt.Sprintf("response body is over the %d-byte limit", limit)}
		return r
	}
	if err != nil {
		kind, msg := classify(err, parent, ctx)
		r.Err = &Error{Kind: kind, Message: "reading the response body: " + msg}
		return r
	}
	r.Status, r.Header, r.Body = resp.StatusCode, resp.Header, body
	return r
}

var errBodyTooLarge = errors.New("body too large")

// bodyAllowed reports whether a response to method with status can carry
// a body (RFC 9110 §6.4.1).
func bodyAllowed(method string, status int) bool {
	return method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified &&
		(status < 100 || status > 199)
}

// readBody reads at most limit bytes; one more is errBodyTooLarge.
func readBody(rd io.Reader, size, limit int64) ([]byte, error) {
	capHint := int64(512)
	if size > 0 && size <= limit {
		capHint = min(size+1, 1<<20) // a Content-Length is a claim, not bytes received
	}
	buf := make([]byte, 0, capHint)
	lr := &io.LimitedReader{R: rd, N: limit + 1}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// dialAddr is the host:port net/http dials for a request without a proxy.
func dialAddr(req *http.Request) string {
	port := req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(req.URL.Hostname(), port)
}

// unsafeMethod reports whether a method may change the target (RFC 9110
// §9.2.1), so a stored response for its URL must be invalidated.
func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}
