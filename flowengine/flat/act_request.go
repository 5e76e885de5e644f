package flat

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/upstream"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

func init() {
	registerAction("request", &actionSpec{attrs: []string{"content", "url", "method", "src"}, compile: compileRequest})
	registerAction("requests", &actionSpec{attrs: []string{"src"}, compile: compileRequests})
}

// requestsConcurrency bounds the calls one <requests> runs at a time.
const requestsConcurrency = upstream.DefaultConcurrency

// requestAction is <request content url method>{…}</request>: one side call
// made by flowproc itself while Envoy waits (FLAT docs: the request action).
type requestAction struct {
	t               *tmpl
	id, url, method value
}

func compileRequest(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &requestAction{t: c.template(f, e, true), id: value{lit: "main"}}
	if a.t == nil {
		return nil
	}
	if at, ok := e.Attr("content"); ok {
		a.id = c.value(f, at)
	}
	if at, ok := e.Attr("url"); ok {
		a.url = c.value(f, at)
	}
	if at, ok := e.Attr("method"); ok {
		a.method = c.value(f, at)
	}
	if _, hasSrc := e.Attr("src"); !hasSrc && !strings.Contains(e.Text, "{{") {
		if err := checkStaticConfig([]byte(e.Text), func(cfg *dom.Node) error {
			_, err := (*run)(nil).buildCall(cfg, requestDefaults{id: "main", url: a.url.lit, method: a.method.lit})
			return err
		}); err != nil {
			c.errf(f, e.Line, e.Col, diag.BadContent, "request: %v", err)
			return nil
		}
	}
	return a
}

// checkStaticConfig parses a template body without commands, the same on
// every request, and checks it at load.
func checkStaticConfig(text []byte, check func(*dom.Node) error) error {
	doc, err := oxn.Parse(text, 512)
	if err != nil {
		return fmt.Errorf("the configuration is not valid JSON: %w", err)
	}
	return check(doc.FirstElement())
}

func (a *requestAction) Run(r *run, s *step) (ctrl, error) {
	cfg, err := r.renderConfig(a.t, s, "request")
	if err != nil {
		return ctrlNext, err
	}
	var def requestDefaults
	if def.id, err = a.id.eval(r); err != nil {
		return ctrlNext, err
	}
	if def.url, err = a.url.eval(r); err != nil {
		return ctrlNext, err
	}
	if def.method, err = a.method.eval(r); err != nil {
		return ctrlNext, err
	}
	if def.id == "" {
		def.id = "main"
	}
	call, err := r.buildCall(cfg, def)
	if err != nil {
		return ctrlNext, configError(s, "request", err)
	}
	return ctrlNext, r.sideCalls([]*upstream.Call{call})
}

// renderConfig renders a request template and parses it as JSON.
func (r *run) renderConfig(t *tmpl, s *step, what string) (*dom.Node, error) {
	out, err := r.render(t, input{kind: inMain})
	if err != nil {
		return nil, err
	}
	doc, err := r.slab.Parse(out, r.p.opts.maxDepth())
	if err != nil {
		return nil, configError(s, what, fmt.Errorf("the configuration is not valid JSON: %w", err))
	}
	return doc.FirstElement(), nil
}

// configError is a request configuration error: a flow error naming the
// action's place.
func configError(s *step, what string, err error) error {
	return &flowError{status: 500, code: 5000, message: "FlowError",
		info: []string{fmt.Sprintf("%s:%d: %s: %v", s.At.File, s.At.Line, what, err)}, cause: err}
}

// requestsAction is <requests>{"id": {…}, …}</requests>: several side
// calls run concurrently, at most requestsConcurrency at a time
// (FLAT docs: the requests action). The configuration may also come from
// src="file.json" or src="$variable".
type requestsAction struct {
	t      *tmpl
	srcVar string
}

func compileRequests(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &requestsAction{}
	if at, ok := e.Attr("src"); ok && strings.HasPrefix(at.Value, "$") {
		if !varName.MatchString(at.Value) {
			c.errf(f, at.Line, at.Col, diag.BadVariable, "src=%q: not a variable name", at.Value)
			return nil
		}
		if strings.TrimSpace(e.Text) != "" {
			c.errf(f, e.Line, e.Col, diag.BadContent, "<requests> has both src= and a body")
		}
		a.srcVar = at.Value[1:]
		return a
	}
	if a.t = c.template(f, e, true); a.t == nil {
		return nil
	}
	if _, hasSrc := e.Attr("src"); !hasSrc && !strings.Contains(e.Text, "{{") {
		if err := checkStaticConfig([]byte(e.Text), func(cfg *dom.Node) error {
			_, err := (*run)(nil).buildCalls(cfg)
			return err
		}); err != nil {
			c.errf(f, e.Line, e.Col, diag.BadContent, "requests: %v", err)
			return nil
		}
	}
	return a
}

func (a *requestsAction) Run(r *run, s *step) (ctrl, error) {
	var cfg *dom.Node
	if a.srcVar != "" {
		v, _ := r.Var(a.srcVar)
		cfg = contextOf(v)
		if cfg == nil {
			return ctrlNext, configError(s, "requests", fmt.Errorf("$%s holds no configuration", a.srcVar))
		}
	} else {
		var err error
		if cfg, err = r.renderConfig(a.t, s, "requests"); err != nil {
			return ctrlNext, err
		}
	}
	calls, err := r.buildCalls(cfg)
	if err != nil {
		return ctrlNext, configError(s, "requests", err)
	}
	return ctrlNext, r.sideCalls(calls)
}

// buildCalls reads a requests object: request ID → configuration. An "id"
// inside an entry is ignored (the key is the ID).
func (r *run) buildCalls(cfg *dom.Node) ([]*upstream.Call, error) {
	if oxn.TypeOf(cfg) != oxn.Object {
		return nil, fmt.Errorf("the configuration must be a JSON object mapping request IDs to requests")
	}
	var calls []*upstream.Call
	for m := cfg.FirstChild; m != nil; m = m.NextSibling {
		if m.Type != dom.ElementNode {
			continue
		}
		id := oxn.Key(m)
		if id == "" {
			return nil, fmt.Errorf("a request ID is empty")
		}
		if c := m.Child("id"); c != nil {
			c.Detach()
		}
		call, err := r.buildCall(m, requestDefaults{id: id})
		if err != nil {
			return nil, fmt.Errorf("%q: %w", id, err)
		}
		call.ID = id
		calls = append(calls, call)
	}
	return calls, nil
}

// sideCalls makes the calls (concurrently when there are several) and
// records their results in call order.
func (r *run) sideCalls(calls []*upstream.Call) error {
	r.sideState().called = true
	for _, c := range calls {
		if err := r.budget.Step(); err != nil {
			return err
		}
		r.prepareCall(c)
	}
	// Upstream OpenAPI checks first: a mocked or refused call is not sent.
	results := make([]*upstream.Result, len(calls))
	var send []*upstream.Call
	var sendAt []int
	for i, c := range calls {
		res, err := r.checkBefore(c)
		if err != nil {
			return err
		}
		if res != nil {
			results[i] = res
			continue
		}
		send, sendAt = append(send, c), append(sendAt, i)
	}
	client := r.client()
	switch len(send) {
	case 0:
	case 1:
		res, err := client.Do(r.x.Ctx, send[0])
		if err != nil {
			return err
		}
		results[sendAt[0]] = res
	default:
		for j, res := range upstream.DoAll(r.x.Ctx, client, send, requestsConcurrency) {
			results[sendAt[j]] = res
		}
	}
	if err := r.x.Ctx.Err(); err != nil {
		return err // Envoy or the client went away: nothing to answer
	}
	for i, res := range results {
		r.checkAfter(calls[i], res)
	}
	var first error
	for i, res := range results {
		if err := r.recordResult(calls[i], res); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// prepareCall applies the project's timeout defaults, the run's remaining
// time and the client facts a call's options ask for.
func (r *run) prepareCall(c *upstream.Call) {
	d := r.p.upDefaults
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = d.ConnectTimeout
	}
	if c.TTFBTimeout <= 0 {
		c.TTFBTimeout = d.TTFBTimeout
	}
	if d.MaxTimeout > 0 {
		c.Timeout = min(c.Timeout, d.MaxTimeout)
		c.ConnectTimeout = min(c.ConnectTimeout, d.MaxTimeout)
		c.TTFBTimeout = min(c.TTFBTimeout, d.MaxTimeout)
	}
	// No call may outlast the run: its timeout is cut to what is left.
	c.Timeout = max(r.budget.Cap(c.Timeout), 1)
	if uc, _ := c.Extra.(*upCheck); uc != nil {
		uc.dir = r.dir
	}
	if r.side != nil && r.side.forceBackendHTTPS && strings.HasPrefix(c.URL, "http://") {
		c.URL = "https://" + c.URL[len("http://"):]
	}
	if r.side != nil {
		c.Headers = append(c.Headers, r.side.jwtHeaders...)
	}
	if c.SendXForwardedFor {
		c.ClientIP = r.x.Req.ClientInfo().Address
		c.ForwardedFor = r.header("x-forwarded-for")
		if c.ClientIP == "" {
			c.SendXForwardedFor = c.ForwardedFor != ""
		}
	}
	if c.Cache.RespectClientCacheHeaders {
		c.Cache.ClientCacheControl = r.header("cache-control")
		c.Cache.ClientPragma = r.header("pragma")
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = r.budget.DecodedLeft()
	}
}

// recordResult fills $upstream/<id> and fit://request/content/<id>, sets
// the response headers the call asked for, and turns a failure into the
// error flow when the call had exit-on-error.
func (r *run) recordResult(c *upstream.Call, res *upstream.Result) error {
	sl := &r.slab
	entry := sl.object(c.ID)
	u := res.URL
	if u == "" {
		u = c.URL
	}
	entry.AppendChild(sl.str("url", u))
	entry.AppendChild(sl.scalar("status", "number", strconv.Itoa(res.Status)))
	entry.AppendChild(sl.scalar("cacheHit", "boolean", strconv.FormatBool(res.CacheHit)))
	hs := sl.object("headers")
	var ct string
	if res.Header != nil {
		ct = res.Header.Get("Content-Type")
		for _, name := range sortedHeader(res.Header) {
			vals := res.Header[name]
			lname := strings.ToLower(name)
			if lname == "set-cookie" { // each cookie is its own member
				for _, v := range vals {
					sl.member(hs, lname, v)
				}
				continue
			}
			sl.member(hs, lname, strings.Join(vals, ", "))
		}
	}
	entry.AppendChild(hs)
	fe, _ := res.Extra.(*flowError) // an upstream OpenAPI check failed
	if fe != nil {
		entry.AppendChild(errorObject(fe, nil, r.x.ID))
	} else if res.Err != nil {
		fe = &flowError{status: 502, code: 3209, message: "Upstream Request Failed",
			info: []string{fmt.Sprintf("Request %s failed: %s: %s", c.ID, res.Err.Kind, failureText(res.Err))}}
		if res.Err.Kind == upstream.KindTimeout {
			fe.status = 504
		}
		entry.AppendChild(errorObject(fe, nil, r.x.ID))
	}
	r.setUpstreamEntry(c.ID, entry)
	r.storeContent(c.ID, res.Body, ct)
	for i, h := range c.SetResponseHeaders {
		if i > 0 && strings.EqualFold(c.SetResponseHeaders[i-1].Name, h.Name) {
			r.x.AddResponseHeader(h.Name, h.Value)
			continue
		}
		r.x.SetResponseHeader(h.Name, h.Value)
	}
	r.logRequest(c, res)
	if fe != nil && c.ExitOnError {
		return fe
	}
	return nil
}

// failureText describes a failed call for the client without naming the
// upstream's address (the flat_request log record has the details).
func failureText(e *upstream.Error) string {
	switch e.Kind {
	case upstream.KindTimeout:
		return "the upstream did not answer in time"
	case upstream.KindConnect:
		return "the connection to the upstream failed"
	case upstream.KindTLS:
		return "the TLS handshake with the upstream failed"
	case upstream.KindTooManyRedirects:
		return "too many redirects"
	case upstream.KindCanceled:
		return "cancelled"
	case upstream.KindHTTP:
		return "the upstream broke the HTTP exchange"
	case upstream.KindBodyTooLarge, upstream.KindInvalid, upstream.KindUnmocked:
		return e.Message
	}
	return string(e.Kind)
}

// sortedHeader returns a response's header names in order, so
// $upstream/<id>/headers is the same on every run.
func sortedHeader(h map[string][]string) []string { return slices.Sorted(maps.Keys(h)) }

// logRequest writes FLAT's flat_request record for one side call
// (flat-docs administration/logging.md, "Request Log").
func (r *run) logRequest(c *upstream.Call, res *upstream.Result) {
	lg := r.p.logger()
	if !lg.Enabled(r.x.Ctx, slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{
		slog.String("type", "flat_request"),
		slog.String("requestID", r.x.ID),
		slog.String("url", c.URL),
		slog.String("method", c.Method),
		slog.Int("status", res.Status),
		slog.Int("bytes", len(res.Body)),
		slog.Float64("duration", res.Timings.Total.Seconds()),
		slog.String("id", c.ID),
		slog.Bool("cacheHit", res.CacheHit),
		slog.Bool("refresh", res.Revalidated),
	}
	if res.Header != nil {
		attrs = append(attrs, slog.String("mime", res.Header.Get("Content-Type")))
	}
	if res.Err != nil {
		attrs = append(attrs, slog.String("error", string(res.Err.Kind)), slog.String("errorMessage", res.Err.Message))
	}
	lg.LogAttrs(context.WithoutCancel(r.x.Ctx), slog.LevelInfo, "flat_request", attrs...)
}

// client is the run's side-call client: the project's, or in a test the
// backend flows.
func (r *run) client() upstream.Client {
	if r.side != nil && r.side.test != nil {
		return r.side.test.client(r)
	}
	return r.p.client()
}

// client is the project's side-call client.
func (p *Project) client() upstream.Client {
	if p.opts.Upstream != nil {
		return p.opts.Upstream
	}
	return upstream.Shared()
}
