package envoy

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// hopByHop are connection-specific headers a proxy never forwards (RFC 9110
// §7.6.1); Envoy's codecs drop them the same way.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true,
}

// Proxy is an http.Handler that plays Envoy for local use: each request
// goes through the Client (the ext_proc filter) to the Upstream (the
// router), and the client gets what Envoy would send. flowproc dev and the
// e2e tests run on it.
type Proxy struct {
	// Client is the Envoy-faithful ext_proc client.
	Client *Client
	// Upstream is where forwarded requests go.
	Upstream Upstream
	// MaxBody bounds a downstream request body read into memory (default
	// 16 MiB); larger requests are answered 413 as Envoy's buffer limit
	// would.
	MaxBody int64
	// OnDone, when set, is called after each request with what happened.
	OnDone func(r *http.Request, resp *HTTPResponse, d time.Duration)
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, err := FromHTTPRequest(r, p.maxBody())
	if err != nil {
		status := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), status)
		return
	}
	resp, err := p.Client.Do(r.Context(), req, p.Upstream)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	WriteHTTPResponse(w, resp)
	if p.OnDone != nil {
		p.OnDone(r, resp, time.Since(start))
	}
}

func (p *Proxy) maxBody() int64 {
	if p.MaxBody > 0 {
		return p.MaxBody
	}
	return 16 << 20
}

// FromHTTPRequest converts a net/http server request into the filter's
// view: pseudo-headers, lower-case regular headers in order (Host becomes
// :authority), the whole body and any trailers.
func FromHTTPRequest(r *http.Request, maxBody int64) (*HTTPRequest, error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req := &HTTPRequest{Method: r.Method, Scheme: scheme, Authority: r.Host, Path: r.URL.RequestURI(),
		Downstream: downstreamOf(r)}
	for name, vals := range r.Header {
		lname := strings.ToLower(name)
		if hopByHop[lname] {
			continue
		}
		for _, v := range vals {
			req.Headers = append(req.Headers, Header{Name: lname, Value: v})
		}
	}
	if r.ContentLength > 0 && r.Header.Get("content-length") == "" {
		req.Headers = append(req.Headers, Header{Name: "content-length", Value: fmt.Sprint(r.ContentLength)})
	}
	sortHeaders(req.Headers)
	if r.Body != nil {
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		req.Body = body
	}
	for name, vals := range r.Trailer {
		for _, v := range vals {
			req.Trailers = append(req.Trailers, Header{Name: strings.ToLower(name), Value: v})
		}
	}
	return req, nil
}

// sortHeaders orders headers by name, keeping the order of repeated values
// (net/http's map loses arrival order; a stable order keeps runs
// reproducible).
func sortHeaders(hs []Header) {
	for i := 1; i < len(hs); i++ {
		for j := i; j > 0 && hs[j].Name < hs[j-1].Name; j-- {
			hs[j], hs[j-1] = hs[j-1], hs[j]
		}
	}
}

// WriteHTTPResponse writes resp to w.
func WriteHTTPResponse(w http.ResponseWriter, resp *HTTPResponse) {
	h := w.Header()
	for _, hd := range resp.Headers {
		if hopByHop[hd.Name] || hd.Name == "content-length" {
			continue
		}
		h.Add(hd.Name, hd.Value)
	}
	for _, t := range resp.Trailers {
		h.Add(http.TrailerPrefix+t.Name, t.Value)
	}
	status := resp.Status
	if status < 100 || status > 999 {
		status = http.StatusBadGateway
	}
	if len(resp.Trailers) == 0 {
		h.Set("content-length", fmt.Sprint(len(resp.Body)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp.Body)
}

// HTTPUpstream forwards requests to a real HTTP server, as Envoy's router
// would to a cluster with one endpoint.
type HTTPUpstream struct {
	// Addr is host:port of the upstream.
	Addr string
	// Scheme is "http" (default) or "https".
	Scheme string
	// Client is the HTTP client (default: one with sane timeouts).
	Client *http.Client
}

var defaultUpstreamClient = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// RoundTrip implements Upstream.
func (u *HTTPUpstream) RoundTrip(ctx context.Context, req *HTTPRequest) (*UpstreamResponse, error) {
	scheme := u.Scheme
	if scheme == "" {
		scheme = "http"
	}
	body := req.Body
	if req.BodyChunks != nil {
		body = nil
		for _, c := range req.BodyChunks {
			body = append(body, c...)
		}
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, scheme+"://"+u.Addr+req.Path, strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("upstream request: %w", err)
	}
	hr.Host = req.Authority
	hr.ContentLength = int64(len(body))
	for _, h := range req.Headers {
		if hopByHop[h.Name] || h.Name == "content-length" {
			continue
		}
		hr.Header.Add(h.Name, h.Value)
	}
	c := u.Client
	if c == nil {
		c = defaultUpstreamClient
	}
	resp, err := c.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", u.Addr, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: read body: %w", u.Addr, err)
	}
	out := &UpstreamResponse{Status: resp.StatusCode, Body: rb}
	for name, vals := range resp.Header {
		lname := strings.ToLower(name)
		if hopByHop[lname] {
			continue
		}
		for _, v := range vals {
			out.Headers = append(out.Headers, Header{Name: lname, Value: v})
		}
	}
	sortHeaders(out.Headers)
	if len(rb) > 0 || resp.ContentLength >= 0 {
		if cl := resp.Header.Get("content-length"); cl == "" {
			out.Headers = append(out.Headers, Header{Name: "content-length", Value: fmt.Sprint(len(rb))})
		}
	}
	for name, vals := range resp.Trailer {
		for _, v := range vals {
			out.Trailers = append(out.Trailers, Header{Name: strings.ToLower(name), Value: v})
		}
	}
	return out, nil
}

// downstreamOf reads the client connection facts of r.
func downstreamOf(r *http.Request) Downstream {
	d := Downstream{Address: r.RemoteAddr}
	if r.TLS == nil {
		return d
	}
	d.SNI = r.TLS.ServerName
	d.TLSVersion = strings.Replace(tls.VersionName(r.TLS.Version), "TLS 1.", "TLSv1.", 1)
	if len(r.TLS.VerifiedChains) > 0 && len(r.TLS.PeerCertificates) > 0 {
		c := r.TLS.PeerCertificates[0]
		d.MTLS = true
		d.PeerSubject = c.Subject.String()
		if len(c.URIs) > 0 {
			d.PeerURISAN = c.URIs[0].String()
		}
		sum := sha256.Sum256(c.Raw)
		d.PeerCertDigest = hex.EncodeToString(sum[:])
	}
	return d
}
