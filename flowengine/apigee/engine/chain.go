package engine

import (
	"context"
	"strconv"

	"github.com/flowproc/flowproc/flowengine"
)

// forwardLocal runs the chained proxy of a LocalTargetConnection in
// process: its flows see this proxy's target request; when it forwards,
// its request goes to Envoy as this exchange's forward; its answer is
// this proxy's target response.
func (r *Run) forwardLocal() error {
	te := r.te
	path := te.chainPath
	if r.copySuffix {
		path += r.pathSuffix
	}
	if path == "" {
		path = "/"
	}
	if q := r.Request.QueryString(); q != "" && r.copyQuery {
		path += "?" + q
	}
	body, err := r.Request.Content()
	if err != nil {
		return err
	}
	in := r.x.Req
	req := &flowengine.Request{Method: r.Request.Verb, Scheme: in.Scheme, Authority: in.Authority, Path: path,
		Headers: append([]flowengine.Header(nil), r.Request.Headers...), ID: in.ID, BodyKnownEmpty: len(body) == 0,
		Client: *in.ClientInfo(), Trace: in.Trace}
	h := &chainHost{r: r, req: req, body: body}
	o := te.chain.Run(r.x.Ctx, req, h)
	if o.After != nil {
		r.x.AfterResponse(o.After)
	}
	m := NewResponse()
	if o.Kind == flowengine.Forwarded && h.resp != nil {
		m.Status = h.resp.Status
		m.Headers = append(m.Headers, h.resp.Headers...)
		if o.Status != 0 {
			m.Status = o.Status
		}
		for _, n := range o.RemoveHeaders {
			m.RemoveHeader(n)
		}
		for _, hd := range o.SetHeaders {
			m.SetHeader(hd.Name, hd.Value)
		}
		for _, hd := range o.AddHeaders {
			m.AddHeader(hd.Name, hd.Value)
		}
		if o.BodySet {
			m.SetContent(o.Body)
		} else {
			m.loaded, m.load = false, (*responseBody)(&r.x)
		}
	} else {
		m.Status = o.Status
		m.Headers = append(m.Headers, o.SetHeaders...)
		m.Headers = append(m.Headers, o.AddHeaders...)
		m.SetContent(o.Body)
	}
	m.ownHeaders, m.headersSet, m.statusSet = true, true, true
	r.Response = m
	if f := chainFailure(h.resp); f != nil {
		return f
	}
	if !te.successCodes.has(m.Status) {
		return &Fault{Name: "ErrorResponseCode", Code: "messaging.adaptors.http.flow.ErrorResponseCode", Status: m.Status,
			Message: "Received " + strconv.Itoa(m.Status) + " Response from Target", Response: m}
	}
	return nil
}

func chainFailure(resp *flowengine.Response) *Fault {
	if resp == nil {
		return nil
	}
	return upstreamFailure(resp)
}

// chainHost is the Host of a chained proxy: its body is the caller's
// target request body, and its forward is the caller's forward.
type chainHost struct {
	r    *Run
	req  *flowengine.Request
	body []byte
	resp *flowengine.Response
}

func (h *chainHost) RequestBody(context.Context) ([]byte, error) { return h.body, nil }

// Forward applies the chained proxy's mutation to the request it got and
// sends the result upstream as the caller's forward, relative to what
// Envoy sent.
func (h *chainHost) Forward(_ context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	r := h.r
	final := &Message{Headers: append([]flowengine.Header(nil), h.req.Headers...), ownHeaders: true}
	for _, n := range m.RemoveHeaders {
		final.RemoveHeader(n)
	}
	method := h.req.Method
	for _, hd := range m.SetHeaders {
		if hd.Name == ":method" {
			method = hd.Value
			continue
		}
		final.SetHeader(hd.Name, hd.Value)
	}
	for _, hd := range m.AddHeaders {
		final.AddHeader(hd.Name, hd.Value)
	}
	f := &r.x.Fwd
	f.Scheme, f.Authority, f.Path = m.Scheme, m.Authority, m.Path
	if f.Path == "" {
		f.Path = h.req.Path
	}
	if method != r.x.Req.Method {
		f.SetHeaders = append(f.SetHeaders, flowengine.Header{Name: ":method", Value: method})
	}
	f.SetHeaders, f.RemoveHeaders = headerDiff(r.x.Req.Headers, final.Headers, f.SetHeaders, f.RemoveHeaders)
	switch {
	case m.BodySet:
		f.Body, f.BodySet = m.Body, true
	case r.Request.contentSet:
		f.Body, f.BodySet = h.body, true
	}
	r.forwarded = true
	resp, err := r.x.Forward()
	if err != nil {
		return nil, err
	}
	h.resp = resp
	return resp, nil
}

func (h *chainHost) ResponseBody(ctx context.Context) ([]byte, error) { return h.r.x.ResponseBody() }
