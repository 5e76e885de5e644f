package flat

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/flowproc/flowproc/flowengine/oasvalidate"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// proxy-request with "options" (FLAT docs: proxy-request: the same options
// as request — timeouts, TLS, client certificates, proxies, transport
// overrides, redirects, the HTTP cache, exit-on-error …). Envoy's forward
// cannot honour per-request TLS, proxy or cache settings, so flowproc
// makes such a call itself with the side-call client, exactly as for
// request, and answers with the upstream's status, headers and body:
// $upstream/main and fit://request/content/main are filled as for a
// forward, and the rest of the flow post-processes the response. Without
// options the request is forwarded through Envoy.

// hopByHop are headers a proxy does not pass on (RFC 9110 §7.6.1), plus
// those the side-call client sets itself.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "te": true, "trailer": true,
	"transfer-encoding": true, "upgrade": true, "content-length": true, "host": true,
}

// proxyByCall makes the proxy request as a side call; f (r.x.Fwd) holds
// the path, query and header changes proxy() computed.
func (r *run) proxyByCall(spec *proxySpec, target *url.URL) error {
	r.sideState().called = true
	f := &r.x.Fwd
	s := r.sideState()
	if s.proxied {
		return &flowError{status: 500, code: 5002, message: "FlowError", info: []string{"the request was already forwarded; proxy-request can run once per request"}}
	}
	s.proxied = true
	c := &upstream.Call{ID: "main", Method: r.x.Req.Method, URL: target.Scheme + "://" + authorityOf(target) + f.Path}
	removed := map[string]bool{}
	for _, n := range f.RemoveHeaders {
		removed[n] = true
	}
	set := map[string]bool{}
	for _, h := range f.SetHeaders {
		set[h.Name] = true
	}
	for _, h := range r.x.Req.Headers {
		if hopByHop[h.Name] || removed[h.Name] || set[h.Name] {
			continue
		}
		c.Headers = append(c.Headers, upstream.Field{Name: h.Name, Value: h.Value})
	}
	for _, h := range f.SetHeaders {
		c.Headers = append(c.Headers, upstream.Field{Name: h.Name, Value: h.Value})
	}
	if !r.x.Req.BodyKnownEmpty {
		if err := r.ensureBody(); err != nil {
			return err
		}
		b, err := r.x.RequestBody()
		if err != nil {
			return &flowError{status: 502, code: 3205, message: "Request body unavailable", info: []string{err.Error()}, cause: err}
		}
		c.Body = b
	}
	var raw string
	if err := r.applyOptions(c, spec.options, &raw); err != nil {
		return fmt.Errorf("proxy-request: options: %w", err)
	}
	// The forward was not sent through Envoy: nothing of it remains.
	f.Path, f.Authority, f.Scheme, f.SetHeaders, f.RemoveHeaders = "", "", "", nil, nil
	if uc, _ := c.Extra.(*upCheck); uc != nil && uc.definition != "" {
		// With a definition, proxy-request validates both directions and
		// exits on error unless the options say otherwise (flat-docs
		// reference/actions/proxy-request.md; CHANGELOG).
		if !uc.reqSet {
			uc.req = oasvalidate.On
		}
		if !uc.respSet {
			uc.resp = oasvalidate.On
		}
		if !uc.exitSet {
			c.ExitOnError = true
		}
	}
	r.prepareCall(c)
	res, err := r.checkBefore(c)
	if err != nil {
		return err
	}
	if res == nil {
		if res, err = r.client().Do(r.x.Ctx, c); err != nil {
			return err
		}
	}
	if err := r.x.Ctx.Err(); err != nil {
		return err
	}
	r.checkAfter(c, res)
	if fe, _ := res.Extra.(*flowError); fe != nil {
		r.x.Resp.Status = fe.status
	} else if res.Err == nil {
		r.x.Resp.Status = res.Status
		for _, name := range sortedHeader(res.Header) {
			vals := res.Header[name]
			lname := strings.ToLower(name)
			if hopByHop[lname] || lname == "content-type" {
				continue
			}
			for i, v := range vals {
				if i == 0 {
					r.x.SetResponseHeader(lname, v)
				} else {
					r.x.AddResponseHeader(lname, v)
				}
			}
		}
	} else {
		r.x.Resp.Status = http.StatusBadGateway
		if res.Err.Kind == upstream.KindTimeout {
			r.x.Resp.Status = http.StatusGatewayTimeout
		}
	}
	return r.recordResult(c, res)
}
